import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one atomic write: the bytes go to a temporary file in the same folder (same file system), which is
/// fsync'ed, renamed over the destination (rename(2) is atomic), and then the folder is fsync'ed so the rename
/// itself survives a power loss. Readers never see a half-written file; a crash leaves the old file or the new
/// one. Missing parent folders are created.
public enum AtomicWrite {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw RunFormatError(
                path: dir.path, message: "cannot create the folder (\(FolderCreation.reason(error)))",
                fix: "check permissions and free space")
        }
        let tmp = dir.appendingPathComponent(temporaryName(for: url.lastPathComponent))
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(url, "cannot create a temporary file", errno) }
        var err: Int32 = 0
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; err = errno; return }
                off += n
            }
        }
        if err == 0 && fsync(fd) != 0 { err = errno }
        close(fd)
        guard err == 0 else { unlink(tmp.path); throw failure(url, "write failed", err) }
        guard rename(tmp.path, url.path) == 0 else {
            let e = errno
            unlink(tmp.path)
            throw failure(url, "rename failed", e)
        }
        try syncDirectory(dir)
    }

    public static func write(_ string: String, to url: URL) throws { try write(Data(string.utf8), to: url) }

    // MARK: - Temporary files

    /// The temporary file a write of `name` goes through: `.<name>.<pid>.<random>.tmp`, hidden, and naming its
    /// writer so that one left by a killed process can be told from one being written.
    public static func temporaryName(for name: String, pid: Int32 = getpid()) -> String {
        ".\(name).\(pid).\(UInt32.random(in: 0...UInt32.max)).tmp"
    }

    /// The file being written and the writer's process id if `name` is one of `temporaryName`'s names, else nil.
    public static func temporaryTarget(_ name: String) -> (file: String, writer: Int32)? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropFirst().dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
        let file = parts.dropLast(2).joined(separator: ".")
        guard parts.count >= 3, !file.isEmpty, UInt32(parts[parts.count - 1]) != nil, let pid = Int32(parts[parts.count - 2]), pid > 0
        else { return nil }
        return (file, pid)
    }

    /// The writer's process id if `name` is one of `temporaryName`'s names, else nil.
    public static func temporaryWriter(_ name: String) -> Int32? { temporaryTarget(name)?.writer }

    /// Removes the temporary files, in `folder` and the folders below it, of writers that are no longer running on
    /// this machine (a `kill -9` or a power loss mid-write leaves them); a live writer's are kept, and so are those
    /// of the files named in `sparing`: files that other processes write into the folder without holding its lock
    /// (`ablate probe`, `sample --save`), perhaps on another machine sharing it, whose process ids mean nothing here.
    /// Returns the removed paths, relative to `folder`.
    @discardableResult
    public static func removeStaleTemporaries(in folder: URL, sparing: Set<String> = []) -> [String] {
        let fm = FileManager.default
        var removed: [String] = []
        func visit(_ dir: URL, _ prefix: String) {
            for name in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] {
                let url = dir.appendingPathComponent(name)
                // Not through symbolic links: only the run's own folders.
                let type = (try? fm.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
                if type == .typeDirectory {
                    visit(url, prefix + name + "/")
                } else if let (file, pid) = temporaryTarget(name), !sparing.contains(prefix + file), kill(pid, 0) != 0, errno == ESRCH,
                    unlink(url.path) == 0
                {
                    removed.append(prefix + name)
                }
            }
        }
        visit(folder, "")
        return removed.sorted()
    }

    /// Renames `from` over `to` (files or folders, same file system) and fsyncs the parent folder, so a finished
    /// checkpoint folder is durable once this returns.
    public static func move(_ from: URL, to: URL) throws {
        guard rename(from.path, to.path) == 0 else { throw failure(to, "rename from \(from.lastPathComponent) failed", errno) }
        try syncDirectory(to.deletingLastPathComponent())
    }

    /// fsync(2) of a folder: makes the renames and creations inside it durable.
    public static func syncDirectory(_ dir: URL) throws {
        let fd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(dir, "cannot open the folder to sync it", errno) }
        defer { close(fd) }
        // Some file systems cannot fsync a directory (EINVAL): the rename is still atomic there, only not yet durable.
        if fsync(fd) != 0 && errno != EINVAL { throw failure(dir, "fsync of the folder failed", errno) }
    }

    private static func failure(_ url: URL, _ what: String, _ code: Int32) -> RunFormatError {
        RunFormatError(
            path: url.path, message: "\(what): \(String(cString: strerror(code)))",
            fix: code == ENOSPC ? "free disk space and run again" : "check permissions and free space, then run again")
    }
}
