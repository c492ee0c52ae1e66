import Embeddings
import XCTest

final class RegistryTests: XCTestCase {
    /// The strategies the project ships are registered (a user's new strategy may add more: the guide promises
    /// one file and one registry line, so no test may list the registry exhaustively), under unique names.
    func testShippedStrategiesAreRegistered() {
        let shipped = ["learned", "frozen-random", "hashed", "mup", "lowrank", "transplant"]
        XCTAssertEqual(Array(StrategyRegistry.names.prefix(shipped.count)), shipped)
        XCTAssertEqual(Set(StrategyRegistry.names).count, StrategyRegistry.names.count, "duplicate strategy names")
    }

    func testUnknownStrategySuggestsTheNearestName() {
        XCTAssertThrowsError(try StrategyRegistry.make(name: "frozen-randon", context: Fixture.context())) { error in
            XCTAssertEqual(
                error as? StrategyError,
                .unknownStrategy(
                    name: "frozen-randon", suggestion: "frozen-random",
                    known: StrategyRegistry.names))
        }
    }

    func testUnknownOptionSuggestsTheNearestKey() {
        XCTAssertThrowsError(try StrategyRegistry.make(name: "lowrank", options: ["rnak": 4], context: Fixture.context())) { error in
            XCTAssertEqual(
                "\(error)", "strategy 'lowrank' has no option 'rnak'. Did you mean 'rank'? Valid options: init_std, input_multiplier, rank.")
        }
    }

    func testWrongTypeNamesTheExpectedType() {
        XCTAssertThrowsError(try StrategyRegistry.make(name: "lowrank", options: ["rank": "big"], context: Fixture.context())) { error in
            guard case let StrategyError.invalidOption(_, key, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "rank")
            XCTAssertTrue(message.contains("Int"), message)
        }
    }

    func testOptionsDecodeOverDefaults() throws {
        let s = try StrategyRegistry.make(name: "lowrank", options: ["rank": 16], context: Fixture.context())
        let options = try XCTUnwrap(s as? LowRankEmbedding).options
        XCTAssertEqual(options.rank, 16)
        XCTAssertEqual(options.initStd, 0.02)
    }
}

final class RegistryIntrospectionTests: XCTestCase {
    /// What `ablate strategies` shows, found by probing the decoders: types and closed value sets.
    func testOptionTypesAndChoices() {
        XCTAssertEqual(StrategyRegistry.optionTypes(of: LowRankEmbedding.self), ["rank": "Int", "init_std": "Double", "input_multiplier": "Double"])
        XCTAssertEqual(StrategyRegistry.optionTypes(of: HashedEmbedding.self)["ngram_sizes"], "[Int]")
        XCTAssertEqual(StrategyRegistry.optionChoices(of: FrozenRandomEmbedding.self)["scale"], ["match-init", "unit-norm"])
        XCTAssertEqual(StrategyRegistry.optionChoices(of: FrozenRandomEmbedding.self)["seed"], ["run", "a non-negative integer"])
        XCTAssertEqual(StrategyRegistry.optionChoices(of: LowRankEmbedding.self), [:])
    }
}
