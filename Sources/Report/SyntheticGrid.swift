import Foundation

/// Writes synthetic but realistic run folders in the trainer's format (config.json, status.json, summary.json,
/// metrics.jsonl) — for the report's test fixtures and its benchmark. Deterministic for a given spec.
///
/// The loss model: final loss L(N) = 2 + 40·N^(−0.28) plus a per-strategy gap g(N) (frozen-random large and
/// shrinking with N, hashed small, μP slightly better), a per-seed offset shared by all strategies of that seed (the trainer's
/// same-seed pairing), independent per-run noise, and a curve falling from ln V to L like (1 + step/10)^(−0.7), plus eval noise.
public enum SyntheticGrid {
    public struct Shape: Sendable {
        public var dModel: Int, nLayer: Int, nHead: Int
        public init(_ d: Int, _ l: Int, _ h: Int) { dModel = d; nLayer = l; nHead = h }
    }

    public struct Spec: Sendable {
        public var strategies: [String]
        public var shapes: [Shape]
        public var seeds: [UInt64]
        public var vocabSize = 2048
        public var contextLength = 128
        public var batchSize = 16
        public var steps = 200
        public var logInterval = 10
        public var evalInterval = 20
        /// Run ids to leave out, to write as diverged, or as still running.
        public var missing: Set<String> = []
        public var diverged: Set<String> = []
        public var running: Set<String> = []
        /// Seed offset per strategy (0: all strategies share seeds, the paired design).
        public var seedShift: [String: UInt64] = [:]
        /// Write a synthetic probes.json into every finished run (`SyntheticProbes`), except the runs listed in
        /// `withoutProbes`; `wordSimilaritySignal` scales the word-similarity ρ the trained tables gain.
        public var probes = false
        public var withoutProbes: Set<String> = []
        public var wordSimilaritySignal = 1.0
        public init(strategies: [String], shapes: [Shape], seeds: [UInt64]) {
            self.strategies = strategies; self.shapes = shapes; self.seeds = seeds
        }
    }

    /// The snapshot steps the trainer takes for `total` steps (what the synthetic probes.json files use).
    public static func probeSnapshotSteps(_ total: Int, count: Int = 12) -> [Int] {
        SyntheticProbes.snapshotSteps(total, count: count)
    }

    public static func runID(_ strategy: String, _ s: Shape, vocab: Int, seed: UInt64) -> String {
        "\(strategy)-d\(s.dModel)-L\(s.nLayer)-v\(vocab)-s\(seed)"
    }

    /// Writes every run of `spec` under `directory`; returns the ids written.
    @discardableResult
    public static func write(_ spec: Spec, to directory: URL) throws -> [String] {
        var ids = [String]()
        for strategy in spec.strategies {
            for shape in spec.shapes {
                for baseSeed in spec.seeds {
                    let seed = baseSeed + (spec.seedShift[strategy] ?? 0)
                    let id = runID(strategy, shape, vocab: spec.vocabSize, seed: seed)
                    if spec.missing.contains(id) { continue }
                    try writeRun(spec, strategy: strategy, shape: shape, seed: seed, id: id,
                                 to: directory.appendingPathComponent(id))
                    ids.append(id)
                }
            }
        }
        return ids
    }

    static func nonEmbedding(_ s: Shape, vocab: Int) -> Int {
        let d = s.dModel
        return s.nLayer * (12 * d * d + 2 * d) + d + vocab * d
    }

    static func gap(_ strategy: String, _ n: Double) -> Double {
        switch strategy {
        case "learned": return 0
        case "frozen-random": return 0.30 * pow(n / 3e5, -0.35)
        case "hashed": return 0.05 * pow(n / 3e5, -0.15)
        case "lowrank": return 0.10
        case "mup": return -0.03
        default: return 0
        }
    }

    private static func writeRun(_ spec: Spec, strategy: String, shape: Shape, seed: UInt64, id: String,
                                 to url: URL) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let v = spec.vocabSize, d = shape.dModel, t = spec.contextLength
        let n = nonEmbedding(shape, vocab: v)
        let embedding: Int, trainableEmbedding: Int
        switch strategy {
        case "frozen-random": embedding = v * d; trainableEmbedding = 0
        case "hashed": embedding = (v / 4) * d; trainableEmbedding = embedding
        case "lowrank": embedding = v * 16 + 16 * d; trainableEmbedding = embedding
        default: embedding = v * d; trainableEmbedding = embedding
        }
        let total = n + embedding + t * d
        let trainable = n + trainableEmbedding + t * d
        let tokensPerStep = spec.batchSize * t

        // Noise: per-seed offset shared across strategies (the seed fixes data order and non-embedding init),
        // then per-run and per-evaluation noise.
        var seedRNG = SplitMix64(seed &* 0x9E37_79B9 &+ UInt64(d) &* 31 &+ UInt64(shape.nLayer))
        let seedOffset = 0.02 * seedRNG.normal()
        var rng = SplitMix64(stableHash(id))
        let final = 2 + 40 * pow(Double(n), -0.28) + gap(strategy, Double(n)) + seedOffset + 0.006 * rng.normal()

        let diverges = spec.diverged.contains(id), runs = spec.running.contains(id)
        let lastStep = diverges ? spec.steps * 2 / 5 : runs ? spec.steps / 2 : spec.steps
        var lines = ""
        var step = 0
        var finalEval = final
        let loggedSteps = [1] + stride(from: spec.logInterval, through: lastStep, by: spec.logInterval).map { $0 }
        for s in loggedSteps where s > step {
            step = s
            // Starts at ln V (uniform prediction), reaches `final` at the last step, still falling there.
            func g(_ x: Int) -> Double { pow(1 + Double(x) / 10, -0.7) }
            let start = log(Double(v))
            let mean = final + (start - final) * (g(s) - g(spec.steps)) / (1 - g(spec.steps))
            let isFinal = s == spec.steps
            let isEval = s % spec.evalInterval == 0 || isFinal
            var fields = [String]()
            fields.append("\"elapsed_s\":\(f(Double(s) * 0.05 * Double(d) / 64, 4))")
            fields.append("\"grad_norm\":\(f(0.4 + 0.2 * abs(rng.normal()), 6))")
            fields.append("\"lr\":\(f(1e-3 * min(1, Double(s) / 20), 8))")
            fields.append("\"step\":\(s)")
            fields.append("\"tokens\":\(s * tokensPerStep)")
            fields.append("\"tokens_per_s\":\(f(20_000 * 64 / Double(d) + 100 * rng.normal(), 2))")
            let train = diverges && s == lastStep ? "\"nan\"" : f(mean - 0.02 + 0.02 * rng.normal(), 6)
            fields.append("\"train_loss\":\(train)")
            if isEval {
                let val = isFinal ? final : mean + 0.012 * rng.normal()
                if isFinal { finalEval = val }
                fields.append("\"val_loss\":\(f(val, 6))")
            }
            lines += "{" + fields.joined(separator: ",") + "}\n"
        }
        try lines.write(to: url.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)

        let config = """
        {
          "config" : {
            "batch_size" : \(spec.batchSize),
            "context_length" : \(t),
            "corpus" : "shakespeare",
            "d_model" : \(d),
            "eval_interval" : \(spec.evalInterval),
            "learning_rate" : 0.001,
            "log_interval" : \(spec.logInterval),
            "max_steps" : \(spec.steps),
            "n_head" : \(shape.nHead),
            "n_layer" : \(shape.nLayer),
            "parametrization" : "\(strategy == "mup" ? "mup" : "sp")",
            "seed" : \(seed),
            "strategy" : "\(strategy)",
            "strategy_options" : {

            },
            "vocab_size" : \(v)
          },
          "config_hash" : "\(String(stableHash(id + "config"), radix: 16))",
          "model" : {
            "context_length" : \(t),
            "d_model" : \(d),
            "n_head" : \(shape.nHead),
            "n_layer" : \(shape.nLayer),
            "vocab_size" : \(v)
          },
          "parameters" : {
            "embedding" : \(embedding),
            "non_embedding" : \(n),
            "optimizer_state_bytes" : \(trainable * 8),
            "total" : \(total),
            "trainable" : \(trainable)
          },
          "provenance" : {
            "blas_core" : "Haswell",
            "corpus_sha256" : "3a494a4023b9f314f593e68b868cc53d34de580a1f79542d07a1366b35e5340d",
            "created_at" : "2026-11-25T09:00:00Z",
            "git_commit" : "8131129062b92246de3ad809dfade126f7103d82",
            "package_version" : "0.1.0",
            "seed" : \(seed),
            "threads" : 1,
            "tokenizer_sha256" : "34c0a683c54e97656be81d51d69297271db58708eb680441e74e63cc50cc7ce3"
          },
          "strategy_options" : {

          }
        }
        """
        try config.write(to: url.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)

        let state = diverges ? "diverged" : runs ? "running" : "finished"
        let reason = diverges ? ",\n  \"reason\" : \"non-finite training loss (nan) at step \(lastStep)\"" : ""
        let status = "{\n  \"state\" : \"\(state)\"\(reason),\n  \"step\" : \(lastStep),\n  \"total_steps\" : \(spec.steps),\n  \"updated_at\" : \"2026-11-25T09:00:00Z\"\n}"
        try status.write(to: url.appendingPathComponent("status.json"), atomically: true, encoding: .utf8)
        guard !diverges && !runs else { return }
        let summary = """
        {
          "elapsed_s" : \(f(Double(spec.steps) * 0.05 * Double(d) / 64, 4)),
          "final_val_loss" : \(f(finalEval, 6)),
          "non_embedding_parameters" : \(n),
          "steps" : \(spec.steps),
          "tokens" : \(spec.steps * tokensPerStep),
          "total_parameters" : \(total),
          "trainable_parameters" : \(trainable)
        }
        """
        try summary.write(to: url.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8)
        if spec.probes && !spec.withoutProbes.contains(id) {
            try SyntheticProbes.write(strategy: strategy, dModel: d, nLayer: shape.nLayer, nHead: shape.nHead, vocab: v,
                                      nonEmbedding: n, seed: seed, steps: spec.steps, signal: spec.wordSimilaritySignal,
                                      id: id, to: url)
        }
    }

    private static func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    /// FNV-1a 64 of the UTF-8 bytes (stable across runs, unlike `hashValue`).
    static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// SplitMix64 (Steele et al. 2014) with a Box–Muller normal; enough for synthetic noise.
struct SplitMix64 {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }
    mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
}
