import Embeddings
import Foundation
import Model
import RunFormat

/// Everything one training run needs, flat so that any key can be a grid axis. Keys are snake_case in files.
public struct TrainConfig: Codable, Sendable, Equatable {
    // Data
    /// A prepared corpus name under $ABLATE_HOME/corpus (e.g. "shakespeare"), or a path to a .txt file or folder.
    public var corpus: String = "shakespeare"
    public var vocabSize: Int = 2048

    // Model
    /// A named shape ("tiny", "small", "base", "medium", "large"); explicit d_model/n_layer/n_head override it.
    public var preset: String? = nil
    public var dModel: Int? = nil
    public var nLayer: Int? = nil
    public var nHead: Int? = nil
    public var contextLength: Int = 128
    public var bias: Bool = false
    public var tieEmbeddings: Bool = false
    public var parametrization: String = "sp"
    public var baseWidth: Int = 128
    public var initStd: Double = 0.02
    public var outputMultiplier: Double = 1.0

    // Embedding strategy
    public var strategy: String = "learned"
    public var strategyOptions: [String: JSONValue] = [:]

    // Optimisation
    public var batchSize: Int = 16
    /// Budget: steps, or tokens (tokens win when both are set; steps = ⌈tokens / (batch·context)⌉), or UTF-8 bytes of
    /// training text (`max_train_bytes`, exclusive with the other two: see `totalSteps(trainSplit:)`).
    public var maxSteps: Int? = 1000
    public var maxTokens: Int? = nil
    /// A byte budget: every run sees about the same amount of training text whatever its vocabulary.
    public var maxTrainBytes: Int? = nil
    public var learningRate: Double = 1e-3
    /// The decay ends at min_lr_ratio × peak (10 %).
    public var minLRRatio: Double = 0.1
    public var warmupSteps: Int = 100
    /// "cosine" (absent) or "wsd" (`LRScheduleKind`). Optional, like the keys below, so that configs (and their
    /// hashes) written before the key existed are unchanged.
    public var lrSchedule: String? = nil
    /// WSD only: the fraction of all steps spent in the final linear decay (absent: 0.2).
    public var lrDecayFraction: Double? = nil
    public var weightDecay: Double = 0.1
    public var beta1: Double = 0.9
    public var beta2: Double = 0.95
    public var adamEps: Double = 1e-8
    /// Global-norm gradient clipping threshold (0 disables).
    public var gradClip: Double = 1.0

    // Evaluation, logging, checkpoints
    public var evalInterval: Int = 100
    public var evalBatches: Int = 8
    public var finalEvalBatches: Int = 32
    public var logInterval: Int = 10
    public var checkpointInterval: Int = 250
    /// Snapshots of the embedding tables at log-spaced steps into `snapshots/` (see `EmbeddingSnapshots`).
    /// Absent means on; optional so that configs (and their hashes) written before the key existed are unchanged.
    public var snapshots: Bool? = nil
    /// How many snapshots, step 0 and the final step included (absent: 12).
    public var snapshotCount: Int? = nil

    // Reproducibility and resources
    public var seed: UInt64 = 1
    /// OpenBLAS threads for this run.
    public var threads: Int = 1
    /// The batch is split into this many contiguous groups of sequences, run concurrently when threads allow, whose
    /// weight gradients are summed in a fixed order: results depend on it, not on `threads` (absent: 2, so that two
    /// threads are used fully). Optional so that configs (and their hashes) written before the key existed are unchanged.
    public var batchShards: Int? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case corpus, vocabSize = "vocab_size", preset, dModel = "d_model", nLayer = "n_layer", nHead = "n_head"
        case contextLength = "context_length", bias, tieEmbeddings = "tie_embeddings", parametrization
        case baseWidth = "base_width", initStd = "init_std", outputMultiplier = "output_multiplier"
        case strategy, strategyOptions = "strategy_options"
        case batchSize = "batch_size", maxSteps = "max_steps", maxTokens = "max_tokens", maxTrainBytes = "max_train_bytes"
        case learningRate = "learning_rate"
        case minLRRatio = "min_lr_ratio", warmupSteps = "warmup_steps", weightDecay = "weight_decay"
        case lrSchedule = "lr_schedule", lrDecayFraction = "lr_decay_fraction"
        case beta1, beta2, adamEps = "adam_eps", gradClip = "grad_clip"
        case evalInterval = "eval_interval", evalBatches = "eval_batches", finalEvalBatches = "final_eval_batches"
        case logInterval = "log_interval", checkpointInterval = "checkpoint_interval", seed, threads
        case batchShards = "batch_shards"
        case snapshots, snapshotCount = "snapshot_count"
    }

    /// Every valid key (for error messages and grid validation).
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Builds a config from a decoded file or flags: keys laid over the defaults, unknown keys rejected with the
    /// nearest valid key, wrong types named. `source` (a file path) prefixes every message.
    public static func from(_ object: [String: JSONValue], source: String? = nil) throws -> TrainConfig {
        var merged = try JSONValue.encode(TrainConfig())
        guard case var .object(fields) = merged else { fatalError("TrainConfig encodes to an object") }
        if let bytes = object["max_train_bytes"], bytes != .null {
            let others = ["max_steps", "max_tokens"].filter { object[$0] != nil && object[$0] != .null }
            guard others.isEmpty else { throw budgetConflict(others, file: source) }
            fields["max_steps"] = .null  // the default step budget gives way to the byte budget
        }
        for (key, value) in object {
            guard keys.contains(key) else {
                let near = StrategyRegistry.nearest(key, in: keys).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError(
                    key: key, message: "unknown key\(near)", fix: "use one of the valid keys: \(keys.joined(separator: ", "))", file: source)
            }
            fields[key] = try checkedValue(value, key: key, file: source)
        }
        merged = .object(fields)
        do {
            return try JSONValue.decode(TrainConfig.self, from: merged)
        } catch let DecodingError.typeMismatch(type, ctx) {
            // `checkedValue` rules these out; kept so that a missed case still names the key and the value.
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError(
                key: key, message: "expected \(JSONValue.describe(type)), got \(shown(object[key] ?? .null))",
                fix: "give '\(key)' a value of that type", file: source)
        } catch let e as DecodingError {
            let ctx: DecodingError.Context? =
                switch e {
                case let .dataCorrupted(c), let .valueNotFound(_, c), let .keyNotFound(_, c): c
                default: nil
                }
            let key = ctx?.codingPath.first?.stringValue ?? "?"
            throw ConfigError(
                key: key, message: "cannot be read, got \(shown(object[key] ?? .null))", fix: "give '\(key)' a value like its default",
                file: source)
        }
    }

    /// The model shape this config asks for, with the preset applied; validated.
    public func modelConfig() throws(ConfigError) -> ModelConfig {
        var d = dModel, l = nLayer, h = nHead
        if let preset {
            guard let p = ModelConfig.presets[preset] else {
                let names = ModelConfig.presets.keys.sorted()
                let near = StrategyRegistry.nearest(preset, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError(
                    key: "preset", message: "unknown preset '\(preset)'\(near)",
                    fix: "use one of \(names.joined(separator: ", ")) or give d_model, n_layer and n_head")
            }
            d = d ?? p.dModel; l = l ?? p.nLayer; h = h ?? p.nHead
        }
        guard let d, let l, let h else {
            throw ConfigError(
                key: d == nil ? "d_model" : (l == nil ? "n_layer" : "n_head"),
                message: "model size is not set", fix: "set 'preset' (e.g. small) or all of d_model, n_layer, n_head")
        }
        let m = ModelConfig(
            vocabSize: vocabSize, dModel: d, nLayer: l, nHead: h, contextLength: contextLength, bias: bias,
            tieEmbeddings: tieEmbeddings, parametrization: parametrization, baseWidth: baseWidth,
            initStd: initStd, outputMultiplier: outputMultiplier)
        try m.validate()
        return m
    }

    /// The error for a byte budget set together with `others` (max_steps, max_tokens).
    public static func budgetConflict(_ others: [String], file: String? = nil) -> ConfigError {
        ConfigError(
            key: "max_train_bytes", message: "max_train_bytes cannot be combined with \(others.joined(separator: " or ")): a run has one budget",
            fix:
                "keep max_train_bytes and remove \(others.joined(separator: " and ")) (or set \(others.count == 1 ? "it" : "them") to null), or drop max_train_bytes",
            file: file)
    }

    /// Total optimizer steps of a step or token budget. A byte budget's steps depend on the tokenizer: this is 0
    /// for it, use `totalSteps(trainSplit:)`.
    public var totalSteps: Int { totalSteps(trainSplit: nil) ?? 0 }

    /// Total optimizer steps of the budget. For a byte budget, `trainSplit` (the training split's tokens and bytes
    /// under this run's tokenizer) turns bytes into steps; nil without it.
    ///
    /// steps = ⌈max_train_bytes · tokens / (bytes · batch · context)⌉, in exact integer arithmetic: the number of
    /// steps whose batch·context target tokens hold, at the split's mean bytes per token, at least max_train_bytes.
    /// Training windows start at random positions, so the bytes actually trained on differ from that by sampling
    /// (typically well under 1 %); summary.json records the exact count as `train_bytes`.
    public func totalSteps(trainSplit: TrainSplit?) -> Int? {
        let perStep = batchSize * contextLength
        if let maxTrainBytes {
            guard let trainSplit, trainSplit.bytes > 0, trainSplit.tokens > 0, maxTrainBytes > 0, perStep > 0 else { return nil }
            let numerator = maxTrainBytes.multipliedFullWidth(by: trainSplit.tokens)
            let (denominator, overflow) = trainSplit.bytes.multipliedReportingOverflow(by: perStep)
            guard !overflow, denominator > numerator.high else { return nil }
            let (q, r) = denominator.dividingFullWidth(numerator)
            return q + (r > 0 ? 1 : 0)
        }
        if let maxTokens { return (maxTokens + perStep - 1) / perStep }
        return maxSteps ?? 0
    }

    /// `totalSteps(trainSplit:)`, checked: positive, and its tokens within `maxTokenBudget`; errors name `budgetKey`.
    public func checkedSteps(trainSplit: TrainSplit?) throws(ConfigError) -> Int {
        let perStep = batchSize * contextLength
        guard let steps = totalSteps(trainSplit: trainSplit) else {
            throw ConfigError(
                key: budgetKey, message: "the budget exceeds \(Self.maxTokenBudget) tokens",
                fix: "set \(budgetKey) to a budget this machine can train")
        }
        guard steps > 0 else {
            throw ConfigError(key: budgetKey, message: "the budget is zero steps", fix: "set \(budgetKey) to a positive number")
        }
        let (budgetTokens, overflow) = steps.multipliedReportingOverflow(by: perStep)
        guard !overflow && budgetTokens <= Self.maxTokenBudget else {
            throw ConfigError(
                key: budgetKey, message: "\(steps) steps of \(perStep) tokens exceed \(Self.maxTokenBudget) tokens",
                fix: "set \(budgetKey) to a budget this machine can train")
        }
        return steps
    }

    /// The key that sets the budget (for error messages).
    public var budgetKey: String { maxTrainBytes != nil ? "max_train_bytes" : maxTokens != nil ? "max_tokens" : "max_steps" }

    /// Rejects an impossible config with its first problem (see `problems()`).
    public func validate() throws {
        if let first = problems().first { throw first }
    }

    /// Every impossible setting of this config, in the order of the checks: batch size, budget, the model shape
    /// (`modelConfig()`), then each optimisation value. All of them, so that a file with three bad values is mended
    /// in one go; the memory estimate needs a valid shape and is skipped without one.
    public func problems() -> [ConfigError] {
        var found: [ConfigError] = []
        func check(_ ok: Bool, _ key: String, _ message: String, _ fix: String) {
            if !ok { found.append(ConfigError(key: key, message: message, fix: fix)) }
        }
        check(batchSize > 0, "batch_size", "must be ≥ 1, got \(batchSize)", "set batch_size to e.g. 16")
        check(batchSize <= Self.maxBatchSize, "batch_size", "must be at most \(Self.maxBatchSize), got \(batchSize)", "set batch_size to e.g. 16")
        let tokensInBudget = (maxTokens ?? 0) <= Self.maxTokenBudget
        check(
            tokensInBudget, "max_tokens", "must be at most \(Self.maxTokenBudget), got \(maxTokens ?? 0)",
            "set max_tokens (or max_steps) to a budget this machine can train")
        let validBatch = (1...Self.maxBatchSize).contains(batchSize)
        do throws(ConfigError) {
            let model = try modelConfig()
            let gib = Self.estimatedTrainingBytes(model, batchSize: batchSize) / Double(1 << 30)
            check(
                !validBatch || gib <= Self.maxTrainingGiB, "d_model",  // the memory estimate needs a valid batch
                String(format: "the model would need about %.3g GiB to train (more than %.0f GiB)", gib, Self.maxTrainingGiB),
                "choose a smaller d_model, n_layer, context_length, vocab_size or batch_size")
        } catch { found.append(error) }
        if let maxTrainBytes {
            // Every token holds at least one byte, so a byte budget within this bound also bounds the tokens.
            check(
                maxTrainBytes > 0 && maxTrainBytes <= Self.maxTokenBudget, "max_train_bytes",
                "must be in 1…\(Self.maxTokenBudget), got \(maxTrainBytes)", "set max_train_bytes to e.g. 2000000")
            let others = [maxSteps.map { _ in "max_steps" }, maxTokens.map { _ in "max_tokens" }].compactMap { $0 }
            if !others.isEmpty { found.append(Self.budgetConflict(others)) }
        } else if validBatch, tokensInBudget, (1...ModelConfig.maxContextLength).contains(contextLength) {
            // Within these bounds batch × context and the token budget cannot overflow (the budget divides by their
            // product). A byte budget is checked by the trainer, which knows the split.
            do throws(ConfigError) { _ = try checkedSteps(trainSplit: nil) } catch { found.append(error) }
        }
        check(learningRate > 0 && learningRate.isFinite, "learning_rate", "must be a positive number, got \(learningRate)", "use e.g. 1e-3")
        check((0...1).contains(minLRRatio), "min_lr_ratio", "must be in [0, 1], got \(minLRRatio)", "use e.g. 0.1")
        check(warmupSteps >= 0, "warmup_steps", "must be ≥ 0, got \(warmupSteps)", "use e.g. 100")
        let kinds = LRScheduleKind.allCases.map(\.rawValue)
        let scheduleKnown = lrSchedule.map { LRScheduleKind(rawValue: $0) != nil } ?? true
        if let lrSchedule, !scheduleKnown {
            let near = StrategyRegistry.nearest(lrSchedule, in: kinds).map { " (did you mean '\($0)'?)" } ?? ""
            found.append(
                ConfigError(
                    key: "lr_schedule", message: "unknown schedule '\(lrSchedule)'\(near)", fix: "use one of \(kinds.joined(separator: ", "))"))
        }
        if let lrDecayFraction, scheduleKnown {  // after a misspelt schedule, "only used by wsd" would mislead
            check(
                resolvedLRSchedule == .wsd, "lr_decay_fraction",
                "is only used by lr_schedule: wsd (this run's schedule is \(resolvedLRSchedule.rawValue))",
                "set lr_schedule: wsd, or remove lr_decay_fraction")
            check((0...1).contains(lrDecayFraction), "lr_decay_fraction", "must be in [0, 1], got \(lrDecayFraction)", "use e.g. 0.2")
        }
        check(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)", "use e.g. 0.1")
        check((0..<1).contains(beta1), "beta1", "must be in [0, 1), got \(beta1)", "use 0.9")
        check((0..<1).contains(beta2), "beta2", "must be in [0, 1), got \(beta2)", "use 0.95")
        check(adamEps > 0, "adam_eps", "must be > 0, got \(adamEps)", "use 1e-8")
        check(gradClip >= 0, "grad_clip", "must be ≥ 0, got \(gradClip)", "use 1.0 (0 disables clipping)")
        check(evalInterval > 0, "eval_interval", "must be ≥ 1, got \(evalInterval)", "use e.g. 100")
        check(evalBatches > 0, "eval_batches", "must be ≥ 1, got \(evalBatches)", "use e.g. 8")
        check(finalEvalBatches > 0, "final_eval_batches", "must be ≥ 1, got \(finalEvalBatches)", "use e.g. 32")
        check(logInterval > 0, "log_interval", "must be ≥ 1, got \(logInterval)", "use e.g. 10")
        check(checkpointInterval > 0, "checkpoint_interval", "must be ≥ 1, got \(checkpointInterval)", "use e.g. 250")
        check((2...64).contains(resolvedSnapshotCount), "snapshot_count", "must be in 2…64, got \(resolvedSnapshotCount)", "use e.g. 12")
        check((1...1024).contains(threads), "threads", "must be in 1…1024, got \(threads)", "use 1 or 2")
        check(
            batchSize < 1 || (1...batchSize).contains(resolvedBatchShards), "batch_shards",
            "must be in 1…batch_size (\(batchSize)), got \(resolvedBatchShards)",
            "use 2 (or the number of threads you train with)")
        let shapeRejectedVocab = found.contains { $0.key == "vocab_size" }  // one message per key
        check(
            shapeRejectedVocab || (256...32768).contains(vocabSize), "vocab_size", "must be in 256…32768 (byte-level BPE), got \(vocabSize)",
            "use e.g. 2048")
        return found
    }

    public static let maxBatchSize = 1 << 16
    public static let maxTokenBudget = 1_000_000_000_000_000
    public static let maxTrainingGiB = 1024.0

    /// Memory to train `model` (weights, gradients, Adam moments; activations of one batch), in Double so that it
    /// cannot overflow; only used to reject impossible sizes before anything is allocated.
    static func estimatedTrainingBytes(_ m: ModelConfig, batchSize: Int) -> Double {
        let d = Double(m.dModel), l = Double(m.nLayer), v = Double(m.vocabSize), t = Double(m.contextLength)
        let parameters = 12 * l * d * d + 2 * v * d + t * d
        let activations = Double(batchSize) * t * (l * (20 * d + 2 * Double(m.nHead) * t) + 3 * v)
        return 4 * (4 * parameters + activations)
    }

    /// The schedule's kind (cosine when absent; `validate` rejects unknown names).
    public var resolvedLRSchedule: LRScheduleKind { lrSchedule.flatMap(LRScheduleKind.init(rawValue:)) ?? .cosine }
    public static let defaultLRDecayFraction = 0.2
    /// The learning-rate schedule of a run of `totalSteps` steps.
    public func learningRateSchedule(totalSteps: Int) -> LRSchedule {
        LRSchedule(
            peak: learningRate, warmupSteps: warmupSteps, totalSteps: totalSteps, minRatio: minLRRatio,
            kind: resolvedLRSchedule, decayFraction: lrDecayFraction ?? Self.defaultLRDecayFraction)
    }

    /// Whether the run writes embedding snapshots (default: yes).
    public var snapshotsEnabled: Bool { snapshots ?? true }
    public var resolvedSnapshotCount: Int { snapshotCount ?? EmbeddingSnapshots.defaultCount }
    public static let defaultBatchShards = 2
    /// At most one shard per sequence.
    public var resolvedBatchShards: Int { batchShards ?? min(Self.defaultBatchShards, batchSize) }

    /// What to change when a run of this config diverged (a non-finite loss or gradient).
    public var divergenceFix: String {
        "lower learning_rate (now \(learningRate)) or raise warmup_steps (now \(warmupSteps))"
    }

    /// The strategy options as a plain object for the registry.
    public var strategyOptionsObject: [String: Any] { strategyOptions.mapValues { $0.anyValue } }
}

/// The training split's size under a run's tokenizer: what turns a byte budget into steps.
public struct TrainSplit: Sendable, Equatable {
    public var tokens: Int
    /// UTF-8 bytes of the split's text (= Σ byte lengths of its tokens: the byte-level tokenizer is lossless).
    public var bytes: Int
    public init(tokens: Int, bytes: Int) { self.tokens = tokens; self.bytes = bytes }
}

extension TrainConfig {
    /// " (key: old → new, …)" over the keys whose values differ (threads aside: results never depend on it), "" when
    /// none do: what a "config changed" refusal lists.
    public func differences(to new: TrainConfig) -> String {
        guard case let .object(a) = (try? JSONValue.encode(self)) ?? .null, case let .object(b) = (try? JSONValue.encode(new)) ?? .null
        else { return "" }
        let keys = Set(a.keys).union(b.keys).filter { $0 != "threads" && a[$0] != b[$0] }.sorted()
        guard !keys.isEmpty else { return "" }
        return " (" + keys.map { "\($0): \(a[$0]?.description ?? "-") → \(b[$0]?.description ?? "-")" }.joined(separator: ", ") + ")"
    }
}
