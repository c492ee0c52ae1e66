import Embeddings
import Foundation
import TensorFile
import XCTest

final class TransplantTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-transplant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Writes a checkpoint-like file holding `tensors`, with the fixture vocabulary's fingerprint unless told otherwise.
    func write(_ tensors: [(String, [Int], [Float])], fingerprint: String? = Fixture.vocabulary.fingerprint) throws -> String {
        let url = dir.appendingPathComponent("model-\(UUID().uuidString).safetensors")
        let buffers = tensors.map { ($0.0, $0.1, UnsafeMutableBufferPointer<Float>.allocate(capacity: $0.2.count)) }
        defer { buffers.forEach { $0.2.deallocate() } }
        for i in buffers.indices { _ = buffers[i].2.initialize(from: tensors[i].2) }
        let data = Safetensors.encode(
            buffers.map { ($0.0, $0.1, UnsafeBufferPointer($0.2)) },
            metadata: fingerprint.map { ["vocabulary_fnv64": $0] } ?? [:])
        try data.write(to: url)
        return url.path
    }

    func table(width: Int) -> [Float] { (0..<(Fixture.vocabulary.count * width)).map { Float($0 % 97) * 0.001 } }

    func make(_ options: [String: Any], dModel: Int = Fixture.dModel) throws -> any EmbeddingStrategy {
        try StrategyRegistry.make(name: "transplant", options: options, context: Fixture.context(dModel: dModel))
    }

    func testCopiesTheTableFrozenByDefault() throws {
        let values = table(width: Fixture.dModel)
        let s = try make(["checkpoint": try write([(LearnedEmbedding.checkpointNames[0], [Fixture.vocabulary.count, Fixture.dModel], values)])])
        XCTAssertEqual(s.tensors.map(\.trainable), [false])
        let h = Harness(s)
        XCTAssertEqual(Array(h.values[0]), values)
        let tuned = try make([
            "checkpoint": try write([(LearnedEmbedding.checkpointNames[0], [Fixture.vocabulary.count, Fixture.dModel], values)]),
            "trainable": true,
        ])
        XCTAssertEqual(tuned.tensors.map(\.trainable), [true])
    }

    func testLowRankSourceIsMultipliedOut() throws {
        let v = Fixture.vocabulary.count, d = Fixture.dModel
        let a = (0..<(v * 2)).map { Float($0 % 5) }, p = (0..<(2 * d)).map { Float($0 % 3) }
        let s = try make([
            "checkpoint": try write([(LowRankEmbedding.checkpointNames[0], [v, 2], a), (LowRankEmbedding.checkpointNames[1], [2, d], p)])
        ])
        let h = Harness(s)
        for (r, c) in [(0, 0), (7, 5), (299, 47)] {
            XCTAssertEqual(h.values[0][r * d + c], a[r * 2] * p[c] + a[r * 2 + 1] * p[d + c])
        }
    }

    func testOtherVocabularyIsRefused() throws {
        let path = try write(
            [(LearnedEmbedding.checkpointNames[0], [Fixture.vocabulary.count, Fixture.dModel], table(width: Fixture.dModel))],
            fingerprint: "deadbeef")
        XCTAssertThrowsError(try make(["checkpoint": path])) { e in
            XCTAssertTrue("\(e)".contains("another vocabulary"), "\(e)")
        }
        let rows = try write(
            [(LearnedEmbedding.checkpointNames[0], [10, Fixture.dModel], [Float](repeating: 0, count: 10 * Fixture.dModel))], fingerprint: nil)
        XCTAssertThrowsError(try make(["checkpoint": rows])) { e in XCTAssertTrue("\(e)".contains("10-token table"), "\(e)") }
    }

    /// Grid validation builds strategies on a stand-in vocabulary of the right size: a real checkpoint's fingerprint
    /// cannot match it, so only the row count is checked there (the run checks the fingerprint against its tokenizer).
    func testStandInVocabularyChecksRowsNotFingerprint() throws {
        let v = Fixture.vocabulary.count, d = Fixture.dModel
        let path = try write([(LearnedEmbedding.checkpointNames[0], [v, d], table(width: d))])
        XCTAssertNotEqual(Vocabulary.standIn(size: v).fingerprint, Fixture.vocabulary.fingerprint)
        let standIn = Fixture.context(vocabulary: .standIn(size: v))
        XCTAssertNoThrow(try StrategyRegistry.make(name: "transplant", options: ["checkpoint": path], context: standIn))
        let smaller = Fixture.context(vocabulary: .standIn(size: v - 1))
        XCTAssertThrowsError(try StrategyRegistry.make(name: "transplant", options: ["checkpoint": path], context: smaller))
        XCTAssertFalse(Fixture.vocabulary.isStandIn)
    }

    func testOtherWidthNeedsAProjection() throws {
        let path = try write([(LearnedEmbedding.checkpointNames[0], [Fixture.vocabulary.count, 24], table(width: 24))])
        XCTAssertThrowsError(try make(["checkpoint": path])) { e in XCTAssertTrue("\(e)".contains("projection"), "\(e)") }
        let truncated = Harness(try make(["checkpoint": path, "projection": "truncate"]))
        XCTAssertEqual(truncated.values[0][1 * 48 + 3], table(width: 24)[1 * 24 + 3])
        XCTAssertEqual(truncated.values[0][1 * 48 + 30], 0)
        let projected = Harness(try make(["checkpoint": path, "projection": "random"]))
        XCTAssertTrue(projected.values[0].allSatisfy { $0.isFinite })
    }

    func testMissingCheckpointNamesTheOption() {
        XCTAssertThrowsError(try make([:])) { e in XCTAssertTrue("\(e)".contains("'checkpoint'"), "\(e)") }
        XCTAssertThrowsError(try make(["checkpoint": "/no/such/run"])) { e in XCTAssertTrue("\(e)".contains("no such checkpoint"), "\(e)") }
    }
}
