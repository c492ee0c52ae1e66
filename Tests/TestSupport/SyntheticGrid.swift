import Foundation
import Kernels
import RunFormat

/// Writes synthetic but realistic run folders with the run format's own types (RunFormat: config.json, status.json,
/// summary.json, metrics.jsonl) — for the report's test fixtures and its benchmark. Deterministic for a given spec.
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
        /// A vocabulary axis: every strategy × shape × seed at each of these sizes (empty: `vocabSize` only).
        public var vocabSizes: [Int] = []
        /// Write bits per byte (val_bpb, final_val_bpb) and train_bytes / train_flops, as the trainer does since it
        /// records them. Bytes per token grow with the vocabulary: 1 + 0.6·log₂(V/256).
        public var bitsPerByte = false
        /// Record a WSD schedule in config.json whose decay starts at this step (nil: no schedule record, as in files
        /// written before it was recorded, read as cosine). The synthetic curve itself is the same either way.
        public var wsdDecayStart: Int? = nil
        /// Also write retrieval MAPs (variants, per snapshot) and nearest neighbours into the synthetic probes.json.
        public var retrieval = false
        /// The final evaluation's loss minus the evaluation set's at the last step. The trainer measures the final
        /// loss on its own batches (`final_eval_batches`: 16 against 4 in the default grid, whose runs end 0.06–0.11
        /// nats lower); 0: the same batches.
        public var finalSetOffset = 0.0
        /// false: write the final evaluation as the trainer did before it recorded it apart: as the last line's
        /// val_loss (and val_bpb), without `final_val_loss`, and no evaluation-set loss at that step.
        public var finalRecordedApart = true
        /// `final_eval_batches` in config.json (`eval_batches` is 4, as in the default grid).
        public var finalEvalBatches = 16
        public init(strategies: [String], shapes: [Shape], seeds: [UInt64]) {
            self.strategies = strategies; self.shapes = shapes; self.seeds = seeds
        }
    }

    /// The snapshot steps the trainer takes for `total` steps (what the synthetic probes.json files use).
    public static func probeSnapshotSteps(_ total: Int, count: Int = 12) -> [Int] {
        SyntheticProbes.snapshotSteps(total, count: count)
    }

    public static func runID(_ strategy: String, _ s: Shape, vocab: Int, seed: UInt64) -> String {
        RunID.compose(arm: strategy, dModel: s.dModel, nLayer: s.nLayer, vocabSize: vocab, seed: seed)
    }

    /// Writes every run of `spec` under `directory`; returns the ids written.
    @discardableResult
    public static func write(_ spec: Spec, to directory: URL) throws -> [String] {
        var ids = [String]()
        for vocab in spec.vocabSizes.isEmpty ? [spec.vocabSize] : spec.vocabSizes {
            var spec = spec
            spec.vocabSize = vocab
            for strategy in spec.strategies {
                for shape in spec.shapes {
                    for baseSeed in spec.seeds {
                        let seed = baseSeed + (spec.seedShift[strategy] ?? 0)
                        let id = runID(strategy, shape, vocab: spec.vocabSize, seed: seed)
                        if spec.missing.contains(id) { continue }
                        try writeRun(
                            spec, strategy: strategy, shape: shape, seed: seed, id: id,
                            to: directory.appendingPathComponent(id))
                        ids.append(id)
                    }
                }
            }
        }
        return ids
    }

    static func nonEmbedding(_ s: Shape, vocab: Int) -> Int {
        let d = s.dModel
        return s.nLayer * (12 * d * d + 2 * d) + d + vocab * d
    }

    /// Mean UTF-8 bytes per token of the synthetic tokenizer with `vocab` tokens.
    static func bytesPerToken(_ vocab: Int) -> Double { 1 + 0.6 * log2(Double(vocab) / 256) }

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

    private static func writeRun(
        _ spec: Spec, strategy: String, shape: Shape, seed: UInt64, id: String,
        to url: URL
    ) throws {
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
        var metrics = Data()
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
            let elapsed = r(Double(s) * 0.05 * Double(d) / 64, 4), gradNorm = r(0.4 + 0.2 * abs(rng.normal()), 6)
            let lr = r(1e-3 * min(1, Double(s) / 20), 8), rate = r(20_000 * 64 / Double(d) + 100 * rng.normal(), 2)
            let train = diverges && s == lastStep ? Double.nan : r(mean - 0.02 + 0.02 * rng.normal(), 6)
            var val: Double? = nil
            if isEval { val = r(isFinal ? final : mean + 0.012 * rng.normal(), 6) }
            func bitsPerByte(_ loss: Double?) -> Double? {
                spec.bitsPerByte ? loss.map { r($0 / (log(2.0) * bytesPerToken(v)), 6) } : nil
            }
            let finalVal = isFinal ? val.map { r($0 + spec.finalSetOffset, 6) } : nil
            if let finalVal { finalEval = finalVal }
            // Before the final evaluation was recorded apart, it replaced the last step's evaluation-set loss.
            let apart = spec.finalRecordedApart
            let logged = apart ? val : (finalVal ?? val)
            let record = MetricsRecord(
                step: s, tokens: s * tokensPerStep, trainLoss: train, valLoss: logged, lr: lr,
                gradNorm: gradNorm, tokensPerSecond: rate, elapsed: elapsed, valBpb: bitsPerByte(logged),
                finalValLoss: apart ? finalVal : nil, finalValBpb: apart ? bitsPerByte(finalVal) : nil)
            metrics.append(try RunJSON.encode(record, pretty: false))
            metrics.append(0x0A)
        }
        try AtomicWrite.write(metrics, to: url.appendingPathComponent(RunFiles.metrics))

        let config = RunConfigView(
            config: .init(
                strategy: strategy, strategyOptions: .object([:]), seed: seed, corpus: "shakespeare", contextLength: t,
                parametrization: strategy == "mup" ? "mup" : "sp", evalBatches: 4, finalEvalBatches: spec.finalEvalBatches),
            model: .init(dModel: d, nLayer: shape.nLayer, nHead: shape.nHead, vocabSize: v, contextLength: t, tieEmbeddings: false),
            strategyOptions: .object([:]),
            parameters: ParameterCounts(
                total: total, trainable: trainable, embedding: embedding, nonEmbedding: n,
                optimizerStateBytes: trainable * 8),
            provenance: Provenance(
                packageVersion: "0.1.0", gitCommit: "8131129062b92246de3ad809dfade126f7103d82",
                corpusSHA256: "3a494a4023b9f314f593e68b868cc53d34de580a1f79542d07a1366b35e5340d",
                tokenizerSHA256: "34c0a683c54e97656be81d51d69297271db58708eb680441e74e63cc50cc7ce3",
                seed: seed, blasCore: "Haswell", threads: 1, createdAt: "2026-11-25T09:00:00Z"),
            configHash: String(stableHash(id + "config"), radix: 16), batchShards: nil,
            schedule: spec.wsdDecayStart.map {
                ScheduleRecord(kind: "wsd", warmupSteps: 20, decayStartStep: $0, totalSteps: spec.steps, decayStartTokens: $0 * tokensPerStep)
            })
        try RunJSON.write(config, to: url.appendingPathComponent(RunFiles.config))

        var status = RunStatus(
            state: diverges ? .diverged : runs ? .running : .finished, step: lastStep, totalSteps: spec.steps,
            reason: diverges ? "non-finite training loss (nan) at step \(lastStep)" : nil)
        status.updatedAt = "2026-11-25T09:00:00Z"
        try RunJSON.write(status, to: url.appendingPathComponent(RunFiles.status))
        guard !diverges && !runs else { return }
        var summary = RunSummary(
            finalValLoss: finalEval, steps: spec.steps, tokens: spec.steps * tokensPerStep,
            elapsed: r(Double(spec.steps) * 0.05 * Double(d) / 64, 4), trainableParameters: trainable,
            totalParameters: total, nonEmbeddingParameters: n)
        if spec.bitsPerByte {
            summary.finalValBpb = r(finalEval / (log(2.0) * bytesPerToken(v)), 6)
            summary.trainBytes = Int((Double(spec.steps * tokensPerStep) * bytesPerToken(v)).rounded())
            summary.trainFlops = (6 * Double(n) + 12 * Double(shape.nLayer * d * t)) * Double(spec.steps * tokensPerStep)
        }
        try RunJSON.write(summary, to: url.appendingPathComponent(RunFiles.summary))
        if spec.probes && !spec.withoutProbes.contains(id) {
            try SyntheticProbes.write(
                strategy: strategy, dModel: d, nLayer: shape.nLayer, nHead: shape.nHead, vocab: v,
                nonEmbedding: n, seed: seed, steps: spec.steps, signal: spec.wordSimilaritySignal,
                retrieval: spec.retrieval, id: id, to: url)
        }
    }

    /// `x` rounded to `digits` decimals, as the synthetic files always stored it.
    private static func r(_ x: Double, _ digits: Int) -> Double { Double(String(format: "%.\(digits)f", x))! }

    /// FNV-1a 64 of the UTF-8 bytes (stable across runs, unlike `hashValue`).
    static func stableHash(_ s: String) -> UInt64 { FNV1a.hash(s.utf8) }
}
