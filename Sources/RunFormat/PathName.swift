import Foundation

/// The one rule for every name that becomes a path component — grid names, run ids, labels, checkpoint and
/// snapshot names, `checkpoints/latest`, hashes read from files: letters, digits, `.`, `_`, `-`, not starting with
/// `.`, at most `maxLength` bytes. So no name read from a file or a grid can climb out of its folder (`..`, `/`),
/// hide itself, or exceed a file system's name limit.
public enum PathName {
    public static let maxLength = 128

    /// nil when `name` is valid, else why not.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maxLength { return "is \(name.utf8.count) bytes long (at most \(maxLength))" }
        if name.hasPrefix(".") { return "starts with '.'" }
        if let bad = name.unicodeScalars.first(where: {
            !(($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._-".unicodeScalars.contains($0))
        }) {
            return "contains '\(bad.escaped(asASCII: true))' (allowed: letters, digits, '.', '_', '-')"
        }
        return nil
    }

    /// `name` if valid; otherwise an error saying what it names and where it came from.
    @discardableResult
    public static func validate(_ name: String, what: String, source: String) throws -> String {
        if let p = problem(name) {
            throw RunFormatError(
                path: source, message: "\(what) '\(name)' \(p)",
                fix: name.utf8.count > maxLength
                    ? "shorten it to at most \(maxLength) bytes" : "use only letters, digits, '.', '_' and '-', not starting with '.'")
        }
        return name
    }

    /// `root/name` after validating `name`, checked to stay inside `root` as a path. Symbolic links already on disk
    /// are followed on purpose: a user may link a grid's folder to scratch storage.
    public static func resolve(_ name: String, in root: URL, what: String, source: String) throws -> URL {
        try validate(name, what: what, source: source)
        let url = root.appendingPathComponent(name).standardizedFileURL
        let base = root.standardizedFileURL.path
        guard url.path.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw RunFormatError(
                path: source, message: "\(what) '\(name)' leads to \(url.path), outside \(base)",
                fix: "use a plain name")
        }
        return url
    }
}
