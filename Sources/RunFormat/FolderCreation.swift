import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Creates output folders; a failure is one message in words ("… is a file, not a folder", "Permission denied")
/// naming the option that gave the path, never Foundation's `NSCocoaErrorDomain Code=…` dump.
public enum FolderCreation {
    /// Creates `url` and its missing parents. `option` (e.g. "--out") is the flag the path came from, if any.
    public static func create(_ url: URL, option: String? = nil) throws {
        if let file = fileInTheWay(of: url) {
            throw FolderCreationError(option: option, path: url.path, reason: .fileInTheWay(file.path))
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw FolderCreationError(option: option, path: url.path, reason: .failed(reason(error)))
        }
    }

    /// The nearest existing part of `url`'s path when it is not a folder (the path cannot become a folder then).
    public static func fileInTheWay(of url: URL) -> URL? {
        let fm = FileManager.default
        var existing = url.standardizedFileURL
        while !fm.fileExists(atPath: existing.path) && existing.pathComponents.count > 1 { existing = existing.deletingLastPathComponent() }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: existing.path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return existing
    }

    /// A folder-creation error in a few words: the system's reason (strerror) when Foundation carries one.
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "\(String(cString: strerror(ENOENT))) (a part of the path does not take new folders)"
        case .fileWriteNoPermission, .fileReadNoPermission: return String(cString: strerror(EACCES))
        case .fileWriteVolumeReadOnly: return String(cString: strerror(EROFS))
        case .fileWriteOutOfSpace: return String(cString: strerror(ENOSPC))
        case .fileWriteFileExists: return "a file is in the way"
        default: return ns.localizedDescription
        }
    }
}

/// Why an output folder could not be created, with the option that named it.
public struct FolderCreationError: Error, CustomStringConvertible, Equatable {
    public enum Reason: Equatable, Sendable {
        /// This path (the folder itself or a parent) is a file.
        case fileInTheWay(String)
        /// The system's reason, in words.
        case failed(String)
    }
    public var option: String?
    public var path: String
    public var reason: Reason

    public var description: String {
        let prefix = option.map { "'\($0)': " } ?? ""
        let target = option.map { "give \($0) " } ?? "use "
        switch reason {
        case let .fileInTheWay(file) where file == path:
            return "\(prefix)\(path) is a file, not a folder. Fix: \(target)a folder path."
        case let .fileInTheWay(file):
            return "\(prefix)cannot create the folder \(path): \(file) is a file, not a folder. Fix: \(target)a folder path."
        case let .failed(why):
            return "\(prefix)cannot create the folder \(path): \(why). Fix: \(target)a folder path you can write to."
        }
    }
}
