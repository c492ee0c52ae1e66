import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a run folder (`flock` on `<folder>/.lock`), held by the process that trains the run.
/// The kernel releases it when that process dies, however it dies, so a crashed run never blocks a resume;
/// two grid invocations (or two Slurm tasks) never train the same run at once.
public final class RunLock {
    public static let fileName = ".lock"
    private let fd: Int32
    public let url: URL

    private init(fd: Int32, url: URL) { self.fd = fd; self.url = url }

    /// Takes the lock without waiting; nil when another live process holds it (`holder` then names it).
    public static func tryAcquire(folder: URL) throws -> RunLock? {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(fileName)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw GridRunError("cannot open the lock file \(url.path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        // Record the holder for messages (the lock itself is the flock, not this text).
        let text = "\(getpid()) \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        return RunLock(fd: fd, url: url)
    }

    /// "pid host" of the process that last took the lock (for "busy" messages).
    public static func holder(folder: URL) -> String? {
        (try? String(contentsOf: folder.appendingPathComponent(fileName), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Is the run folder locked by a live process right now?
    public static func isLocked(folder: URL) -> Bool {
        let path = folder.appendingPathComponent(fileName).path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return false }
        return true
    }

    public func release() { flock(fd, LOCK_UN) }
    deinit { close(fd) }
}

/// A runner-level error: one clear message.
public struct GridRunError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
