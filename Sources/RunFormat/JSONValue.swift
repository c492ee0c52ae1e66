import Foundation

/// A JSON/YAML value, so configs can carry free-form strategy options and be merged over defaults.
public enum JSONValue: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .double(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// Converts Foundation/YAML values (Int, Double, Bool, String, arrays, dictionaries) into a JSONValue.
    public init(any value: Any?) throws {
        switch value {
        case nil, is NSNull: self = .null
        case let n as NSNumber where ![Bool.self, Int.self, Double.self].contains(where: { type(of: value!) == $0 }):
            // A Foundation number (JSONSerialization's): on Linux every NSNumber, 0 and 1 included, casts to Bool, so
            // its own type decides: a boolean, a floating-point number, or an integer (beyond Int: as a Double).
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "f", "d": self = .double(n.doubleValue)
            case "Q" where n.uint64Value > UInt64(Int.max): self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .int(i)
        case let d as Double: self = .double(d)
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(try a.map { try JSONValue(any: $0) })
        case let o as [String: Any]: self = .object(try o.mapValues { try JSONValue(any: $0) })
        default: throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unsupported value \(String(describing: value))"))
        }
    }

    public var anyValue: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return b
        case let .int(i): return i
        case let .double(d): return d
        case let .string(s): return s
        case let .array(a): return a.map(\.anyValue)
        case let .object(o): return o.mapValues(\.anyValue)
        }
    }

    public var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return String(b)
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s): return s
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .object(o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: ", ") + "}"
        }
    }

    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// Decodes `value` as a `T`. JSON has no NaN or infinity: such a number is a `DecodingError` at its coding path,
    /// like any other value `T` cannot take (never the encoder's `EncodingError`, which names no key).
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        let data: Data
        do { data = try JSONEncoder().encode(value) } catch let EncodingError.invalidValue(number, ctx) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: ctx.codingPath, debugDescription: "must be a finite number, got \(number)", underlyingError: nil))
        }
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// What a value of `type` is, in words ("an integer", "a mapping", …).
    public static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        // Collections first: "Dictionary<String, JSONValue>" contains "String".
        if name.hasPrefix("Dictionary<") { return "a mapping" }
        if name.hasPrefix("Array<") { return "a list" }
        if name.contains("Int") { return "an integer" }
        if name.contains("Double") || name.contains("Float") { return "a number" }
        if name.contains("Bool") { return "true or false" }
        if name.contains("String") { return "a string" }
        return "a value of type \(name)"
    }
}
