import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers never see a half-written one: the bytes go to a temporary file in the same
/// folder (same file system), which is flushed and then renamed over the destination (rename(2) is atomic).
/// Missing parent folders are created. Other modules (checkpoints, run folders) reuse this.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.io(path: dir.path, detail: "cannot create folder: \(error.localizedDescription)")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw DatasetError.io(path: tmp.path, detail: "cannot create temporary file: \(String(cString: strerror(errno)))")
        }
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                off += n
            }
        }
        let err = errno
        if ok && fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            unlink(tmp.path)
            throw DatasetError.io(path: url.path, detail: "write failed: \(String(cString: strerror(err)))")
        }
        guard rename(tmp.path, url.path) == 0 else {
            let e = errno
            unlink(tmp.path)
            throw DatasetError.io(path: url.path, detail: "rename failed: \(String(cString: strerror(e)))")
        }
    }

    public static func write(_ string: String, to url: URL) throws { try write(Data(string.utf8), to: url) }

    /// Writes `value` as JSON (sorted keys, pretty-printed, trailing newline), atomically.
    public static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try enc.encode(value)
        data.append(0x0a)
        try write(data, to: url)
    }
}
