import Foundation
import RunFormat

/// Synthetic run folders of a grid that sweeps the learning rate and crosses arms with parametrizations (the
/// report's LR selection, parametrization slices and μP decomposition), written with the run format's own types,
/// including each run's grid-run.json (which carries the arm's label). Deterministic for a given spec.
///
/// The loss model: final loss 2 + 40·N^(−0.28) + the arm's gap + 0.3·(log₁₀ lr − log₁₀ lr*)², with the optimum lr*
/// fixed at 1e-2 under μP and 1e-2·64/d_model under SP (it moves with width), plus a per-seed offset shared by all
/// arms and per-run noise. The training loss ends 0.02 below it, but its optimum can be moved by
/// `trainOptimumShift` decades, so a test can tell a choice made on training loss from one made on validation loss.
public enum SyntheticSweep {
    public struct Arm: Sendable {
        public var label: String
        public var strategy: String
        public var parametrization: String
        /// The strategy options as config.json records them (resolved; e.g. init_std, input_multiplier).
        public var options: [String: Double]
        /// Added to the final loss (nats).
        public var gap: Double
        /// This arm's own learning rates (a rate fixed per strategy by the grid); nil: the spec's.
        public var learningRates: [Double]?
        /// More grid-run.json axes of this arm's runs (e.g. a strategy_options axis: ["table": "scaled"]), also in
        /// their run ids.
        public var axes: [String: String] = [:]
        public init(_ label: String, strategy: String, parametrization: String = "sp", options: [String: Double] = [:], gap: Double = 0) {
            self.label = label; self.strategy = strategy; self.parametrization = parametrization; self.options = options
            self.gap = gap
        }
    }

    public struct Spec: Sendable {
        public var arms: [Arm]
        public var shapes: [SyntheticGrid.Shape]
        public var seeds: [UInt64]
        public var learningRates: [Double]
        public var vocabSize = 2048
        public var contextLength = 64
        public var steps = 100
        public var logInterval = 5
        public var evalInterval = 25
        /// Decades between the training loss's optimum and the validation loss's.
        public var trainOptimumShift = 0.0
        /// Run ids to write as diverged.
        public var diverged: Set<String> = []
        /// Run ids to write as still running (half their steps, no summary.json).
        public var running: Set<String> = []
        /// Training-loss overrides per run id: every logged training loss is this value (ties in the LR choice).
        public var flatTrainLoss: [String: Double] = [:]
        /// Write a probes.json with retrieval records for every finished run.
        public var probes = false
        /// Another axis of the grid crossed with everything else (e.g. weight_decay), recorded in each run's
        /// grid-run.json `axes` and run id: its name, and per value its label, the loss it adds (nats) and, when
        /// set, the learning rates it trains at instead of the arm's or the spec's.
        public var setting: Setting? = nil
        public init(arms: [Arm], shapes: [SyntheticGrid.Shape], seeds: [UInt64], learningRates: [Double]) {
            self.arms = arms; self.shapes = shapes; self.seeds = seeds; self.learningRates = learningRates
        }
    }

    public struct Setting: Sendable {
        public struct Value: Sendable {
            public var label: String
            public var gap: Double
            public var learningRates: [Double]?
            /// Added to the loss of one arm's runs only (arm label → nats): the value changes that arm's gap.
            public var armGaps: [String: Double]
            public init(_ label: String, gap: Double = 0, learningRates: [Double]? = nil, armGaps: [String: Double] = [:]) {
                self.label = label; self.gap = gap; self.learningRates = learningRates; self.armGaps = armGaps
            }
        }
        public var axis: String
        public var values: [Value]
        public init(_ axis: String, _ values: [Value]) { self.axis = axis; self.values = values }
    }

    public static func runID(
        _ arm: Arm, _ s: SyntheticGrid.Shape, lr: Double, vocab: Int, seed: UInt64, setting: Setting.Value? = nil
    ) -> String {
        RunID.compose(
            arm: arm.label, dModel: s.dModel, nLayer: s.nLayer, vocabSize: vocab,
            extra: (arm.parametrization == "sp" ? [] : [arm.parametrization]) + arm.axes.keys.sorted().map { arm.axes[$0]! }
                + ["lr" + String(format: "%g", lr)] + (setting.map { [$0.label] } ?? []),
            seed: seed)
    }

    /// The learning rate with the lowest final loss in the loss model (before noise).
    public static func optimum(_ arm: Arm, dModel: Int) -> Double {
        arm.parametrization == "mup" ? 1e-2 : 1e-2 * 64 / Double(dModel)
    }

    /// Writes every run of `spec` under `directory`; returns the ids written.
    @discardableResult
    public static func write(_ spec: Spec, to directory: URL) throws -> [String] {
        var ids = [String]()
        let settings: [Setting.Value?] = spec.setting?.values ?? [nil]
        for arm in spec.arms {
            for shape in spec.shapes {
                for setting in settings {
                    for lr in setting?.learningRates ?? arm.learningRates ?? spec.learningRates {
                        for seed in spec.seeds {
                            let id = runID(arm, shape, lr: lr, vocab: spec.vocabSize, seed: seed, setting: setting)
                            try writeRun(
                                spec, arm: arm, shape: shape, lr: lr, seed: seed, setting: setting, id: id,
                                to: directory.appendingPathComponent(id))
                            ids.append(id)
                        }
                    }
                }
            }
        }
        return ids
    }

    private static func writeRun(
        _ spec: Spec, arm: Arm, shape: SyntheticGrid.Shape, lr: Double, seed: UInt64, setting: Setting.Value?, id: String,
        to url: URL
    ) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let v = spec.vocabSize, d = shape.dModel, t = spec.contextLength
        let n = SyntheticGrid.nonEmbedding(shape, vocab: v)
        var seedRNG = SplitMix64(seed &* 0x9E37_79B9 &+ UInt64(d) &* 31 &+ UInt64(shape.nLayer))
        let seedOffset = 0.02 * seedRNG.normal()
        var rng = SplitMix64(SyntheticGrid.stableHash(id))
        let distance = log10(lr) - log10(optimum(arm, dModel: d))
        let base = 2 + 40 * pow(Double(n), -0.28) + arm.gap + (setting?.gap ?? 0) + (setting?.armGaps[arm.label] ?? 0) + seedOffset
        let final = rounded(base + 0.3 * distance * distance + 0.004 * rng.normal())
        let trainShifted = distance - spec.trainOptimumShift
        let trainFinal = base - 0.02 + 0.3 * trainShifted * trainShifted
        let diverges = spec.diverged.contains(id), running = spec.running.contains(id)
        let lastStep = diverges || running ? spec.steps / 2 : spec.steps

        var metrics = Data()
        let start = log(Double(v))
        for s in stride(from: spec.logInterval, through: lastStep, by: spec.logInterval) {
            let decay = pow(1 + Double(s) / 10, -0.7), end = pow(1 + Double(spec.steps) / 10, -0.7)
            let fraction = (decay - end) / (1 - end)
            var train = diverges && s == lastStep ? Double.nan : rounded(trainFinal + (start - trainFinal) * fraction + 0.005 * rng.normal())
            if let flat = spec.flatTrainLoss[id] { train = flat }
            let isFinal = s == spec.steps
            let val: Double? =
                isFinal ? final : s % spec.evalInterval == 0 ? rounded(final + (start - final) * fraction + 0.01 * rng.normal()) : nil
            let record = MetricsRecord(
                step: s, tokens: s * 16 * t, trainLoss: train, valLoss: val, lr: lr, gradNorm: 0.5, tokensPerSecond: 10_000,
                elapsed: Double(s) / 10, finalValLoss: isFinal ? val : nil)
            metrics.append(try RunJSON.encode(record, pretty: false))
            metrics.append(0x0A)
        }
        try AtomicWrite.write(metrics, to: url.appendingPathComponent(RunFiles.metrics))

        let options = JSONValue.object(arm.options.mapValues { .double($0) })
        let config = RunConfigView(
            config: .init(
                strategy: arm.strategy, strategyOptions: options, seed: seed, corpus: "shakespeare", contextLength: t,
                learningRate: lr, parametrization: arm.parametrization),
            model: .init(dModel: d, nLayer: shape.nLayer, nHead: shape.nHead, vocabSize: v, contextLength: t, tieEmbeddings: false),
            strategyOptions: options,
            parameters: ParameterCounts(
                total: n + 2 * v * d, trainable: n + v * d, embedding: v * d, nonEmbedding: n, optimizerStateBytes: 8 * (n + v * d)),
            provenance: Provenance(
                packageVersion: "0.1.0", gitCommit: "8131129062b92246de3ad809dfade126f7103d82", corpusSHA256: "c0", tokenizerSHA256: "t0",
                seed: seed, blasCore: "Haswell", threads: 1, createdAt: "2026-11-25T09:00:00Z"),
            configHash: String(SyntheticGrid.stableHash(id + "config"), radix: 16), batchShards: nil)
        try RunJSON.write(config, to: url.appendingPathComponent(RunFiles.config))
        // The axes as a grid writes them: the ones the report reads from config.json too, and the setting's.
        var axes = arm.axes.merging(["strategy": arm.label, "size": "d\(d)-L\(shape.nLayer)", "seed": String(seed)]) { $1 }
        if let axis = spec.setting?.axis, let label = setting?.label { axes[axis] = label }
        let gridRun = GridRunFile<JSONValue>(
            grid: "sweep", runID: id, configHash: config.configHash!, blasKernel: nil, axes: axes, config: .object([:]))
        try RunJSON.write(gridRun, to: url.appendingPathComponent(RunFiles.gridRun))

        var status = RunStatus(
            state: diverges ? .diverged : running ? .running : .finished, step: lastStep, totalSteps: spec.steps,
            reason: diverges ? "non-finite training loss (nan) at step \(lastStep)" : nil)
        status.updatedAt = "2026-11-25T09:00:00Z"
        try RunJSON.write(status, to: url.appendingPathComponent(RunFiles.status))
        guard !diverges, !running else { return }
        if spec.probes {
            try SyntheticProbes.write(
                strategy: arm.strategy, dModel: d, nLayer: shape.nLayer, nHead: shape.nHead, vocab: v, nonEmbedding: n,
                seed: seed, steps: spec.steps, signal: 1, retrieval: true, id: id, to: url)
        }
        let summary = RunSummary(
            finalValLoss: final, steps: spec.steps, tokens: spec.steps * 16 * t, elapsed: Double(spec.steps) / 10,
            trainableParameters: n + v * d, totalParameters: n + 2 * v * d, nonEmbeddingParameters: n)
        try RunJSON.write(summary, to: url.appendingPathComponent(RunFiles.summary))
    }

    /// Six decimals, as the trainer's files hold them.
    private static func rounded(_ x: Double) -> Double { Double(String(format: "%.6f", x))! }
}
