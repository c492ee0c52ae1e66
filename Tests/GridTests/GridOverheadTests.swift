import Foundation
import Grid
import RunFormat
import Synchronization
import Trainer
import XCTest

/// The plan's per-run start-up term and the overhead lines of `grid run`, on hand-made timings.
final class GridOverheadTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("grid-overhead-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func timing(wall: Double, startup: Double, training: Double, fromStep: Int = 0, origin: String = "process") -> RunTiming {
        RunTiming(
            wall: wall, startup: startup, training: training, firstStep: 0, evaluation: 1, checkpoints: 0.5, snapshots: 0.5, records: 0,
            fromStep: fromStep, origin: origin, cpu: wall / 2)
    }

    /// The start-up term is the median of `timing.wall − elapsed` over finished runs trained in one process; a resumed
    /// run (its timing covers only the last process, its elapsed all of them) and a timing without the process start
    /// do not count; runs without a timing (older folders) are skipped. Calibrated even when the efficiency is given.
    func testStartupIsTheMedianOverRunsTrainedInOneProcess() throws {
        let g = try GridFile.parse(
            """
            name: cal
            base: {preset: tiny, corpus: tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4, max_steps: 10, warmup_steps: 2}
            axes:
              seed: [1, 2, 3, 4, 5, 6]
            """, path: "cal.yaml")
        let runs = try GridExpansion.expand(g)
        let layout = GridLayout(root: tmp, gridName: g.name)
        // wall − elapsed: 0.25, 0.75, 0.5 count; the resumed run (9.0), the "trainer" origin (7.0) and the run
        // without a timing do not.
        let timings: [RunTiming?] = [
            timing(wall: 10.25, startup: 0.2, training: 8), timing(wall: 10.75, startup: 0.6, training: 8),
            timing(wall: 10.5, startup: 0.4, training: 8), timing(wall: 19, startup: 0.4, training: 8, fromStep: 5),
            timing(wall: 17, startup: 0.4, training: 8, origin: "trainer"), nil,
        ]
        for (run, t) in zip(runs, timings) {
            let folder = RunFolder(layout.folder(run))
            try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
            try RunJSON.write(GridRunRecord(grid: g, run: run), to: folder.url.appendingPathComponent(GridRunRecord.fileName))
            var s = RunSummary(
                finalValLoss: 3, steps: 10, tokens: 640, elapsed: 10, trainableParameters: 1, totalParameters: 1, nonEmbeddingParameters: 1)
            s.timing = t
            try folder.write(s)
        }
        var tp = Throughput(threads: 1, efficiency: 0.5, source: "given")
        GridPlan.calibrate(runs, layout: layout, throughput: &tp, efficiency: false)
        XCTAssertEqual(tp.startup, 0.5)
        XCTAssertEqual(tp.startupSource, "0.50 s per run, measured on 3 finished runs of this grid")
        XCTAssertEqual(tp.efficiency, 0.5)
        XCTAssertEqual(tp.source, "given")

        // With no finished run the default stands, and every estimate carries it.
        var fresh = Throughput(threads: 1, efficiency: 0.5, source: "given")
        GridPlan.calibrate(runs, layout: GridLayout(root: tmp, gridName: "empty"), throughput: &fresh, efficiency: false)
        XCTAssertEqual(fresh.startup, Throughput.defaultStartup)
        let e = try XCTUnwrap(GridPlan.estimate(Array(runs.prefix(1)), throughput: &fresh).first)
        XCTAssertEqual(e.startup, Throughput.defaultStartup)
        XCTAssertGreaterThan(e.seconds, e.startup)
        // A process resuming at step s pays the whole start-up and the remaining steps' share of the rest.
        XCTAssertEqual(e.steps, 10)
        XCTAssertEqual(e.seconds(fromStep: 0), e.seconds)
        XCTAssertEqual(e.seconds(fromStep: 4), e.startup + (e.seconds - e.startup) * 0.6, accuracy: 1e-12)
        XCTAssertEqual(e.seconds(fromStep: 10), e.startup, accuracy: 1e-12)
    }

    /// A fresh grid's plan times the steps of each model shape once, with the `learned` strategy, and divides each
    /// run's FLOPs by the FLOP rate those steps imply; finished runs (or a given efficiency) switch it to sgemm × the
    /// efficiency, timing nothing.
    func testFreshGridTimesStepsOncePerShape() throws {
        let g = try GridFile.parse(
            """
            name: timed
            base: {corpus: tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4, max_steps: 10, warmup_steps: 2, eval_interval: 5}
            axes:
              strategy:
                - learned
                - {name: mup, parametrization: mup, base_width: 16}
              size:
                - {d_model: 16, n_layer: 1, n_head: 2}
                - {d_model: 32, n_layer: 2, n_head: 2}
              seed: [1, 2]
            """, path: "timed.yaml")
        let runs = try GridExpansion.expand(g)
        XCTAssertEqual(runs.count, 8)
        // A step takes d_model/1000 s here, so the two shapes have different rates.
        let timed = Mutex<[TrainConfig]>([])
        var tp = Throughput(threads: 1) { config in
            timed.withLock { $0.append(config) }
            return Double(config.dModel!) / 1000
        }
        XCTAssertEqual(tp.basis, .timedSteps)
        GridPlan.calibrate(runs, layout: GridLayout(root: tmp, gridName: g.name), throughput: &tp)
        let estimates = GridPlan.estimate(runs, throughput: &tp)
        let configs = timed.withLock { $0 }
        XCTAssertEqual(configs.map(\.dModel), [16, 32])
        XCTAssertEqual(Set(configs.map(\.strategy)), ["learned"])
        XCTAssertEqual(configs.map(\.parametrization), ["sp", "sp"])
        for e in estimates {
            let stepSeconds = Double(e.run.model.dModel) / 1000
            let rate = e.run.model.trainingFLOPsPerToken * 64 / stepSeconds
            XCTAssertEqual(e.seconds, Throughput.defaultStartup + e.flops / rate, accuracy: 1e-9, e.run.id)
        }
        // Evaluation makes a run's FLOPs more than its steps': 10 steps plus two evaluations of 8 batches (5 and 10)
        // and the final one of 32, each token at a third of a trained one.
        let first = try XCTUnwrap(estimates.first)
        let evaluatedBatches: Double = 2 * 8 + 32
        XCTAssertEqual(first.seconds - first.startup, 0.016 * (10 + evaluatedBatches / 3), accuracy: 1e-9)

        // A given efficiency, or finished runs, replace the timing: nothing is timed.
        var given = Throughput(threads: 1, efficiency: 0.5, source: "given") { _ in
            XCTFail("timed despite a given efficiency")
            return 1
        }
        XCTAssertEqual(given.basis, .sgemmEfficiency)
        _ = GridPlan.estimate(Array(runs.prefix(1)), throughput: &given)
        let layout = GridLayout(root: tmp, gridName: g.name)
        let folder = RunFolder(layout.folder(runs[0]))
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
        try RunJSON.write(GridRunRecord(grid: g, run: runs[0]), to: folder.url.appendingPathComponent(GridRunRecord.fileName))
        try folder.write(
            RunSummary(finalValLoss: 3, steps: 10, tokens: 640, elapsed: 2, trainableParameters: 1, totalParameters: 1, nonEmbeddingParameters: 1))
        var calibrated = Throughput(threads: 1) { _ in
            XCTFail("timed despite finished runs")
            return 1
        }
        GridPlan.calibrate(runs, layout: layout, throughput: &calibrated)
        XCTAssertEqual(calibrated.basis, .sgemmEfficiency)
        XCTAssertEqual(calibrated.source, String(format: "efficiency %.2f measured on 1 finished run of this grid", calibrated.efficiency))
        _ = GridPlan.estimate(runs, throughput: &calibrated)
    }

    /// The real step timer runs the steps of a config's model on random tokens: a positive, finite time per step.
    func testSecondsPerStepTrainsTheConfigsModel() throws {
        var config = TrainConfig()
        config.vocabSize = 256; config.dModel = 16; config.nLayer = 1; config.nHead = 2; config.contextLength = 8; config.batchSize = 2
        let seconds = try TrainingBenchmark.secondsPerStep(config: config, warmup: 1, steps: 3)
        XCTAssertTrue(seconds.isFinite && seconds > 0, "\(seconds)")
        // A config that diverges at once is timed all the same: a plan never stops on it (the bench's step would trap).
        var diverging = config
        diverging.strategyOptions = ["init_std": .double(1e30), "input_multiplier": .double(1e30)]
        let trainer = try TrainingBenchmark.makeTrainer(config: diverging, steps: 1)
        guard case .refused = trainer.takeStep(0, lr: 1e-3).update else { return XCTFail("the config was meant to diverge") }
        XCTAssertGreaterThan(try TrainingBenchmark.secondsPerStep(config: diverging, warmup: 1, steps: 2), 0)
        config.nHead = 3
        XCTAssertThrowsError(try TrainingBenchmark.secondsPerStep(config: config), "d_model 16 is not divisible by 3 heads")
    }

    /// Shares are of the summed categories plus the extra seconds, in report order; they add up to 100 %.
    func testSharesOfSummedCategories() {
        // Two runs of 10 s wall: training 7 + 5, evaluation 1 + 1, start-up 0.5 + 1.5, checkpoints and snapshots
        // 0.5 each per run, records 0, other 0.5 + 1.5; plus 0 s outside the trainer.
        let a = timing(wall: 10, startup: 0.5, training: 7), b = timing(wall: 10, startup: 1.5, training: 5)
        XCTAssertEqual(a.other, 0.5)
        XCTAssertEqual(b.other, 1.5)
        XCTAssertEqual(
            GridOverhead.shares([a, b], extra: [("spawn/exit", 0)]),
            "training 60 %, evaluation 10 %, start-up 10 %, checkpoints 5.0 %, snapshots 5.0 %, records 0.0 %, other 10 %, spawn/exit 0.0 %")
        XCTAssertEqual(GridOverhead.shares([]), "")
    }

    /// `grid run`'s closing lines: the plan's wall for the runs trained now (longest first on the slots) against the
    /// measured wall, their ratio, the categories, the CPU share and the grid's own overhead.
    func testOverheadLines() throws {
        var o = GridOverhead()
        o.jobs = 2
        o.runs = [
            .init(id: "a", estimate: 8, estimatedStartup: 0.5, process: 10.5, timing: timing(wall: 10, startup: 0.5, training: 7)),
            .init(id: "b", estimate: 6, estimatedStartup: 0.5, process: 10.1, timing: timing(wall: 10, startup: 1.5, training: 5)),
            .init(id: "c", estimate: 2, estimatedStartup: 0.5, process: 3, timing: nil),
        ]
        o.startup = 0.3; o.gaps = 0.125; o.gapCount = 1; o.tailIdle = 3; o.wall = 16
        XCTAssertEqual(o.planWall, 8)  // LPT on 2 slots: 8 | 6 + 2
        let lines = o.lines(interrupted: false)
        XCTAssertEqual(
            lines[0],
            "time: plan 8s wall for the 3 run(s) trained now, measured 16.0 s (efficiency 0.50 = estimate ÷ measured); worker time 23.6 s against the plan's 16.0 s (0.68)"
        )
        XCTAssertTrue(lines[1].hasPrefix("  worker time by category (2 run(s)): training 58 %"), lines[1])
        XCTAssertTrue(lines[1].hasSuffix("spawn/exit 2.9 %"), lines[1])  // 0.5 + 0.1 of 20.6 s
        XCTAssertEqual(lines[2], "  workers ran on a core 50 % of their wall time (CPU ÷ wall × 1 thread(s)); the rest they waited for one")
        // training + evaluation 14 s against the plan's 7.5 + 5.5 = 13 s; the rest (10.5 − 8) + (10.1 − 6) = 6.6 s over 2 runs.
        XCTAssertEqual(
            lines[3],
            "  training + evaluation took 1.08× the plan's FLOP-rate estimate (14.0 s against 13.0 s); the rest (start-up, writes, spawn/exit) 3.3 s per run against the plan's start-up 0.5 s"
        )
        XCTAssertEqual(
            lines[4],
            "  grid: start-up 0.3 s (grid file, the plan's timing, BLAS check, index), 1 scheduler gap(s) 0.1 s, slots idle at the end 3.0 s")
        XCTAssertFalse(o.lines(interrupted: true)[0].contains("efficiency"))
        XCTAssertEqual(GridOverhead().lines(interrupted: false), [])
    }
}
