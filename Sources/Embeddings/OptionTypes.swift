/// Building blocks for strategies' `Options` structs: string enums that list their valid values when given a bad
/// one, and a seed that is either derived from the run seed or fixed.
///
/// Options are decoded from JSON-like objects (configs, the command line) by `StrategyRegistry.decodeOptions`,
/// laid over `Options()`. Every option therefore needs a default that *encodes to a key*: do not use optionals
/// (`JSONEncoder` omits nil, so the key would look unknown); use an explicit case such as `SeedOption.run`.

/// A closed set of string values, e.g. `enum Distribution: String, OptionEnum { case normal, uniform }`.
/// Decoding an unknown string throws `InvalidOptionValue` listing `allCases`, which the registry turns into
/// `StrategyError.invalidOption` ("… 'gauss' is not valid; expected one of: normal, uniform").
public protocol OptionEnum: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension OptionEnum {
    public static var validValues: [String] { allCases.map(\.rawValue) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw InvalidOptionValue(
                codingPath: decoder.codingPath.map(\.stringValue), value: raw,
                valid: Self.validValues)
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Thrown while decoding an option whose value is outside a closed set. Carries the valid values so that both the
/// error message and `ablate strategies` can list them.
public struct InvalidOptionValue: Error, Equatable {
    public var codingPath: [String]
    public var value: String
    public var valid: [String]
    public var message: String { "'\(value)' is not valid; expected one of: \(valid.joined(separator: ", "))" }
}

/// A strategy's own seed: `"run"` (derived from the run seed, so it varies with the model seed) or a fixed integer
/// (identical across model seeds: the same table for every run of a grid).
public enum SeedOption: Codable, Sendable, Equatable {
    case run
    case fixed(UInt64)

    /// The seed to use, given the run's seed.
    public func resolve(runSeed: UInt64) -> UInt64 {
        switch self {
        case .run: return runSeed
        case let .fixed(seed): return seed
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seed = try? container.decode(UInt64.self) { self = .fixed(seed); return }
        if let text = try? container.decode(String.self) {
            if text == "run" { self = .run; return }
            if let seed = UInt64(text) { self = .fixed(seed); return }
        }
        throw InvalidOptionValue(
            codingPath: decoder.codingPath.map(\.stringValue),
            value: Self.describe(container), valid: ["run", "a non-negative integer"])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .run: try container.encode("run")
        case let .fixed(seed): try container.encode(seed)
        }
    }

    private static func describe(_ container: any SingleValueDecodingContainer) -> String {
        if let d = try? container.decode(Double.self) { return "\(d)" }
        if let b = try? container.decode(Bool.self) { return "\(b)" }
        return "(not a number or string)"
    }
}
