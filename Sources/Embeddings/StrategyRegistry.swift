import Foundation

/// Every strategy the project knows: **one line per strategy**. Adding a strategy = one new file + one line here.
public enum StrategyRegistry {
    public static let all: [any EmbeddingStrategy.Type] = [
        LearnedEmbedding.self,
        FrozenRandomEmbedding.self,
        HashedEmbedding.self,
        MuPEmbedding.self,
        LowRankEmbedding.self,
        TransplantEmbedding.self,
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
        try S(
            options: decodeOptions(S.Options.self, strategy: S.name, options: options, defaults: S.Options(defaultsFor: context)),
            context: context)
    }

    /// The default options as a JSON object: the valid keys and their default values (in `context`: some defaults
    /// depend on the parametrization; without one, the SP defaults).
    public static func defaultOptions(of type: any EmbeddingStrategy.Type, in context: EmbeddingContext? = nil) -> [String: Any] {
        func defaults<S: EmbeddingStrategy>(_: S.Type) -> [String: Any] {
            encodeToObject(context.map { S.Options(defaultsFor: $0) } ?? S.Options())
        }
        return defaults(type)
    }

    /// Decodes `options` laid over the defaults (`O()` unless given), so every key has a value, and rejects unknown
    /// keys (suggesting the nearest valid key), values that are not JSON-representable, values of the wrong type, and
    /// enum values outside their closed set (listing the valid ones). A key's old spelling (`O.renamedKeys`) is read
    /// as the new one.
    public static func decodeOptions<O: StrategyOptions>(
        _: O.Type, strategy: String, options given: [String: Any], defaults: O = O()
    ) throws -> O {
        var options = given
        for (old, new) in O.renamedKeys.sorted(by: { $0.key < $1.key }) {
            guard let value = options.removeValue(forKey: old) else { continue }
            guard options[new] == nil else {
                throw StrategyError.invalidOption(
                    strategy: strategy, key: old, message: "is the old name of '\(new)', which is also set; keep only '\(new)'")
            }
            options[new] = value
        }
        var merged = encodeToObject(defaults)
        for key in options.keys.sorted() {
            guard merged[key] != nil else {
                throw StrategyError.unknownOption(strategy: strategy, key: key, valid: merged.keys.sorted())
            }
            // JSONSerialization raises an Objective-C-style exception (a crash) on non-JSON values: check first.
            guard JSONSerialization.isValidJSONObject([key: options[key]!]) else {
                throw StrategyError.invalidOption(
                    strategy: strategy, key: key,
                    message: "value \(options[key]!) is not a number, string, boolean or list")
            }
            merged[key] = options[key]!
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: merged)
            return try JSONDecoder().decode(O.self, from: data)
        } catch let error as InvalidOptionValue {
            throw StrategyError.invalidOption(strategy: strategy, key: error.codingPath.joined(separator: "."), message: error.message)
        } catch let DecodingError.typeMismatch(type, ctx), let DecodingError.valueNotFound(type, ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw StrategyError.invalidOption(
                strategy: strategy, key: key,
                message: "expected a value of type \(type), got \(describe(valueAt: ctx.codingPath, in: merged))")
        } catch let DecodingError.dataCorrupted(ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw StrategyError.invalidOption(strategy: strategy, key: key, message: ctx.debugDescription)
        } catch let DecodingError.keyNotFound(codingKey, _) {
            // Only possible if `Options` encodes fewer keys than it decodes (e.g. an Optional): a bug in the strategy.
            throw StrategyError.invalidOption(
                strategy: strategy, key: codingKey.stringValue,
                message: "has no default (Options() must encode every key; avoid optionals)")
        }
    }

    private static func describe(valueAt path: [any CodingKey], in object: [String: Any]) -> String {
        guard let first = path.first, let value = object[first.stringValue] else { return "nothing" }
        return "\(value)"
    }

    /// For options with a closed set of string values (`OptionEnum`, `SeedOption`): key → the valid values.
    /// Found by decoding an invalid probe value, so a new strategy's enums show up in `ablate strategies` for free.
    public static func optionChoices(of type: any EmbeddingStrategy.Type) -> [String: [String]] {
        func choices<S: EmbeddingStrategy>(_: S.Type) -> [String: [String]] {
            var result: [String: [String]] = [:]
            for (key, value) in encodeToObject(S.Options()) where value is String {
                var probe = encodeToObject(S.Options())
                probe[key] = "\u{1}not-a-valid-value"
                guard let data = try? JSONSerialization.data(withJSONObject: probe) else { continue }
                do { _ = try JSONDecoder().decode(S.Options.self, from: data) } catch let error as InvalidOptionValue {
                    result[key] = error.valid
                } catch {}
            }
            return result
        }
        return choices(type)
    }

    /// key → the option's value type as Swift names it ("Double", "Int", "[Int]", …), found by decoding a probe of
    /// the wrong shape and reading the decoder's type mismatch. Options with a closed set of values (see
    /// `optionChoices`) report "String".
    public static func optionTypes(of type: any EmbeddingStrategy.Type) -> [String: String] {
        func types<S: EmbeddingStrategy>(_: S.Type) -> [String: String] {
            let defaults = encodeToObject(S.Options())
            var result: [String: String] = [:]
            for key in defaults.keys {
                let isList = defaults[key] is [Any]
                var probe = defaults
                probe[key] = isList ? [["probe": 1]] : ["probe": 1]
                guard let data = try? JSONSerialization.data(withJSONObject: probe) else { continue }
                do { _ = try JSONDecoder().decode(S.Options.self, from: data) } catch let DecodingError.typeMismatch(t, _) {
                    result[key] = isList ? "[\(t)]" : "\(t)"
                } catch is InvalidOptionValue {
                    result[key] = "String"
                } catch {}
            }
            return result
        }
        return types(type)
    }

    public static func encodeToObject<O: Encodable>(_ value: O) -> [String: Any] {
        guard let data = try? JSONEncoder().encode(value),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
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
