import Foundation
import Kernels
import Model
import RunFormat
import Trainer

/// Cost of one run: tokens, FLOPs (training + evaluation), memory, and estimated wall time.
public struct RunEstimate: Sendable {
    public var run: GridRun
    public var steps: Int
    public var tokens: Int
    public var flops: Double
    /// Seconds on one worker with `threads` threads: `startup` plus the FLOPs at the calibrated rate.
    public var seconds: Double
    /// The per-process part of `seconds` that does not scale with steps (`Throughput.startup`).
    public var startup = 0.0
    public var memoryBytes: Int
    /// False for a byte budget whose tokenizer is not trained yet: steps, tokens, FLOPs and time are then 0.
    public var known = true
    public var nonEmbeddingParameters: Int { run.model.nonEmbeddingParameters }

    /// Seconds for a process that resumes at `fromStep`: the whole start-up, the remaining steps' share of the rest.
    public func seconds(fromStep: Int) -> Double {
        guard steps > 0, fromStep > 0 else { return seconds }
        return startup + (seconds - startup) * Double(max(steps - fromStep, 0)) / Double(steps)
    }
}

/// How fast this machine trains each run, in FLOP/s, by one of two measures:
/// - `timedSteps` (a grid with no finished runs, unless an efficiency is given): a few training steps of each model
///   shape, timed now in this process on random tokens (`TrainingBenchmark.secondsPerStep`), so the rate includes
///   everything a step does on this CPU (attention, LayerNorm, GELU, the loss over the vocabulary, AdamW), not only
///   its matrix products;
/// - `sgemmEfficiency`: sgemm GFLOP/s measured at each model's own matrix shapes × an efficiency factor, the median
///   achieved ÷ sgemm ratio of this grid's finished runs when there are some (they include what the timed steps
///   cannot: two workers sharing caches and memory bandwidth, real data), else the one given, else `defaultEfficiency`.
public struct Throughput: Sendable {
    public enum Basis: Sendable, Equatable { case timedSteps, sgemmEfficiency }
    public var basis: Basis
    /// The factor of a 2-core Zen 4 VM, where the median over the 36 runs of ablations/default.yaml (one thread per
    /// run, two runs in parallel) was 0.71: used when a shape's steps cannot be timed (its model cannot be built here).
    /// On the Sapphire Rapids VM of `reports/bench.md` the grid's runs reached only 0.46, which is why a fresh grid's
    /// plan times steps instead.
    public static let defaultEfficiency = 0.70
    public var efficiency: Double
    public var source: String
    /// Seconds each run's process spends outside the training loop that the rate is calibrated on (summary.json's
    /// `elapsed`): process start, grid file, tokenizer and token streams, model init, config.json, the step-0
    /// snapshot. The median of `timing.wall − elapsed` over this grid's finished runs when there are any, else
    /// `defaultStartup`.
    public var startup: Double
    public var startupSource: String
    /// `startup` measured as that median over 8 runs of the default grid's d48 L2 and d80 L3 shapes (`grid run`, 2
    /// jobs × 1 thread) on a 2-vCPU VM that other work was loading (0.25–0.70 s); an idle machine starts faster, and
    /// a grid's own finished runs replace it.
    public static let defaultStartup = 0.5
    static let defaultStartupSource = "measured on a loaded 2-vCPU VM"
    private var cache: [String: Double] = [:]
    /// Seconds per step by model shape (`stepKey`), timed once each; nil where the model could not be built.
    public private(set) var stepSeconds: [String: Double?] = [:]
    /// Times the steps of a config (`TrainingBenchmark.secondsPerStep`; tests substitute their own).
    let timeStep: @Sendable (TrainConfig) throws -> Double
    public let threads: Int

    /// The OpenBLAS kernel the steps are timed under when it is not this process's (a grid's `blas_kernel`), for the
    /// plan's rate line.
    public let kernel: String?

    /// `efficiency` given: sgemm × that factor. Otherwise timed steps, until `GridPlan.calibrate` finds finished runs.
    public init(
        threads: Int, efficiency: Double? = nil, source: String? = nil, kernel: String? = nil,
        timeStep: @escaping @Sendable (TrainConfig) throws -> Double = { try TrainingBenchmark.secondsPerStep(config: $0) }
    ) {
        self.threads = threads
        self.kernel = kernel
        self.timeStep = timeStep
        basis = efficiency == nil ? .timedSteps : .sgemmEfficiency
        self.efficiency = efficiency ?? Self.defaultEfficiency
        self.source = source ?? "default efficiency \(Self.defaultEfficiency) (calibrated on an idle 2-core Zen 4 VM)"
        startup = Self.defaultStartup
        startupSource = String(format: "%.2f s per run (default: %@)", Self.defaultStartup, Self.defaultStartupSource)
    }

    /// Training FLOP/s of `run` (`TrainingCost`'s FLOPs per second of the run's process, evaluation included).
    public mutating func flopRate(_ run: GridRun) -> Double {
        if basis == .timedSteps, let seconds = timedStep(run) {
            return run.model.trainingFLOPsPerToken * Double(run.config.batchSize * run.config.contextLength) / seconds
        }
        return peakGFLOPS(run) * 1e9 * efficiency
    }

    /// What decides a step's time: the model's shape, the batch and its shards, and the thread count. The strategy
    /// and parametrization barely do (the embedding is 0.1–0.3 % of a step at the bench's grid shapes), nor does any
    /// hyperparameter, so runs differing only in those share one timing.
    public static func stepKey(_ run: GridRun) -> String {
        let m = run.model, c = run.config
        return "V\(m.vocabSize) d\(m.dModel) L\(m.nLayer) H\(m.nHead) T\(c.contextLength) B\(c.batchSize) shards\(c.batchShards ?? 0) "
            + "bias\(m.bias) tied\(m.tieEmbeddings)"
    }

    /// Seconds per step of the run's model shape, timed the first time the shape is asked for, with the `learned`
    /// strategy (a strategy with a source, like `transplant`, needs files that may not exist yet).
    public mutating func timedStep(_ run: GridRun) -> Double? {
        let key = Self.stepKey(run)
        if let known = stepSeconds[key] { return known }
        var config = run.config
        config.strategy = "learned"; config.strategyOptions = [:]; config.threads = threads
        let seconds = try? timeStep(config)
        let usable = seconds.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        stepSeconds[key] = usable
        return usable
    }

    /// sgemm GFLOP/s for the run's body (B·T × 4d × d) and head (B·T × V × d) shapes, FLOP-weighted.
    public mutating func peakGFLOPS(_ run: GridRun) -> Double {
        let m = run.config.batchSize * run.config.contextLength, d = run.model.dModel, v = run.model.vocabSize
        let body = gflops(m: m, n: 4 * d, k: d), head = gflops(m: m, n: v, k: d)
        let headShare = Double(v * d) / Double(max(run.model.nonEmbeddingParameters, 1))
        return 1 / (headShare / head + (1 - headShare) / body)
    }

    private mutating func gflops(m: Int, n: Int, k: Int) -> Double {
        let key = "\(m)x\(n)x\(k)"
        if let g = cache[key] { return g }
        BLAS.setThreads(threads)
        let g = BLAS.measureGFLOPS(m: m, n: n, k: k, repeats: 3)
        cache[key] = g
        return g
    }
}

public enum GridPlan {
    /// FLOPs of a run (`TrainingCost`: 6N+12LdT per trained token, a third of that per evaluated token). A byte
    /// budget's steps need the run's `trainSplit`; without it they are nil (the tokenizer is not trained yet).
    public static func flops(_ run: GridRun) -> (steps: Int, tokens: Int, flops: Double)? {
        let c = run.config
        guard let steps = c.totalSteps(trainSplit: run.trainSplit) else { return nil }
        return (steps, steps * c.batchSize * c.contextLength, TrainingCost.flops(config: c, model: run.model, steps: steps))
    }

    /// Bytes a run needs: parameters, gradients and Adam moments (4 × fp32 per parameter), activations of one
    /// batch, plus the runtime and token streams.
    public static func memoryBytes(_ run: GridRun, tokenStreamBytes: Int = 16 << 20) -> Int {
        let m = run.model, c = run.config
        let params = m.nonEmbeddingParameters + run.embeddingParameters
        let bt = c.batchSize * c.contextLength
        // One V-wide row per token: the logits, which a training forward's loss turns into their gradient in place.
        let activations = bt * (m.nLayer * (20 * m.dModel + 2 * m.nHead * c.contextLength) + m.vocabSize) * 4
        return 16 * params + activations + tokenStreamBytes + (96 << 20)
    }

    public static func estimate(_ runs: [GridRun], throughput: inout Throughput) -> [RunEstimate] {
        runs.map { run in
            guard let (steps, tokens, f) = flops(run) else {
                return RunEstimate(run: run, steps: 0, tokens: 0, flops: 0, seconds: 0, memoryBytes: memoryBytes(run), known: false)
            }
            let rate = throughput.flopRate(run)
            return RunEstimate(
                run: run, steps: steps, tokens: tokens, flops: f, seconds: throughput.startup + f / rate, startup: throughput.startup,
                memoryBytes: memoryBytes(run))
        }
    }

    /// The efficiency factor (median of achieved ÷ sgemm FLOP/s, unless `efficiency` is false: it was given) and the
    /// per-run start-up (median of `timing.wall − elapsed` over runs trained in one process) measured on finished runs
    /// in `layout`, where there are any.
    public static func calibrate(_ runs: [GridRun], layout: GridLayout, throughput: inout Throughput, efficiency: Bool = true) {
        var ratios: [Double] = [], startups: [Double] = []
        for run in runs.prefix(200) {
            let folder = RunFolder(layout.folder(run))
            guard let s = try? folder.read(RunSummary.self),
                let rec = try? RunJSON.read(GridRunRecord.self, from: layout.folder(run).appendingPathComponent(GridRunRecord.fileName)),
                rec.configHash == run.configHash
            else { continue }
            // A resumed run's `elapsed` spans several processes, its timing only the last.
            if let t = s.timing, t.fromStep == 0, t.origin == "process", t.wall >= s.elapsed { startups.append(t.wall - s.elapsed) }
            // A run of well under a second says little about the rate.
            guard efficiency, s.elapsed > 0.5, let f = flops(run)?.flops else { continue }
            let achieved = f / s.elapsed
            ratios.append(achieved / (throughput.peakGFLOPS(run) * 1e9))
        }
        func plural(_ n: Int) -> String { n == 1 ? "" : "s" }
        if !ratios.isEmpty {
            throughput.basis = .sgemmEfficiency
            throughput.efficiency = median(ratios)
            throughput.source = String(
                format: "efficiency %.2f measured on %d finished run%@ of this grid", throughput.efficiency, ratios.count, plural(ratios.count))
        }
        if !startups.isEmpty {
            throughput.startup = median(startups)
            throughput.startupSource = String(
                format: "%.2f s per run, measured on %d finished run%@ of this grid", throughput.startup, startups.count, plural(startups.count))
        }
    }

    /// The upper median (the element at count / 2 of the sorted values); `values` must not be empty.
    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// Wall time of the runs on `jobs` workers, longest first (what the runner does).
    public static func wallSeconds(_ seconds: [Double], jobs: Int) -> Double {
        var workers = [Double](repeating: 0, count: max(jobs, 1))
        for s in seconds.sorted(by: >) {
            let i = workers.indices.min { workers[$0] < workers[$1] }!
            workers[i] += s
        }
        return workers.max() ?? 0
    }

    public static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }

    public static func count(_ n: Double) -> String {
        switch abs(n) {
        case 1e15...: return String(format: "%.2fP", n / 1e15)
        case 1e12...: return String(format: "%.2fT", n / 1e12)
        case 1e9...: return String(format: "%.2fG", n / 1e9)
        case 1e6...: return String(format: "%.2fM", n / 1e6)
        case 1e3...: return String(format: "%.1fk", n / 1e3)
        default: return String(format: "%.0f", n)
        }
    }
}
