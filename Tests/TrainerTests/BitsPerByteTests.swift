import Dataset
import Embeddings
import Foundation
import Model
import RunFormat
import Trainer
import XCTest

/// Bits per byte in every evaluation, and the byte budget `max_train_bytes`.
final class BitsPerByteTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-bpb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func smallConfig() -> TrainConfig {
        var c = TrainConfig()
        c.corpus = "test"; c.vocabSize = 256
        c.dModel = 16; c.nLayer = 1; c.nHead = 2; c.contextLength = 16
        c.batchSize = 4; c.maxSteps = 20; c.learningRate = 3e-3; c.warmupSteps = 2
        c.evalInterval = 10; c.evalBatches = 2; c.finalEvalBatches = 3; c.logInterval = 5; c.checkpointInterval = 10
        c.snapshots = false
        return c
    }

    /// Text with multi-byte UTF-8 characters, so a BPE token's byte length differs from its character count.
    static let text: String = {
        let words = ["the", "king", "queen", "and", "of", "thou", "art", "fair", "café", "naïve", "—", "déjà", "vu", "œuvre", "“quoth”"]
        var out = ""
        for line in 0..<600 {
            // A fixed scramble (no generator needed): varied lines, repeated words for BPE to merge.
            out += (0..<(3 + line % 7)).map { words[(line * 7 + $0 * $0 * 3 + line / 5) % words.count] }.joined(separator: " ")
            out += line % 4 == 0 ? ",\n\n" : ".\n"
        }
        return out
    }()

    func bpeData(_ c: TrainConfig) throws -> (PreparedData, RunData) {
        let prepared = try PreparedData.inMemory(text: Self.text, vocabSize: c.vocabSize, name: "bpb")
        return (prepared, try RunData(prepared: prepared, config: c))
    }

    /// Byte-level vocabulary: every token is one byte, so bpb = nats / ln 2 exactly on every eval line and in
    /// summary.json, and the trained bytes are the trained tokens.
    func testByteLevelBitsPerByteIsNatsOverLn2() throws {
        let c = smallConfig()
        let (prepared, _) = try bpeData(c)
        let data = RunData(
            vocabulary: .bytes, batches: try DatasetBatches(data: prepared, context: 16, batchSize: 4, seed: 1),
            corpusSHA256: "t", tokenizerSHA256: "t", trainTokens: prepared.train.count, validationTokens: prepared.val.count)
        let folder = RunFolder(tmp.appendingPathComponent("bytes"))
        let result = try Trainer(config: c, data: data, folder: folder).run()
        XCTAssertEqual(result.status.state, .finished)
        let evals = try folder.readMetrics().filter { $0.valLoss != nil }
        XCTAssertEqual(evals.map(\.step), [10, 20])
        for r in evals { XCTAssertEqual(r.valBpb, r.valLoss! / log(2.0), "step \(r.step)") }
        let summary = try folder.read(RunSummary.self)
        XCTAssertEqual(summary.finalValBpb, summary.finalValLoss / log(2.0))
        XCTAssertEqual(result.finalValBpb, summary.finalValBpb)
        XCTAssertEqual(summary.trainBytes, 20 * 4 * 16)
        // 6N + 12·L·d·T per trained token, a third of that per evaluated token: evaluations of 2 batches at steps 10
        // and 20, and the final one of 3 at step 20, 64 tokens each.
        let n = Double(try c.modelConfig().nonEmbeddingParameters)
        let perToken = 6 * n + 12 * 1 * 16 * 16
        XCTAssertEqual(try XCTUnwrap(summary.trainFlops), perToken * 1280 + perToken / 3 * Double((2 + 2 + 3) * 64), accuracy: 1e-6)
        // The fast reader sees the same bpb.
        XCTAssertEqual(try MetricsFile.lines(at: folder.metricsURL).last?.valBpb, evals.last?.valBpb)
    }

    /// BPE: the evaluation's bytes equal the UTF-8 bytes of the decoded target tokens, counted independently, and the
    /// decoded targets of every window are the validation text itself.
    func testBPEBitsPerByteCountsTheDecodedTargetBytes() throws {
        var c = smallConfig()
        c.vocabSize = 300
        let (prepared, data) = try bpeData(c)
        let trainer = try Trainer(config: c, data: data, folder: nil)
        let evaluation = trainer.evaluate(batches: 3)
        var bytes = 0
        var inputs = [Int32](repeating: 0, count: 64), targets = inputs
        let validationText = Data(prepared.tokenizer.decode(prepared.val))
        for i in 0..<3 {
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in
                    data.batches.validationBatch(index: i, of: 3, inputs: x.baseAddress!, targets: y.baseAddress!)
                }
            }
            // The tokenizer's own decoding (not the trainer's length table); a window may start or end inside a
            // multi-byte character, so the bytes are counted before any conversion to String.
            bytes += prepared.tokenizer.decode(targets).count
            for row in 0..<4 {
                let text = Data(prepared.tokenizer.decode(targets[(row * 16)..<((row + 1) * 16)]))
                XCTAssertNotNil(validationText.range(of: text), "batch \(i) row \(row) is not a piece of the validation text")
            }
        }
        XCTAssertEqual(evaluation.tokens, 3 * 64)
        XCTAssertEqual(evaluation.bytes, bytes)
        XCTAssertGreaterThan(evaluation.bytes, evaluation.tokens, "BPE tokens hold more than one byte on average")
        XCTAssertEqual(evaluation.bitsPerByte, evaluation.loss * Double(3 * 64) / (log(2.0) * Double(bytes)), accuracy: 1e-12)
        // The training split's byte count (which turns a byte budget into steps) is the sum of its tokens' lengths.
        XCTAssertEqual(prepared.train.reduce(0) { $0 + prepared.tokenBytes[Int($1)].count }, prepared.trainBytes)
    }

    /// A byte budget: steps = ⌈bytes · tokens / (split bytes · B · T)⌉, exactly, and mutually exclusive with the
    /// step and token budgets.
    func testByteBudgetStepsAndConflicts() throws {
        var c = try TrainConfig.from(["max_train_bytes": .int(10_000), "batch_size": .int(8), "context_length": .int(16), "preset": .string("tiny")])
        XCTAssertNil(c.maxSteps)
        XCTAssertNil(c.maxTokens)
        XCTAssertNoThrow(try c.validate())
        // 3 bytes per token, 128 tokens per step: 384 bytes per step; 10000 / 384 = 26.04 → 27 steps.
        XCTAssertEqual(c.totalSteps(trainSplit: TrainSplit(tokens: 1000, bytes: 3000)), 27)
        c.maxTrainBytes = 26 * 384
        XCTAssertEqual(c.totalSteps(trainSplit: TrainSplit(tokens: 1000, bytes: 3000)), 26)
        XCTAssertNil(c.totalSteps(trainSplit: nil))
        // Products beyond Int64 stay exact: 10^15 · 10^9 / (3·10^9 · 128) = 2604166666666.67 → …667.
        c.maxTrainBytes = 1_000_000_000_000_000
        XCTAssertEqual(c.totalSteps(trainSplit: TrainSplit(tokens: 1_000_000_000, bytes: 3_000_000_000)), 2_604_166_666_667)

        for other in ["max_steps", "max_tokens"] {
            XCTAssertThrowsError(try TrainConfig.from(["max_train_bytes": .int(1000), other: .int(100)], source: "run.yaml")) { error in
                let e = error as? ConfigError
                XCTAssertEqual(e?.key, "max_train_bytes")
                XCTAssertEqual(e?.file, "run.yaml")
                XCTAssertTrue(e?.message.contains("cannot be combined with \(other)") ?? false, "\(error)")
                XCTAssertTrue(e?.fix.contains("remove \(other)") ?? false, "\(error)")
            }
        }
        // Null step/token budgets are "not set".
        XCTAssertNoThrow(try TrainConfig.from(["max_train_bytes": .int(1000), "max_steps": .null]))
        var both = smallConfig()
        both.maxTrainBytes = 1000
        XCTAssertThrowsError(try both.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "max_train_bytes") }
        both.maxSteps = nil
        both.maxTrainBytes = 0
        XCTAssertThrowsError(try both.validate()) { XCTAssertTrue("\($0)".contains("'max_train_bytes': must be in 1…"), "\($0)") }
    }

    /// A byte-budget run trains the resolved number of steps and records the exact bytes of its target tokens,
    /// recounted here by decoding every training batch.
    func testByteBudgetRunRecordsExactTrainBytes() throws {
        var c = smallConfig()
        c.vocabSize = 300; c.maxSteps = nil; c.maxTrainBytes = 3000
        let (prepared, data) = try bpeData(c)
        let split = TrainSplit(tokens: prepared.train.count, bytes: prepared.trainBytes)
        let expectedSteps = try XCTUnwrap(c.totalSteps(trainSplit: split))
        let bytesPerToken = Double(split.bytes) / Double(split.tokens)
        XCTAssertEqual(expectedSteps, Int((3000 / (bytesPerToken * 64)).rounded(.up)))
        let folder = RunFolder(tmp.appendingPathComponent("budget"))
        let trainer = try Trainer(config: c, data: data, folder: folder)
        XCTAssertEqual(trainer.totalSteps, expectedSteps)
        let result = try trainer.run()
        XCTAssertEqual(result.steps, expectedSteps)
        var bytes = 0
        var inputs = [Int32](repeating: 0, count: 64), targets = inputs
        for s in 0..<expectedSteps {
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in data.batches.trainBatch(step: s, inputs: x.baseAddress!, targets: y.baseAddress!) }
            }
            bytes += prepared.tokenizer.decode(targets).count
        }
        let summary = try folder.read(RunSummary.self)
        XCTAssertEqual(summary.trainBytes, bytes)
        XCTAssertEqual(summary.steps, expectedSteps)
        XCTAssertEqual(folder.readStatus()?.totalSteps, expectedSteps)
    }

    /// A byte budget needs to know the training split's bytes.
    func testByteBudgetWithoutSplitBytesIsAClearError() throws {
        var c = smallConfig()
        c.maxSteps = nil; c.maxTrainBytes = 1000
        let (prepared, _) = try bpeData(c)
        let data = RunData(
            vocabulary: .bytes, batches: try DatasetBatches(data: prepared, context: 16, batchSize: 4, seed: 1),
            corpusSHA256: "t", tokenizerSHA256: "t", trainTokens: prepared.train.count, validationTokens: prepared.val.count)
        XCTAssertThrowsError(try Trainer(config: c, data: data, folder: nil)) { XCTAssertEqual(($0 as? ConfigError)?.key, "max_train_bytes") }
    }
}
