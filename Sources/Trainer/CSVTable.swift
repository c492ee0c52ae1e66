import Foundation
import RunFormat

/// One cell of a CSV table. Numbers are written so `pandas.read_csv` infers int64 / float64 columns, booleans as
/// `true`/`false` (pandas reads them as bool), a missing value as an empty field (NaN).
public enum CSVValue: Equatable, Sendable {
    case integer(Int), number(Double), bool(Bool), text(String), missing

    /// A JSON value as a cell: arrays and objects become their compact JSON text.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .missing
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .integer(i)
        case let .double(x): self = .number(x)
        case let .string(s): self = .text(s)
        case .array, .object:
            let data = (try? RunJSON.encode(json, pretty: false)) ?? Data()
            self = .text(String(decoding: data, as: UTF8.self))
        }
    }

    var field: String {
        switch self {
        case let .integer(i): return String(i)
        case let .number(x):
            if x.isNaN { return "nan" }
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            return "\(x)"
        case let .bool(b): return b ? "true" : "false"
        case let .text(s): return CSVTable.quoted(s)
        case .missing: return ""
        }
    }
}

/// A table written as RFC 4180 CSV: a header row, then one row per record; a field is quoted when it holds a comma,
/// a quote, a line break or leading/trailing space, and quotes inside are doubled. Lines end with "\n".
public struct CSVTable: Sendable {
    public var columns: [String]
    public var rows: [[String: CSVValue]]

    public init(columns: [String], rows: [[String: CSVValue]]) { self.columns = columns; self.rows = rows }

    public var text: String {
        var out = columns.map(Self.quoted).joined(separator: ",") + "\n"
        for row in rows { out += columns.map { (row[$0] ?? .missing).field }.joined(separator: ",") + "\n" }
        return out
    }

    static func quoted(_ s: String) -> String {
        let needs =
            s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            || s.first == " " || s.last == " " || s.isEmpty
        return needs ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A nested JSON object as flat `a.b.c` keys (arrays stay one value).
    public static func flatten(_ object: [String: JSONValue], prefix: String = "") -> [String: CSVValue] {
        var out: [String: CSVValue] = [:]
        for (key, value) in object {
            let name = prefix.isEmpty ? key : prefix + "." + key
            if case let .object(nested) = value, !nested.isEmpty {
                out.merge(flatten(nested, prefix: name)) { a, _ in a }
            } else {
                out[name] = CSVValue(json: value)
            }
        }
        return out
    }
}
