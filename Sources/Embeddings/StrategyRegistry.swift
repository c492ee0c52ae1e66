import Foundation

/// Every strategy the project knows: **one line per strategy**. Adding a strategy = one new file + one line here.
public enum StrategyRegistry {
    public static let all: [any EmbeddingStrategy.Type] = [
        LearnedEmbedding.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func type(named name: String) throws -> any EmbeddingStrategy.Type {
        if let t = all.first(where: { $0.name == name }) { return t }
        throw StrategyError.unknownStrategy(name: name, suggestion: nearest(name, in: names), known: names)
    }

    /// Builds a strategy from its name and a JSON object of options (keys as in configs, e.g. {"init_std": 0.02}).
    public static func make(name: String, options: [String: Any] = [:], context: EmbeddingContext) throws -> any EmbeddingStrategy {
        let type = try type(named: name)
        return try make(type, options: options, context: context)
    }

    private static func make<S: EmbeddingStrategy>(_ type: S.Type, options: [String: Any], context: EmbeddingContext) throws -> S {
        try S(options: decodeOptions(S.Options.self, strategy: S.name, options: options), context: context)
    }

    /// The default options as a JSON object: the valid keys and their default values.
    public static func defaultOptions(of type: any EmbeddingStrategy.Type) -> [String: Any] {
        func defaults<S: EmbeddingStrategy>(_: S.Type) -> [String: Any] { encodeToObject(S.Options()) }
        return defaults(type)
    }

    /// Decodes `options` laid over the defaults, so every key has a value, and rejects unknown keys.
    public static func decodeOptions<O: StrategyOptions>(_: O.Type, strategy: String, options: [String: Any]) throws -> O {
        var merged = encodeToObject(O())
        for (key, value) in options {
            guard merged[key] != nil else {
                throw StrategyError.unknownOption(strategy: strategy, key: key, valid: Array(merged.keys))
            }
            merged[key] = value
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: merged)
            return try JSONDecoder().decode(O.self, from: data)
        } catch let DecodingError.typeMismatch(type, ctx), let DecodingError.valueNotFound(type, ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw StrategyError.invalidOption(strategy: strategy, key: key, message: "expected a value of type \(type)")
        } catch let DecodingError.dataCorrupted(ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw StrategyError.invalidOption(strategy: strategy, key: key, message: ctx.debugDescription)
        }
    }

    public static func encodeToObject<O: Encodable>(_ value: O) -> [String: Any] {
        guard let data = try? JSONEncoder().encode(value),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }

    /// The closest known name by edit distance (for "did you mean"), if reasonably close.
    public static func nearest(_ name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let best = scored, best.1 <= max(2, best.0.count / 2) else { return nil }
        return best.0
    }

    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var prev = Array(0...b.count), cur = prev
        for i in 1...max(a.count, 1) where !a.isEmpty {
            cur[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return a.isEmpty ? b.count : prev[b.count]
    }
}
