import Foundation
import RunFormat

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a run folder (`flock` on `<folder>/.lock`), held by the process that trains the run
/// (`ablate grid run-one` and `ablate train`). The kernel releases it when that process dies, however it dies, so a
/// crashed run never blocks a resume; two grid invocations, two Slurm tasks or a grid and `ablate train --resume`
/// never train the same run at once. `ablate grid run` takes the same lock on the grid folder, so that a second
/// `grid run` of one grid is refused rather than finding every run busy. Across machines this holds only where the
/// filesystem's `flock` is cluster-wide (NFS with locking; Lustre mounted with `-o flock`, not `localflock`); a
/// filesystem that refuses locks is an error.
public final class RunLock {
    public static let fileName = ".lock"
    private let fd: Int32
    public let url: URL

    private init(fd: Int32, url: URL) { self.fd = fd; self.url = url }

    /// Takes the lock without waiting; nil when another live process holds it (`holder` then names it).
    public static func tryAcquire(folder: URL) throws -> RunLock? {
        try FolderCreation.create(folder)
        let url = folder.appendingPathComponent(fileName)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw GridRunError("cannot open the lock file \(url.path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let err = errno
            close(fd)
            if err == EWOULDBLOCK { return nil }
            throw unsupported(url, err)
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
        return errno == EWOULDBLOCK  // any other failure: this filesystem cannot lock, so nobody holds a lock
    }

    /// `flock` failed for another reason than "held": ENOLCK, ENOSYS, EOPNOTSUPP … (NFS mounted `nolock`, Lustre
    /// without `flock`). Training without the lock could let two processes write one run, so say what to do.
    static func unsupported(_ url: URL, _ err: Int32) -> GridRunError {
        GridRunError(
            "cannot lock \(url.path): \(String(cString: strerror(err))) — this filesystem does not support "
                + "flock. Fix: keep runs/ on a local disk, or on a shared filesystem with cluster-wide flock "
                + "(NFS with locking, or Lustre mounted with -o flock); see README.md, \"Slurm\"")
    }

    /// Empties the run folder except the lock file (which this process holds), e.g. to retrain it from scratch.
    public func clearFolder() throws {
        let fm = FileManager.default
        let folder = url.deletingLastPathComponent()
        for name in try fm.contentsOfDirectory(atPath: folder.path) where name != Self.fileName {
            try fm.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    public func release() { flock(fd, LOCK_UN) }
    deinit { close(fd) }
}

/// A runner-level error: one clear message.
public struct GridRunError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
