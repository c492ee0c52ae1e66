import Embeddings
import Foundation
import Kernels
import Probes
import RunFormat
import TensorFile
import Trainer
import XCTest

/// Random windows over a fixed order-1 Markov chain of 16 byte tokens (97…112): enough structure to train on.
final class ChainBatches: BatchSource, @unchecked Sendable {
    let tokens: [Int32]
    let context: Int, batchSize: Int, seed: UInt64

    init(context: Int, batchSize: Int, seed: UInt64, length: Int = 20_000) {
        var rng = Xoshiro256(seed: 77)
        let next = (0..<16).map { _ in (0..<2).map { _ in rng.nextInt(below: 16) } }
        var t: [Int32] = [97], s = 0
        for _ in 1..<length {
            s = rng.nextUniform() < 0.9 ? next[s][rng.nextInt(below: 2)] : rng.nextInt(below: 16)
            t.append(Int32(97 + s))
        }
        tokens = t; self.context = context; self.batchSize = batchSize; self.seed = seed
    }

    private func fill(_ start: Int, _ row: Int, _ inputs: UnsafeMutablePointer<Int32>, _ targets: UnsafeMutablePointer<Int32>) {
        for i in 0..<context { inputs[row * context + i] = tokens[start + i]; targets[row * context + i] = tokens[start + i + 1] }
    }

    func trainBatch(step: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        var rng = Xoshiro256(seed: seed, stream: UInt64(step))
        for b in 0..<batchSize { fill(rng.nextInt(below: tokens.count * 9 / 10 - context - 1), b, inputs, targets) }
    }

    func validationBatch(index: Int, of count: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        let start = tokens.count * 9 / 10, span = tokens.count - start - context - 1
        for b in 0..<batchSize { fill(start + (index * batchSize + b) * span / max(count * batchSize, 1), b, inputs, targets) }
    }
}

final class SnapshotTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-probes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func config(steps: Int = 40, strategy: String = "learned") -> TrainConfig {
        var c = TrainConfig()
        c.corpus = "chain"; c.vocabSize = 256
        c.dModel = 32; c.nLayer = 1; c.nHead = 2; c.contextLength = 16
        c.batchSize = 4; c.maxSteps = steps; c.learningRate = 1e-2; c.warmupSteps = 4
        c.evalInterval = 20; c.evalBatches = 1; c.finalEvalBatches = 2; c.logInterval = 10; c.checkpointInterval = 10
        c.strategy = strategy; c.snapshotCount = 7
        return c
    }

    func data(_ c: TrainConfig) -> RunData {
        RunData(
            vocabulary: .bytes, batches: ChainBatches(context: c.contextLength, batchSize: c.batchSize, seed: c.seed),
            corpusSHA256: "test", tokenizerSHA256: "test", trainTokens: 18_000, validationTokens: 2_000)
    }

    func snapshotDir(_ name: String) -> URL { tmp.appendingPathComponent(name).appendingPathComponent("snapshots") }

    func testPlannedStepsAreLogSpacedFromZeroToTheEnd() {
        let s = EmbeddingSnapshots.steps(total: 1000, count: 12)
        XCTAssertEqual(s.count, 12)
        XCTAssertEqual(s, [0, 5, 8, 14, 25, 42, 71, 120, 204, 347, 589, 1000])  // as documented in Probes/README.md
        XCTAssertEqual(EmbeddingSnapshots.steps(total: 600, count: 12), [0, 3, 5, 9, 15, 25, 42, 72, 122, 208, 353, 600])
        XCTAssertEqual(s, s.sorted()); XCTAssertEqual(Set(s).count, s.count)
        // Ratios between consecutive non-zero steps are about constant (log spacing).
        let ratios = zip(s.dropFirst(2), s.dropFirst(1)).map { Double($0) / Double($1) }
        for r in ratios { XCTAssertEqual(r, pow(200, 1.0 / 10), accuracy: 0.15) }
        XCTAssertEqual(EmbeddingSnapshots.steps(total: 3, count: 12), [0, 1, 2, 3])
        XCTAssertEqual(EmbeddingSnapshots.steps(total: 50, count: 2), [0, 50])
        XCTAssertEqual(EmbeddingSnapshots.steps(total: 40, count: 7).first, 0)
        XCTAssertEqual(EmbeddingSnapshots.steps(total: 40, count: 7).last, 40)
    }

    func testF16SafetensorsRoundTrip() throws {
        let values: [Float] = [0, 1, -2.5, 0.0123456, 65504, 1e-3]
        let data = values.withUnsafeBufferPointer { Safetensors.encode([("x", [2, 3], $0)], metadata: ["k": "v"], dtype: .f16) }
        XCTAssertEqual(data.count % 2, 0)
        let (tensors, meta) = try Safetensors.decode(data, path: "mem")
        XCTAssertEqual(meta, ["k": "v"]); XCTAssertEqual(tensors[0].shape, [2, 3])
        for (g, w) in zip(tensors[0].values, values) { XCTAssertEqual(g, w, accuracy: abs(w) * 0x1p-11) }
    }

    func testSnapshotsAreWrittenAndOffSwitchWorks() throws {
        let c = config()
        _ = try Trainer(config: c, data: data(c), folder: RunFolder(tmp.appendingPathComponent("on"))).run()
        let files = RunProbe.snapshotFiles(tmp.appendingPathComponent("on"))
        XCTAssertEqual(files.map(\.step), EmbeddingSnapshots.steps(total: 40, count: 7))
        let manifest = try JSONDecoder().decode(
            EmbeddingSnapshots.Manifest.self,
            from: Data(contentsOf: snapshotDir("on").appendingPathComponent("manifest.json")))
        XCTAssertEqual(manifest.steps, files.map(\.step))
        XCTAssertEqual(manifest.tensors, ["embedding.wte", "lm_head.weight"])
        XCTAssertEqual(manifest.dtype, "F16")
        var off = c; off.snapshots = false
        _ = try Trainer(config: off, data: data(off), folder: RunFolder(tmp.appendingPathComponent("off"))).run()
        XCTAssertFalse(FileManager.default.fileExists(atPath: snapshotDir("off").path))
    }

    /// A run stopped, left with a stale snapshot past its checkpoint, and resumed ends with exactly the
    /// snapshots of an uninterrupted run (byte for byte).
    func testSnapshotsSurviveResume() throws {
        let c = config()
        _ = try Trainer(config: c, data: data(c), folder: RunFolder(tmp.appendingPathComponent("a"))).run()

        let folder = RunFolder(tmp.appendingPathComponent("b"))
        let first = try Trainer(config: c, data: data(c), folder: folder)
        let stopped = try first.run(shouldStop: { first.step == 14 })
        XCTAssertEqual(stopped.steps, 14)
        // Simulate a kill after a later snapshot was written but before its checkpoint: a stale file past step 14.
        let stale = snapshotDir("b").appendingPathComponent(EmbeddingSnapshots.fileName(step: 40))
        try Data("stale".utf8).write(to: stale)
        let second = try Trainer(config: c, data: data(c), folder: folder)
        XCTAssertEqual(try second.resumeIfPossible(), 14)
        XCTAssertEqual(try second.run().status.state, .finished)

        let names = { (d: URL) in try FileManager.default.contentsOfDirectory(atPath: d.path).sorted() }
        XCTAssertEqual(try names(snapshotDir("a")), try names(snapshotDir("b")))
        for n in try names(snapshotDir("a")) {
            XCTAssertEqual(
                try Data(contentsOf: snapshotDir("a").appendingPathComponent(n)),
                try Data(contentsOf: snapshotDir("b").appendingPathComponent(n)), n)
        }
    }

    func loader(_ url: URL) throws -> [String: ProbeMatrix] {
        let (tensors, _) = try Safetensors.decode(try Data(contentsOf: url), path: url.path)
        var out: [String: ProbeMatrix] = [:]
        for t in tensors where t.shape.count == 2 { out[t.name] = ProbeMatrix(rows: t.shape[0], cols: t.shape[1], values: t.values) }
        return out
    }

    /// End to end: learned vs frozen-random run → probes.json with drift (frozen input for frozen-random).
    func testProbeRunFolderWritesProbesJSON() throws {
        let tokens = ChainBatches(context: 16, batchSize: 4, seed: 1).tokens
        let set = WordPairSet(
            name: "chain", pairs: [.init("a", "b", 1), .init("a", "c", 2), .init("b", "c", 3), .init("d", "e", 4), .init("q", "z", 5)])
        let enc = WordEncoder(encode: { $0.utf8.map { Int32($0) } }, corpusWords: ["a", "b", "c", "d", "e"])
        var corpus = ProbeCorpus(tokenCounts: ProbeCorpus.counts(of: tokens, vocabSize: 256), wordSets: [EncodedWordPairSet(set, encoder: enc)])
        XCTAssertEqual(corpus.seen.count, 16)
        corpus.retrieval = RetrievalCorpus(works: [Array(tokens.prefix(200)), Array(tokens.suffix(200))], length: 10, perWork: 6, seed: 1)
        // Every registered strategy, with its example options (transplant's source checkpoint), in a μP model for
        // those that need one: probing needs nothing but the strategy's own tensorNames/inputTable.
        for type in StrategyRegistry.all {
            let strategy = type.name
            var c = config(strategy: strategy)
            let context = EmbeddingContext(vocabulary: .bytes, dModel: c.dModel!, seed: c.seed)
            c.strategyOptions = try type.exampleOptions(for: context).mapValues { try JSONValue(any: $0) }
            let built: any EmbeddingStrategy
            do { built = try StrategyRegistry.make(name: strategy, options: c.strategyOptionsObject, context: context) } catch StrategyError
                .incompatible
            {
                c.parametrization = "mup"; c.baseWidth = 16
                var mup = context; mup.parametrization = .mup(baseWidth: 16)
                built = try StrategyRegistry.make(name: strategy, options: c.strategyOptionsObject, context: mup)
            }
            let frozenInput = !built.tensors.contains(where: \.trainable)
            let url = tmp.appendingPathComponent(strategy)
            _ = try Trainer(config: c, data: data(c), folder: RunFolder(url)).run()
            let report = try RunProbe(folder: url, load: loader).probe(corpus: corpus)
            try RunProbe.write(report, to: url)
            let back = try RunProbe.read(url)
            XCTAssertEqual(back.format, "ablate-probes-1")
            XCTAssertEqual(back.run.strategy, strategy)
            XCTAssertEqual(back.run.step, 40); XCTAssertEqual(back.run.totalSteps, 40)
            XCTAssertEqual(back.snapshots.map(\.step), EmbeddingSnapshots.steps(total: 40, count: 7))
            XCTAssertNotNil(back.tables.input.initial)
            XCTAssertEqual(back.tables.input.final.rows, 256); XCTAssertEqual(back.tables.input.final.rowsSeen, 16)
            XCTAssertEqual(back.tables.input.final.wordSimilarity["chain"]?.totalPairs, 5)
            XCTAssertEqual(back.tables.input.final.wordSimilarity["chain"]?.pairsInCorpus, 4)
            let drift = try XCTUnwrap(back.drift.input)
            XCTAssertEqual(drift.frozen, frozenInput, strategy)
            XCTAssertEqual(back.tables.input.tensor, try StrategyRegistry.type(named: strategy).checkpointNames.joined(separator: "·"))
            XCTAssertEqual(drift.steps.first, 0); XCTAssertEqual(drift.fractions.last, 1)
            let out = try XCTUnwrap(back.drift.output)
            XCTAssertFalse(out.frozen)
            XCTAssertNotNil(out.stabilisedAt)
            XCTAssertGreaterThan(out.totalDrift, 0)
            if !drift.frozen { XCTAssertGreaterThan(drift.totalDrift, 0) }
            // Retrieval of the strategy's effective table: final, init (= snapshot 0's), random, every snapshot; no
            // crop or pad widths given, so no cropped or padded variant.
            let retrieval = try XCTUnwrap(back.retrieval, strategy)
            XCTAssertNotNil(retrieval.trained); XCTAssertNotNil(retrieval.random)
            XCTAssertEqual(retrieval.initial, back.snapshots.first?.retrievalMAP)
            XCTAssertEqual(back.snapshots.compactMap(\.retrievalMAP).count, back.snapshots.count)
            XCTAssertNil(retrieval.cropped); XCTAssertNil(retrieval.padded)
            XCTAssertEqual(retrieval.passages, 12)
        }
        // Tied input and output: one table, no output head, no output drift.
        var tied = config(); tied.tieEmbeddings = true
        let url = tmp.appendingPathComponent("tied")
        _ = try Trainer(config: tied, data: data(tied), folder: RunFolder(url)).run()
        var probe = RunProbe(folder: url, load: loader)
        (probe.cropWidth, probe.padWidth) = (8, 40)
        let report = try probe.probe(corpus: corpus)
        XCTAssertEqual(report.retrieval?.croppedWidth, 8); XCTAssertNotNil(report.retrieval?.cropped)
        XCTAssertEqual(report.retrieval?.paddedWidth, 40); XCTAssertNotNil(report.retrieval?.padded)
        XCTAssertNil(report.neighbours, "no tokenizer given: no neighbours")
        XCTAssertTrue(report.run.tieEmbeddings)
        XCTAssertNil(report.tables.output); XCTAssertNil(report.drift.output); XCTAssertNotNil(report.drift.input)
        XCTAssertNil(report.snapshots.last?.output)
    }

    /// A folder without snapshots (snapshots: false) still probes: no init baseline, no drift, a note.
    func testProbeWithoutSnapshots() throws {
        var c = config(); c.snapshots = false
        let url = tmp.appendingPathComponent("nosnap")
        _ = try Trainer(config: c, data: data(c), folder: RunFolder(url)).run()
        let corpus = ProbeCorpus(tokenCounts: [Int](repeating: 1, count: 256), wordSets: [])
        let report = try RunProbe(folder: url, load: loader).probe(corpus: corpus)
        XCTAssertNil(report.tables.input.initial); XCTAssertNil(report.drift.input); XCTAssertEqual(report.snapshots.count, 0)
        XCTAssertFalse(report.notes.isEmpty)
        XCTAssertThrowsError(try RunProbe(folder: tmp.appendingPathComponent("nothing"), load: loader).probe(corpus: corpus))
    }
}
