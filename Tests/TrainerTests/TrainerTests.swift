import Embeddings
import Foundation
import Kernels
import Model
import RunFormat
import TensorFile
import Trainer
import XCTest

/// A token stream from a fixed random order-1 Markov chain over 16 symbols (ids 97…112), with a few
/// high-probability successors per symbol, so there is structure well below the unigram entropy.
final class MarkovBatches: BatchSource, @unchecked Sendable {
    let tokens: [Int32]
    let context: Int, batchSize: Int, seed: UInt64
    let validationStart: Int

    init(length: Int = 40_000, context: Int, batchSize: Int, seed: UInt64) {
        var rng = Xoshiro256(seed: 1234)
        let successors = (0..<16).map { _ in (0..<2).map { _ in rng.nextInt(below: 16) } }
        var t: [Int32] = [97]
        var s = 0
        for _ in 1..<length {
            s = rng.nextUniform() < 0.9 ? successors[s][rng.nextInt(below: 2)] : rng.nextInt(below: 16)
            t.append(Int32(97 + s))
        }
        tokens = t; self.context = context; self.batchSize = batchSize; self.seed = seed
        validationStart = length * 9 / 10
    }

    var unigramEntropy: Double {
        var counts = [Int: Int]()
        for x in tokens { counts[Int(x), default: 0] += 1 }
        let n = Double(tokens.count)
        return -counts.values.reduce(0.0) { $0 + Double($1) / n * log(Double($1) / n) }
    }

    private func copy(start: Int, row: Int, _ inputs: UnsafeMutablePointer<Int32>, _ targets: UnsafeMutablePointer<Int32>) {
        for i in 0..<context {
            inputs[row * context + i] = tokens[start + i]
            targets[row * context + i] = tokens[start + i + 1]
        }
    }

    func trainBatch(step: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        var rng = Xoshiro256(seed: seed, stream: UInt64(step))
        for b in 0..<batchSize { copy(start: rng.nextInt(below: validationStart - context - 1), row: b, inputs, targets) }
    }

    func validationBatch(index: Int, of count: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        let span = tokens.count - validationStart - context - 1
        for b in 0..<batchSize {
            let k = index * batchSize + b
            copy(start: validationStart + k * span / max(count * batchSize, 1), row: b, inputs, targets)
        }
    }
}

final class TrainerTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func config(steps: Int = 30, strategy: String = "learned", lr: Double = 3e-3) -> TrainConfig {
        var c = TrainConfig()
        c.corpus = "markov"; c.vocabSize = 256
        c.dModel = 32; c.nLayer = 2; c.nHead = 2; c.contextLength = 16
        c.batchSize = 8; c.maxSteps = steps; c.learningRate = lr; c.warmupSteps = 5
        c.evalInterval = 10; c.evalBatches = 2; c.finalEvalBatches = 4; c.logInterval = 5; c.checkpointInterval = 10
        c.strategy = strategy
        return c
    }

    func data(_ c: TrainConfig) -> RunData {
        RunData(
            vocabulary: .bytes, batches: MarkovBatches(context: c.contextLength, batchSize: c.batchSize, seed: c.seed),
            corpusSHA256: "test", tokenizerSHA256: "test", trainTokens: 36_000, validationTokens: 4_000)
    }

    func weights(_ t: Trainer) -> [Float] { Array(UnsafeBufferPointer(start: t.model.store.values, count: t.model.store.valueCount)) }

    /// The model must learn the chain: validation loss well below the unigram entropy (ln 16 ≈ 2.77 here).
    func testLossFallsWellBelowUnigramEntropy() throws {
        let c = config(steps: 200, lr: 1e-2)
        let d = data(c)
        let entropy = (d.batches as! MarkovBatches).unigramEntropy
        let result = try Trainer(config: c, data: d, folder: nil).run()
        XCTAssertEqual(result.status.state, .finished)
        let final = try XCTUnwrap(result.finalValLoss)
        // The chain's conditional entropy is ≈ 1.2 nats; 0.6 × unigram entropy (≈ 1.66) needs real learning.
        XCTAssertLessThan(final, 0.6 * entropy, "final val loss \(final) vs unigram entropy \(entropy)")
    }

    /// Training 20 steps equals training 10, stopping, and resuming for 10 — bit for bit.
    func testResumeIsBitIdentical() throws {
        let c = config(steps: 20)
        let straight = try Trainer(config: c, data: data(c), folder: RunFolder(tmp.appendingPathComponent("a")))
        _ = try straight.run()

        let folder = RunFolder(tmp.appendingPathComponent("b"))
        let first = try Trainer(config: c, data: data(c), folder: folder)
        let stopped = try first.run(shouldStop: { first.step == 10 })
        XCTAssertEqual(stopped.status.state, .running)
        XCTAssertEqual(stopped.steps, 10)
        let second = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertEqual(try second.resumeIfPossible(), 10)
        let result = try second.run()
        XCTAssertEqual(result.status.state, .finished)

        XCTAssertEqual(weights(straight), weights(second), "weights differ after resume")
        let a = try RunFolder(tmp.appendingPathComponent("a")).readMetrics(), b = try folder.readMetrics()
        XCTAssertEqual(a.map(\.step), b.map(\.step))
        XCTAssertEqual(a.map(\.trainLoss), b.map(\.trainLoss))
        XCTAssertEqual(a.map(\.valLoss), b.map(\.valLoss))
        XCTAssertEqual(a.map(\.valBpb), b.map(\.valBpb))
        XCTAssertEqual(a.filter { $0.valBpb != nil }.map(\.step), [10, 20])
        XCTAssertEqual(a.map(\.gradNorm), b.map(\.gradNorm))
        let sa = try RunFolder(tmp.appendingPathComponent("a")).read(RunSummary.self), sb = try folder.read(RunSummary.self)
        XCTAssertEqual(sa.finalValBpb, sb.finalValBpb)
        XCTAssertEqual(sa.trainBytes, sb.trainBytes)
        XCTAssertEqual(sa.trainFlops, sb.trainFlops)
        // The timing covers the process that finished the run: the resumed one started at step 10.
        XCTAssertEqual(sa.timing?.fromStep, 0)
        XCTAssertEqual(sb.timing?.fromStep, 10)
        XCTAssertEqual(result.timing, sb.timing)
    }

    /// summary.json's timing, as the trainer writes it and `grid plan` reads it: every category is ≥ 0 and they add up
    /// to at most the wall time (disjoint intervals of one clock), `other` is the rest, the first step is part of
    /// training, and `elapsed` (the training loop) lies inside the wall time. Structural only: no duration is assumed.
    func testTimingCategoriesAddUpToAtMostTheWallTime() throws {
        var c = config(steps: 12)
        c.snapshotCount = 4
        let folder = RunFolder(tmp.appendingPathComponent("timed"))
        let result = try Trainer(config: c, data: data(c), folder: folder).run()
        let summary = try folder.read(RunSummary.self)
        let t = try XCTUnwrap(summary.timing)
        XCTAssertEqual(result.timing, t)
        XCTAssertEqual(t.origin, "trainer")
        XCTAssertNil(t.cpu, "CPU time is the process's, recorded only when the timing counts from the process start")
        XCTAssertEqual(t.fromStep, 0)
        let parts = [t.startup, t.training, t.evaluation, t.checkpoints, t.snapshots, t.records, t.other]
        for p in parts + [t.firstStep, t.wall] { XCTAssertGreaterThanOrEqual(p, 0) }
        let categorized = parts.dropLast().reduce(0, +)
        XCTAssertLessThanOrEqual(categorized, t.wall)
        XCTAssertEqual(t.other, t.wall - categorized, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(t.firstStep, t.training)
        XCTAssertLessThanOrEqual(summary.elapsed, t.wall)
        // Each category was measured: this run evaluated, wrote checkpoints, snapshots and metrics.
        for (name, seconds) in t.categories where name != "other" && name != "start-up" { XCTAssertGreaterThan(seconds, 0, name) }
    }

    /// `checkpoints/latest` with surrounding whitespace is read; when the checkpoint it names is gone (deleted after a
    /// crash left it truncated), resume continues from the newest complete older one, says so, and still ends
    /// bit-identical to an uninterrupted run.
    func testResumeReadsLatestWithWhitespaceAndFallsBackToTheNewestCompleteCheckpoint() throws {
        var c = config(steps: 20)
        c.checkpointInterval = 5
        let straight = try Trainer(config: c, data: data(c), folder: RunFolder(tmp.appendingPathComponent("ref")))
        _ = try straight.run()

        let folder = RunFolder(tmp.appendingPathComponent("fallback"))
        let first = try Trainer(config: c, data: data(c), folder: folder)
        _ = try first.run(shouldStop: { first.step == 15 })
        let latest = folder.checkpointsURL.appendingPathComponent("latest")
        try Data((Checkpoint.name(step: 15) + "\n").utf8).write(to: latest)
        let again = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertEqual(try again.resumeIfPossible(), 15)
        XCTAssertNil(again.resumeNote)

        try FileManager.default.removeItem(at: folder.checkpointsURL.appendingPathComponent(Checkpoint.name(step: 15)))
        let second = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertEqual(try second.resumeIfPossible(), 10)
        let note = try XCTUnwrap(second.resumeNote)
        XCTAssertTrue(note.contains(Checkpoint.name(step: 10)), note)
        _ = try second.run()
        XCTAssertEqual(weights(straight), weights(second))
        XCTAssertEqual(try folder.readMetrics().map(\.step), try RunFolder(tmp.appendingPathComponent("ref")).readMetrics().map(\.step))
    }

    /// status.json follows the checkpoints: a process killed between two of them leaves the step it would resume from.
    func testStatusRecordsTheLastCheckpoint() throws {
        var c = config(steps: 20)
        c.checkpointInterval = 5
        let folder = RunFolder(tmp.appendingPathComponent("status"))
        let trainer = try Trainer(config: c, data: data(c), folder: folder)
        var seen: [Int: Int] = [:]
        _ = try trainer.run(shouldStop: {
            if [3, 7, 12].contains(trainer.step) { seen[trainer.step] = folder.readStatus()?.step }
            return trainer.step == 13
        })
        XCTAssertEqual(seen, [3: 0, 7: 5, 12: 10])
    }

    /// Resuming with other settings than the checkpoint's names the keys that differ, with both values.
    func testResumeWithAnotherConfigNamesTheKeys() throws {
        let c = config(steps: 20)
        let folder = RunFolder(tmp.appendingPathComponent("changed"))
        let first = try Trainer(config: c, data: data(c), folder: folder)
        _ = try first.run(shouldStop: { first.step == 10 })
        var other = c
        other.learningRate = c.learningRate * 2
        other.maxSteps = 30
        let second = try Trainer(config: other, data: data(other), folder: folder)
        XCTAssertThrowsError(try second.resumeIfPossible()) { error in
            let m = String(describing: error)
            XCTAssertTrue(
                m.contains("holds a checkpoint of a different config (learning_rate: \(c.learningRate) → \(other.learningRate), max_steps: 20 → 30)"),
                m)
        }
    }

    /// A malformed metrics line that is not a partial last line stops the resume with the file and line, and the
    /// file is left as it was (it used to be rewritten with the lines that parsed — or with none).
    func testResumeRefusesAMalformedMetricsLineAndChangesNothing() throws {
        let c = config(steps: 20)
        let folder = RunFolder(tmp.appendingPathComponent("badline"))
        let first = try Trainer(config: c, data: data(c), folder: folder)
        _ = try first.run(shouldStop: { first.step == 10 })
        var bytes = try Data(contentsOf: folder.metricsURL)
        let third = bytes.indices.filter { bytes[$0] == 0x0A }[1] + 1
        bytes.insert(0xFF, at: third + 3)
        try bytes.write(to: folder.metricsURL)
        let second = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertThrowsError(try second.resumeIfPossible()) { error in
            let m = String(describing: error)
            XCTAssertTrue(m.contains(folder.metricsURL.path) && m.contains("line 3") && m.contains("UTF-8"), m)
        }
        XCTAssertEqual(try Data(contentsOf: folder.metricsURL), bytes)
    }

    /// Checkpoints record the batch shards; resuming one written with another count (here: one from before the key
    /// existed, which ran as one shard) says that the rest of the run will round differently. The same count says nothing.
    func testResumeNotesAChangedShardCount() throws {
        let c = config(steps: 20)
        let folder = RunFolder(tmp.appendingPathComponent("shards"))
        let first = try Trainer(config: c, data: data(c), folder: folder)
        _ = try first.run(shouldStop: { first.step == 10 })
        let same = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertEqual(try same.resumeIfPossible(), 10)
        XCTAssertNil(same.resumeNote)

        let stateURL = try XCTUnwrap(Checkpoint.latest(in: folder)).appendingPathComponent(Checkpoint.stateFile)
        var state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL))
        XCTAssertEqual(state.batchShards, TrainConfig.defaultBatchShards)
        state.batchShards = nil
        try JSONEncoder().encode(state).write(to: stateURL)
        let old = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertEqual(try old.resumeIfPossible(), 10)
        let note = try XCTUnwrap(old.resumeNote)
        XCTAssertTrue(note.contains("1 batch shard(s)") && note.contains("uses 2"), note)
    }

    /// A run killed before its first checkpoint restarts from step 0 without keeping the lost attempt's metrics.
    func testResumeWithoutCheckpointDropsStaleMetrics() throws {
        var c = config(steps: 10)
        c.checkpointInterval = 1000
        let folder = RunFolder(tmp.appendingPathComponent("early"))
        try folder.create()
        try folder.appendMetrics(
            MetricsRecord(
                step: 5, tokens: 640, trainLoss: 9, valLoss: nil, lr: 1, gradNorm: 1,
                tokensPerSecond: 1, elapsed: 1))
        let t = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertNil(try t.resumeIfPossible())
        _ = try t.run()
        let steps = try folder.readMetrics().map(\.step)
        XCTAssertEqual(steps, steps.sorted())
        XCTAssertEqual(Set(steps).count, steps.count, "duplicated metrics lines: \(steps)")
    }

    /// Same config and seed ⇒ the same numbers; another seed ⇒ different ones.
    func testSameSeedSameNumbers() throws {
        let c = config(steps: 10)
        let x = try Trainer(config: c, data: data(c), folder: nil); _ = try x.run()
        let y = try Trainer(config: c, data: data(c), folder: nil); _ = try y.run()
        XCTAssertEqual(weights(x), weights(y))
        var c2 = c; c2.seed = 2
        let z = try Trainer(config: c2, data: data(c2), folder: nil); _ = try z.run()
        XCTAssertNotEqual(weights(x), weights(z))
    }

    /// A huge learning rate ends in status `diverged` with the step and the reason — not a crash.
    func testDivergenceIsRecorded() throws {
        var c = config(steps: 50, lr: 1e6)
        c.gradClip = 0; c.warmupSteps = 0
        let folder = RunFolder(tmp.appendingPathComponent("div"))
        let result = try Trainer(config: c, data: data(c), folder: folder).run()
        XCTAssertEqual(result.status.state, .diverged)
        XCTAssertNotNil(result.status.reason)
        XCTAssertEqual(folder.readStatus()?.state, .diverged)
        // The reason names the step as metrics.jsonl numbers steps: the one after the last (finite) logged step.
        var every = c
        every.logInterval = 1
        let all = RunFolder(tmp.appendingPathComponent("div-every"))
        let logged = try Trainer(config: every, data: data(every), folder: all).run()
        let last = try XCTUnwrap(try all.readMetrics().last)
        XCTAssertEqual(last.trainLoss?.isFinite, true)
        XCTAssertEqual(last.step, logged.steps)
        let reason = try XCTUnwrap(logged.status.reason)
        XCTAssertTrue(reason.hasSuffix("at step \(last.step + 1)") || reason.contains("at step \(last.step + 1) in tensor"), reason)
        XCTAssertFalse(reason.contains("-nan"), reason)
    }

    func testRunFolderContents() throws {
        let c = config(steps: 10)
        let folder = RunFolder(tmp.appendingPathComponent("run"))
        _ = try Trainer(config: c, data: data(c), folder: folder).run()
        let resolved = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.configURL)) as! [String: Any]
        let provenance = resolved["provenance"] as! [String: Any]
        for key in ["package_version", "git_commit", "corpus_sha256", "tokenizer_sha256", "seed"] {
            XCTAssertNotNil(provenance[key], key)
        }
        XCTAssertEqual(folder.readStatus()?.state, .finished)
        let metrics = try folder.readMetrics()
        XCTAssertEqual(metrics.last?.step, 10)
        XCTAssertNotNil(metrics.last?.valLoss)
        XCTAssertNotNil(Checkpoint.latest(in: folder))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.checkpointsURL.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [])
    }

    /// Every point of the validation curve is on the `eval_batches` set, the last one included; the final evaluation
    /// on the larger `final_eval_batches` set is recorded beside it on the last line and is what summary.json reports.
    func testCurveStaysOnOneEvaluationSetAndTheFinalSetIsRecordedApart() throws {
        let c = config(steps: 20)  // eval_batches 2, final_eval_batches 4
        let folder = RunFolder(tmp.appendingPathComponent("run"))
        let trainer = try Trainer(config: c, data: data(c), folder: folder)
        let result = try trainer.run()
        let metrics = try folder.readMetrics()
        let last = try XCTUnwrap(metrics.last)
        XCTAssertEqual(last.step, 20)
        XCTAssertEqual(last.valLoss, trainer.evaluate(batches: c.evalBatches).loss, "the curve's last point is on eval_batches")
        XCTAssertEqual(last.valBpb, trainer.evaluate(batches: c.evalBatches).bitsPerByte)
        let final = trainer.evaluate(batches: c.finalEvalBatches)
        XCTAssertEqual(last.finalValLoss, final.loss)
        XCTAssertEqual(last.finalValBpb, final.bitsPerByte)
        XCTAssertNotEqual(last.finalValLoss, last.valLoss, "the two sets differ, so the test can tell them apart")
        XCTAssertEqual(result.finalValLoss, final.loss)
        XCTAssertEqual(try RunJSON.read(RunSummary.self, from: folder.summaryURL).finalValLoss, final.loss)
        XCTAssertEqual(metrics.filter { $0.finalValLoss != nil }.map(\.step), [20], "only the last line")
    }

    /// A frozen table is bit-identical after training, has no gradient or optimizer state, while the rest trains.
    func testFrozenTableIsBitIdenticalAfterTraining() throws {
        let c = config(steps: 15, strategy: "frozen-random")
        let t = try Trainer(config: c, data: data(c), folder: nil)
        let table = t.model.store[FrozenRandomEmbedding.checkpointNames[0]]!, head = t.model.store["lm_head.weight"]!
        func values(_ p: Parameter) -> [Float] { Array(UnsafeBufferPointer(start: t.model.store.value(p), count: p.count)) }
        let (tableBefore, headBefore) = (values(table), values(head))
        _ = try t.run()
        XCTAssertEqual(values(table), tableBefore)
        XCTAssertNotEqual(values(head), headBefore)
        XCTAssertNil(table.gradientOffset)
        XCTAssertEqual(t.model.store.trainableCount, t.model.store.totalCount - table.count)
        XCTAssertEqual(t.optimizer.count, t.model.store.trainableCount, "optimizer state only for trainable tensors")
    }

    /// `transplant` starts a run from another run's trained table: frozen, it stays bit-identical to the source.
    func testTransplantFromAFinishedRun() throws {
        let c = config(steps: 10)
        let source = RunFolder(tmp.appendingPathComponent("source"))
        let a = try Trainer(config: c, data: data(c), folder: source)
        _ = try a.run()
        var t = config(steps: 10)
        t.strategy = "transplant"
        t.strategyOptions = ["checkpoint": .string(source.url.path)]
        let b = try Trainer(config: t, data: data(t), folder: nil)
        _ = try b.run()
        let trained = a.model.store[LearnedEmbedding.checkpointNames[0]]!, moved = b.model.store[TransplantEmbedding.checkpointNames[0]]!
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: a.model.store.value(trained), count: trained.count)),
            Array(UnsafeBufferPointer(start: b.model.store.value(moved), count: moved.count)))
        XCTAssertFalse(moved.spec.trainable)
    }

    /// config.json's `strategy_options` are the values the run used: a table's `init_std` and `input_multiplier` after
    /// the parametrization's defaults (`TableScale`), so a reader can tell a μP-scaled table from a plain one.
    func testConfigJSONRecordsTheResolvedTableScale() throws {
        for (strategy, parametrization, expected) in [
            ("learned", "sp", (0.02, 1.0)), ("frozen-random", "sp", (0.02, 1)), ("hashed", "sp", (0.02, 1)),
            ("learned", "mup", (0.08, 10)), ("frozen-random", "mup", (0.08, 10)), ("hashed", "mup", (0.08, 10)),
            ("mup", "mup", (0.08, 10)), ("lowrank", "mup", (0.08, 10)),
        ] {
            var c = config(steps: 2, strategy: strategy)
            c.parametrization = parametrization; c.baseWidth = 16
            let folder = RunFolder(tmp.appendingPathComponent("\(strategy)-\(parametrization)"))
            let t = try Trainer(config: c, data: data(c), folder: folder)
            _ = try t.run()
            XCTAssertEqual(t.model.strategy.outputMultiplier, Float(expected.1), strategy)
            // As a reader outside the trainer sees the file.
            let written = try RunJSON.read(RunConfigView.self, from: folder.url.appendingPathComponent(RunFiles.config))
            guard case let .object(options) = written.strategyOptions else { return XCTFail("\(strategy): no strategy_options") }
            // JSON does not keep 10.0 apart from 10: a whole number reads back as an integer.
            func number(_ key: String) -> Double? {
                switch options[key] {
                case let .double(d): return d
                case let .int(i): return Double(i)
                default: return nil
                }
            }
            XCTAssertEqual(number("init_std"), expected.0, "\(strategy) under \(parametrization)")
            XCTAssertEqual(number("input_multiplier"), expected.1, "\(strategy) under \(parametrization)")
            // The user's config stays as given (no options): the run's identity and hash do not change.
            XCTAssertEqual(written.config.strategyOptions, .object([:]), strategy)
        }
    }

    /// A μP run of a table strategy checkpointed before tables followed μP's scale (no `strategy_options` in its
    /// metadata) ran unscaled: loading rebuilds it so, and resuming refuses to switch its scale mid-run.
    func testCheckpointsFromBeforeTheMuPTableScaleKeepTheirScale() throws {
        var c = config(steps: 10)
        c.parametrization = "mup"; c.baseWidth = 16
        let folder = RunFolder(tmp.appendingPathComponent("old-mup-learned"))
        _ = try Trainer(config: c, data: data(c), folder: folder).run()
        let file = try XCTUnwrap(Checkpoint.latest(in: folder)).appendingPathComponent(Checkpoint.modelFile)
        var (tensors, metadata) = try Safetensors.decode(try Data(contentsOf: file), path: file.path)
        XCTAssertEqual(metadata[Checkpoint.strategyOptionsKey], #"{"init_std":0.08,"input_multiplier":10}"#)
        XCTAssertEqual(Checkpoint.configRebuilding(c, metadata: metadata).strategyOptions, [:])
        // Rewrite it as the version before wrote it.
        metadata[Checkpoint.strategyOptionsKey] = nil
        let buffers = tensors.map { t in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: t.values.count)
            _ = b.initialize(from: t.values)
            return b
        }
        defer { buffers.forEach { $0.deallocate() } }
        let old = zip(tensors, buffers).map { t, b in (name: t.name, shape: t.shape, data: UnsafeBufferPointer(b)) }
        try Safetensors.encode(old, metadata: metadata).write(to: file)
        tensors = []
        let rebuilt = Checkpoint.configRebuilding(c, metadata: metadata)
        XCTAssertEqual(rebuilt.strategyOptions, ["init_std": .double(0.02), "input_multiplier": .double(1)])
        XCTAssertEqual(try Trainer(config: rebuilt, data: data(rebuilt), folder: nil).model.strategy.outputMultiplier, 1)
        // `mup`, SP runs and options the run set itself are what they were.
        var mup = c; mup.strategy = "mup"
        XCTAssertEqual(Checkpoint.configRebuilding(mup, metadata: metadata).strategyOptions, [:])
        var sp = c; sp.parametrization = "sp"
        XCTAssertEqual(Checkpoint.configRebuilding(sp, metadata: metadata).strategyOptions, [:])
        var set = c; set.strategyOptions = ["input_multiplier": .double(4)]
        XCTAssertEqual(
            Checkpoint.configRebuilding(set, metadata: metadata).strategyOptions, ["input_multiplier": .double(4), "init_std": .double(0.02)])

        XCTAssertThrowsError(try Trainer(config: c, data: data(c), folder: folder).resumeIfPossible()) { error in
            guard let e = error as? ConfigError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.key, "strategy_options")
            XCTAssertTrue(e.message.contains("init_std 0.02, input_multiplier 1"), e.message)
        }
    }

    func testScheduleWarmupAndCosine() {
        let s = LRSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minRatio: 0.1)
        XCTAssertEqual(s.lr(at: 0), 0.1, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 9), 1.0, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 10), 1.0, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 60), 0.55, accuracy: 1e-12)  // halfway: 0.1 + 0.9·0.5
        XCTAssertEqual(s.lr(at: 110), 0.1, accuracy: 1e-12)
    }

    /// WSD: the peak held until the last `decayFraction` of the steps, then linear to minRatio × peak at the end.
    func testScheduleWarmupStableDecay() {
        let s = LRSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minRatio: 0.1, kind: .wsd, decayFraction: 0.2)
        XCTAssertEqual(s.decayStart, 88)  // 110 − round(0.2 · 110)
        XCTAssertEqual(s.lr(at: 0), 0.1, accuracy: 1e-12)
        for step in [10, 50, 87, 88] { XCTAssertEqual(s.lr(at: step), 1.0, accuracy: 1e-12, "step \(step)") }
        XCTAssertEqual(s.lr(at: 99), 0.55, accuracy: 1e-12)  // halfway through the decay: 0.1 + 0.9·(1 − 11/22)
        XCTAssertEqual(s.lr(at: 110), 0.1, accuracy: 1e-12)
        // Fraction 0: constant after warm-up; fraction 1: linear from the end of warm-up (never before it).
        let constant = LRSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minRatio: 0.1, kind: .wsd, decayFraction: 0)
        XCTAssertEqual(constant.lr(at: 109), 1.0, accuracy: 1e-12)
        let linear = LRSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minRatio: 0.1, kind: .wsd, decayFraction: 1)
        XCTAssertEqual(linear.decayStart, 10)
        XCTAssertEqual(linear.lr(at: 60), 0.55, accuracy: 1e-12)
        // Warm-up longer than the run: the decay would start after the last step; it is held at the end instead.
        XCTAssertEqual(LRSchedule(peak: 1, warmupSteps: 10, totalSteps: 5, minRatio: 0.1, kind: .wsd, decayFraction: 0.2).decayStart, 5)
        // The config keys resolve to it; absent keys keep the cosine schedule.
        var c = config(); c.lrSchedule = "wsd"; c.lrDecayFraction = 0.2
        XCTAssertEqual(c.learningRateSchedule(totalSteps: 110).decayStart, 110 - 22)
        XCTAssertEqual(config().learningRateSchedule(totalSteps: 110).kind, .cosine)
    }

    func testBadScheduleKeysNameTheKey() {
        var c = config(); c.lrSchedule = "wds"
        XCTAssertThrowsError(try c.validate()) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "lr_schedule")
            XCTAssertTrue(String(describing: e).contains("did you mean 'wsd'?"), String(describing: e))
        }
        c = config(); c.lrDecayFraction = 0.2
        XCTAssertThrowsError(try c.validate()) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "lr_decay_fraction")
            XCTAssertTrue(String(describing: e).contains("set lr_schedule: wsd"), String(describing: e))
        }
        c = config(); c.lrSchedule = "wsd"; c.lrDecayFraction = 1.5
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "lr_decay_fraction") }
        c = config(); c.lrSchedule = "wsd"; c.lrDecayFraction = 0.2
        XCTAssertNoThrow(try c.validate())
    }

    // MARK: bad input

    func testUnknownKeySuggestsTheNearest() {
        XCTAssertThrowsError(try TrainConfig.from(["learnig_rate": .double(1e-3)], source: "x.yaml")) { e in
            let text = String(describing: e)
            XCTAssertTrue(text.contains("x.yaml"), text)
            XCTAssertTrue(text.contains("learning_rate"), text)
        }
    }

    func testWrongTypeNamesTheKey() {
        XCTAssertThrowsError(try TrainConfig.from(["batch_size": .string("lots")])) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "batch_size", String(describing: e))
        }
    }

    /// A value a key cannot take names the key, what it must be and the value; --set's `seed=-1` or `.nan` used to
    /// give the decoder's "'': The given data was not valid JSON." or a raw EncodingError.
    func testBadNumbersSayWhatTheKeyTakes() {
        func message(_ key: String, _ value: JSONValue) -> String {
            do { _ = try TrainConfig.from([key: value], source: "c.yaml"); return "no error" } catch { return String(describing: error) }
        }
        XCTAssertEqual(message("seed", .int(-1)), "c.yaml: 'seed': must be a whole number ≥ 0, got -1. Fix: give 'seed' such a value (e.g. 1).")
        XCTAssertEqual(
            message("vocab_size", .double(256.7)),
            "c.yaml: 'vocab_size': must be a whole number, got 256.7. Fix: give 'vocab_size' such a value (e.g. 2048).")
        XCTAssertTrue(message("max_steps", .double(1e30)).hasPrefix("c.yaml: 'max_steps': must be a whole number, got 1e+30."))
        XCTAssertTrue(message("learning_rate", .double(.nan)).hasPrefix("c.yaml: 'learning_rate': must be a finite number, got nan."))
        XCTAssertTrue(message("adam_eps", .double(-.infinity)).hasPrefix("c.yaml: 'adam_eps': must be a finite number, got -inf."))
        XCTAssertTrue(
            message("strategy_options", .array([.int(1)])).hasPrefix(
                "c.yaml: 'strategy_options': expected a mapping (e.g. {init_std: 0.02}), got [1]."))
        XCTAssertTrue(
            message("strategy_options", .object(["init_std": .array([.double(.infinity)])])).hasPrefix(
                "c.yaml: 'strategy_options.init_std[0]': must be a finite number, got inf."))
        XCTAssertTrue(message("bias", .int(1)).hasPrefix("c.yaml: 'bias': expected true or false, got 1."))
        XCTAssertTrue(message("corpus", .null).hasPrefix("c.yaml: 'corpus': expected a string, got null."))
        XCTAssertFalse(message("seed", .int(-1)).contains(".."))
        // Whole numbers written as floating point (YAML reads 2e6 as one) are integers; null unsets an optional key.
        XCTAssertEqual(try TrainConfig.from(["max_tokens": .double(2e6), "seed": .double(7)]).maxTokens, 2_000_000)
        XCTAssertEqual(try TrainConfig.from(["seed": .double(7)]).seed, 7)
        XCTAssertNil(try TrainConfig.from(["d_model": .null]).dModel)
        XCTAssertEqual(JSONValue.describe([String: JSONValue].self), "a mapping")
        XCTAssertEqual(JSONValue.describe([String].self), "a list")
        XCTAssertEqual(JSONValue.describe(String.self), "a string")
    }

    func testBadValuesNameTheKey() {
        var c = config(); c.learningRate = -1
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "learning_rate") }
        c = config(); c.preset = "huge"; c.dModel = nil; c.nLayer = nil; c.nHead = nil
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "preset") }
        c = config(); c.dModel = 30; c.nHead = 4
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "n_head") }
        c = config(); c.batchShards = c.batchSize + 1
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "batch_shards") }
        c = config(); c.batchShards = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "batch_shards") }
        c = config(); c.contextLength = 100_000
        XCTAssertThrowsError(try Trainer(config: c, data: data(c), folder: nil)) {
            XCTAssertEqual(($0 as? ConfigError)?.key, "context_length")
        }
    }

    /// `problems()` lists every impossible value, not only the first; `validate()` throws that first one. A zero
    /// batch size or context must not reach the token budget's arithmetic, which divides by their product (it would
    /// trap); one bad key gives one message, and a misspelt schedule does not also make lr_decay_fraction "unused".
    func testProblemsListsEveryBadValue() {
        var c = config(); c.learningRate = 0; c.beta2 = 1; c.logInterval = 0; c.dModel = 30; c.nHead = 4; c.maxSteps = 0
        XCTAssertEqual(c.problems().map(\.key), ["n_head", "max_steps", "learning_rate", "beta2", "log_interval"])
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "n_head") }
        c = config(); c.batchSize = 0; c.contextLength = 0; c.maxSteps = nil; c.maxTokens = 1000
        XCTAssertEqual(c.problems().map(\.key), ["batch_size", "context_length"])
        c = config(); c.vocabSize = 0
        XCTAssertEqual(c.problems().map(\.key), ["vocab_size"])
        c = config(); c.lrSchedule = "wsdd"; c.lrDecayFraction = 0.2
        XCTAssertEqual(c.problems().map(\.key), ["lr_schedule"])
        XCTAssertEqual(config().problems(), [])
    }

    func testTruncatedCheckpointIsRejectedClearly() throws {
        let c = config(steps: 10)
        let folder = RunFolder(tmp.appendingPathComponent("t"))
        let t = try Trainer(config: c, data: data(c), folder: folder)
        _ = try t.run()
        let file = Checkpoint.latest(in: folder)!.appendingPathComponent(Checkpoint.modelFile)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count / 2).write(to: file)
        XCTAssertThrowsError(try Checkpoint.loadModel(from: file, into: t.model)) { e in
            XCTAssertTrue(String(describing: e).contains("truncated"), String(describing: e))
        }
        try Data([1, 2, 3]).write(to: file)
        XCTAssertThrowsError(try Checkpoint.loadModel(from: file, into: t.model))
    }

    func testSafetensorsRoundTrip() throws {
        let a: [Float] = [1, -2, 3.5, .pi], b: [Float] = [0.25]
        let data = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                Safetensors.encode([("a", [2, 2], pa), ("b.x", [1], pb)], metadata: ["k": "v \"quoted\""])
            }
        }
        let (tensors, meta) = try Safetensors.decode(data, path: "mem")
        XCTAssertEqual(tensors, [.init(name: "a", shape: [2, 2], values: a), .init(name: "b.x", shape: [1], values: b)])
        XCTAssertEqual(meta["k"], "v \"quoted\"")
        let headerLength = data.prefix(8).withUnsafeBytes { $0.load(as: UInt64.self) }
        XCTAssertEqual((8 + Int(headerLength)) % 8, 0, "tensor data must start 8-byte aligned")
    }
}
