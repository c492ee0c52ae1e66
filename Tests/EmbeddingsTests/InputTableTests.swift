import Embeddings
import Foundation
import TensorFile
import XCTest

/// Every registered strategy names its tensors once (`tensorNames`) and computes its effective input table from them
/// (`inputTable`): the table must be exactly what `forward` gives for each token, so probes, transplant and exports
/// that read checkpoints see what the model saw.
final class InputTableTests: XCTestCase {
    func stored(_ h: Harness) -> [Safetensors.Tensor] {
        zip(h.specs, h.snapshot()).map { Safetensors.Tensor(name: $0.name, shape: $0.shape, values: $1) }
    }

    func testTensorNamesAreTheSpecsNames() throws {
        for type in StrategyRegistry.all {
            let s = try Fixture.make(type)
            XCTAssertEqual(s.tensors.map(\.name), type.tensorNames, type.name)
            XCTAssertEqual(type.checkpointNames, type.tensorNames.map { "embedding." + $0 }, type.name)
        }
    }

    func testInputTableIsTheForwardOfEveryToken() throws {
        let v = Fixture.vocabulary.count, d = Fixture.dModel
        let everyToken = (0..<v).map(Int32.init)
        for type in StrategyRegistry.all {
            let h = Harness(try Fixture.make(type))
            let expected = h.forward(everyToken)
            let table = try type.inputTable(from: stored(h))
            XCTAssertEqual(table.shape, [v, d], type.name)
            // Bit for bit, for table strategies (the table itself) and computed ones alike (lowrank runs its forward's
            // kernel over every token id): probes, transplant and exports see exactly what the model reads.
            XCTAssertEqual(bits(table.values), bits(expected), "\(type.name): the input table must equal forward over every token")
            // By checkpoint name, as probes and transplant read it; a row depends only on its token.
            let byName = Dictionary(uniqueKeysWithValues: zip(type.checkpointNames, stored(h)).map { ($0, $1) })
            let (label, again) = try type.inputTable(checkpoint: byName, path: "test")
            XCTAssertEqual(label, type.checkpointNames.joined(separator: "·"))
            XCTAssertEqual(bits(again.values), bits(table.values), type.name)
        }
    }

    func testLowRankRowsDoNotDependOnOtherRows() throws {
        let h = Harness(try Fixture.make(LowRankEmbedding.self))
        var tensors = stored(h)
        let full = try LowRankEmbedding.inputTable(from: tensors)
        let (r, d) = (tensors[0].shape[1], tensors[1].shape[1])
        tensors[0] = Safetensors.Tensor(name: tensors[0].name, shape: [1, r], values: Array(tensors[0].values[(7 * r)..<(8 * r)]))
        let one = try LowRankEmbedding.inputTable(from: tensors)
        XCTAssertEqual(bits(one.values), bits(Array(full.values[(7 * d)..<(8 * d)])))
    }

    func testMissingTensorsNameTheFileAndWhatItHolds() throws {
        let t = Safetensors.Tensor(name: "embedding.wte", shape: [2, 2], values: [1, 2, 3, 4])
        XCTAssertThrowsError(try LowRankEmbedding.inputTable(checkpoint: ["embedding.wte": t], path: "/x/model.safetensors")) { error in
            let message = String(describing: error)
            XCTAssertTrue(
                message.contains("/x/model.safetensors") && message.contains("embedding.wte_a") && message.contains("embedding.wte"), message)
        }
        XCTAssertThrowsError(try LearnedEmbedding.inputTable(from: [Safetensors.Tensor(name: "x", shape: [4], values: [1, 2, 3, 4])]))
    }

    /// "One file + one registry line" for every command: no source file outside the strategy files names a
    /// strategy's tensors, so probes, transplant, exports and the report cannot depend on a strategy's layout (they ask
    /// `tensorNames`/`inputTable`). The end-to-end test (EndToEndTests) runs train, probe, report and transplant on the
    /// two-tensor `lowrank` to show the rest works through that API.
    func testNoSourceOutsideTheStrategyFilesNamesTheirTensors() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try XCTUnwrap(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        XCTAssertGreaterThan(files.count, 50, "Sources/ not found at \(sources.path)")
        let names = Set(StrategyRegistry.all.flatMap { $0.tensorNames })
        for file in files where !(file.path.contains("/Sources/Embeddings/") && file.lastPathComponent.hasSuffix("Embedding.swift")) {
            let text = try String(contentsOf: file, encoding: .utf8)
            for name in names {
                XCTAssertFalse(
                    text.contains("\"\(name)\"") || text.contains("embedding.\(name)\""),
                    "\(file.path) names the tensor '\(name)': ask the strategy (tensorNames, checkpointNames, inputTable)")
            }
        }
    }
}
