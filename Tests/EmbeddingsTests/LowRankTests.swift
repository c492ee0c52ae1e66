import Embeddings
import XCTest

final class LowRankTests: XCTestCase {
    func make(_ options: [String: Any]) throws -> any EmbeddingStrategy {
        try StrategyRegistry.make(name: "lowrank", options: options, context: Fixture.context())
    }

    func testRankBounds() throws {
        for bad in [0, -3, Fixture.dModel + 1] {
            XCTAssertThrowsError(try make(["rank": bad])) { error in
                guard case StrategyError.invalidOption(strategy: "lowrank", key: "rank", _) = error else { return XCTFail("\(error)") }
            }
        }
        for good in [1, 16, Fixture.dModel] { XCTAssertNoThrow(try make(["rank": good])) }
    }

    func testShapesAndParameterCount() throws {
        let s = try make(["rank": 8])
        XCTAssertEqual(s.tensors.map(\.shape), [[Fixture.vocabulary.count, 8], [8, Fixture.dModel]])
        XCTAssertEqual(s.tensors.map(\.trainable), [true, true])
        XCTAssertEqual(s.tensors.reduce(0) { $0 + $1.count }, 300 * 8 + 8 * 48)
    }

    /// Forward is the same for any batch size, before and after the backward scratch buffer has grown.
    func testScratchGrowthKeepsResultsCorrect() throws {
        let h = Harness(try make([:]))
        let small = Array(Fixture.tokens.prefix(5)), large = Fixture.tokens + Fixture.tokens
        let first = h.forward(small)
        _ = h.forward(large)
        XCTAssertEqual(bits(h.forward(small)), bits(first))
        // Row i of a large batch equals the same token's row in a small batch, bit for bit (rows are computed one
        // at a time in a fixed order, never by an sgemm whose blocking depends on the batch).
        let big = h.forward(large)
        XCTAssertEqual(bits(Array(big.prefix(first.count))), bits(first))
    }
}
