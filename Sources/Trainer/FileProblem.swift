import Foundation
import RunFormat

/// A file or decoding error in a few words ("no such file", "not valid JSON", …) rather than Foundation's dump,
/// for messages that already name the file.
enum FileProblem {
    static func describe(_ error: Error) -> String {
        switch error {
        case let e as RunFormatError: return e.message  // the caller names the file and the fix
        case let e as CocoaError where e.code == .fileReadNoSuchFile: return "no such file"
        case let e as CocoaError:
            if let posix = e.underlying as NSError?, posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
            return e.underlying.map { ($0 as NSError).localizedDescription } ?? "\(e.code)"
        case DecodingError.dataCorrupted: return "not valid JSON"
        case let DecodingError.keyNotFound(key, _): return "no '\(key.stringValue)'"
        case let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx):
            return "wrong value at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "\(error)"
        }
    }
}
