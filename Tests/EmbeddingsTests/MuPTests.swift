import Embeddings
import Foundation
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
        XCTAssertThrowsError(try StrategyRegistry.make(name: "mup", options: ["input_multiplier": 0], context: context)) { error in
            XCTAssertEqual(
                "\(error)", "strategy 'mup', option 'input_multiplier': must be a finite number > 0, got 0.0.")
        }
    }

    /// `mup` is `learned` in a μP run: same options, multiplier, tensor name and values, bit for bit.
    func testIsTheLearnedTableUnderMuP() throws {
        let context = Fixture.context(parametrization: .mup(baseWidth: 16))
        for options in [[:], ["init_std": 0.05, "input_multiplier": 3.0]] as [[String: Any]] {
            let mup = try StrategyRegistry.make(name: "mup", options: options, context: context)
            let learned = try StrategyRegistry.make(name: "learned", options: options, context: context)
            XCTAssertEqual(mup.outputMultiplier, learned.outputMultiplier)
            XCTAssertEqual(mup.tensors, learned.tensors)
            XCTAssertEqual(MuPEmbedding.checkpointNames, ["embedding.wte"])
            XCTAssertEqual(
                NSDictionary(dictionary: StrategyRegistry.encodeToObject(mup.options)),
                NSDictionary(dictionary: StrategyRegistry.encodeToObject(learned.options)))
            XCTAssertEqual(Harness(mup).snapshot().map(bits), Harness(learned).snapshot().map(bits))
        }
    }
}
