import Embeddings
import XCTest

final class MuPTests: XCTestCase {
    func testRequiresTheMuPParametrization() {
        XCTAssertThrowsError(try StrategyRegistry.make(name: "mup", context: Fixture.context())) { error in
            guard case StrategyError.incompatible(strategy: "mup", _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("parametrization: mup"), "\(error)")
            XCTAssertTrue("\(error)".contains("base_width"), "\(error)")
        }
    }

    func testMultiplierAndInitFollowTheOptions() throws {
        let context = Fixture.context(parametrization: .mup(baseWidth: 256))
        let defaults = try StrategyRegistry.make(name: "mup", context: context)
        XCTAssertEqual(defaults.outputMultiplier, 10)
        XCTAssertEqual(defaults.tensors.map(\.trainable), [true])
        XCTAssertEqual(defaults.tensors[0].lrMultiplier, 1)
        XCTAssertEqual(standardDeviation(Harness(defaults).table(0)), 0.08, accuracy: 0.002)

        let custom = try StrategyRegistry.make(name: "mup", options: ["input_multiplier": 4.5, "init_std": 0.02], context: context)
        XCTAssertEqual(custom.outputMultiplier, 4.5)
        XCTAssertEqual(standardDeviation(Harness(custom).table(0)), 0.02, accuracy: 0.0005)
        XCTAssertThrowsError(try StrategyRegistry.make(name: "mup", options: ["input_multiplier": 0], context: context))
        // Every other strategy leaves the output unscaled.
        XCTAssertEqual(try StrategyRegistry.make(name: "learned", context: context).outputMultiplier, 1)
    }
}
