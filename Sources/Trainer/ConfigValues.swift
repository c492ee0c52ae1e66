import Foundation
import Model
import RunFormat

/// The value checks of `TrainConfig.from`, before anything is decoded: a value of the wrong kind gets a message that
/// names the key, what it must be and what it got (Foundation's decoder would say "not valid JSON", naming no key).
extension TrainConfig {
    /// What a key's value must be.
    enum ValueKind: Equatable {
        case integer, unsignedInteger, number, bool, string, mapping

        var expectation: String {
            switch self {
            case .integer: return "must be a whole number"
            case .unsignedInteger: return "must be a whole number ≥ 0"
            case .number: return "must be a finite number"
            case .bool: return "expected true or false"
            case .string: return "expected a string"
            case .mapping: return "expected a mapping (e.g. {init_std: 0.02})"
            }
        }
    }

    /// Every key's kind, and whether null is allowed, as the decoder takes them (so a new key cannot be missed): each
    /// key is tried with a value of every kind over the defaults, once.
    static let valueKinds: [String: (kind: ValueKind, optional: Bool)] = {
        var kinds: [String: (kind: ValueKind, optional: Bool)] = [:]
        for key in keys {
            func accepts(_ value: JSONValue) -> Bool {
                var fields = defaults
                fields[key] = value
                return (try? JSONValue.decode(TrainConfig.self, from: .object(fields))) != nil
            }
            let kind: ValueKind
            if accepts(.string("x")) {
                kind = .string
            } else if accepts(.bool(true)) {
                kind = .bool
            } else if accepts(.object([:])) {
                kind = .mapping
            } else if accepts(.double(0.5)) {
                kind = .number
            } else if accepts(.int(-1)) {
                kind = .integer
            } else {
                kind = .unsignedInteger
            }
            kinds[key] = (kind, accepts(.null))
        }
        return kinds
    }()

    /// `value` as `key` takes it (a whole Double, as YAML reads 1e6, becomes an integer), or the ConfigError saying
    /// what is wrong with it.
    static func checkedValue(_ value: JSONValue, key: String, file: String?) throws -> JSONValue {
        guard let (kind, optional) = valueKinds[key] else { return value }
        func wrong() -> ConfigError {
            let example = defaults[key].flatMap { $0 == .null || kind == .mapping ? nil : "e.g. \(shown($0))" }
            return ConfigError(
                key: key, message: "\(kind.expectation), got \(shown(value))",
                fix: "give '\(key)' such a value" + (example.map { " (\($0))" } ?? "") + (optional ? ", or null to leave it unset" : ""),
                file: file)
        }
        switch (kind, value) {
        case (_, .null):
            guard optional else { throw wrong() }
            return value
        case (.integer, .int), (.number, .int), (.bool, .bool), (.string, .string):
            return value
        case (.integer, .double(let d)):
            guard let i = Int(exactly: d) else { throw wrong() }
            return .int(i)
        case (.unsignedInteger, .int(let i)):
            guard i >= 0 else { throw wrong() }
            return value
        case (.unsignedInteger, .double(let d)):
            guard UInt64(exactly: d) != nil else { throw wrong() }
            return Int(exactly: d).map(JSONValue.int) ?? value
        case (.number, .double(let d)):
            guard d.isFinite else { throw wrong() }
            return value
        case (.mapping, .object(let fields)):
            // Options are checked by their strategy; a non-finite number could not even be written to config.json.
            for name in fields.keys.sorted() {
                if let (path, number) = nonFinite(fields[name]!, at: "\(key).\(name)") {
                    throw ConfigError(
                        key: path, message: "must be a finite number, got \(shown(number))", fix: "give '\(path)' a finite number",
                        file: file)
                }
            }
            return value
        default:
            throw wrong()
        }
    }

    /// The defaults as values (for the examples in messages).
    private static let defaults: [String: JSONValue] = {
        guard case let .object(fields)? = try? JSONValue.encode(TrainConfig()) else { return [:] }
        return fields
    }()

    /// The dotted path and value of the first non-finite number in `value`, if any.
    private static func nonFinite(_ value: JSONValue, at path: String) -> (String, JSONValue)? {
        switch value {
        case let .double(d): return d.isFinite ? nil : (path, value)
        case let .array(items): return items.indices.lazy.compactMap { nonFinite(items[$0], at: "\(path)[\($0)]") }.first
        case let .object(fields): return fields.keys.sorted().lazy.compactMap { nonFinite(fields[$0]!, at: "\(path).\($0)") }.first
        default: return nil
        }
    }

    /// A value as a message shows it: strings quoted, numbers as written (nan, inf), collections in YAML flow style.
    static func shown(_ value: JSONValue) -> String {
        switch value {
        case let .string(s): return "'\(s)'"
        case let .double(d) where d.isNaN: return "nan"
        case let .double(d) where d.isInfinite: return d < 0 ? "-inf" : "inf"
        default: return value.description
        }
    }
}
