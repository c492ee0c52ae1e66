import Embeddings
import Foundation
import XCTest

/// The table strategies' scale per parametrization (`TableScale`): SP defaults as before, μP's σ_base and α_in by
/// default under μP, options overriding both, and the values actually used in `options` (what config.json records).
final class TableScaleTests: XCTestCase {
    static let tables = ["learned", "frozen-random", "hashed", "lowrank"]
    let sp = Fixture.context()
    let mup = Fixture.context(parametrization: .mup(baseWidth: 16))

    func resolved(_ s: any EmbeddingStrategy) -> (initStd: Double?, multiplier: Double?) {
        let o = StrategyRegistry.encodeToObject(s.options)
        return (o["init_std"] as? Double, o["input_multiplier"] as? Double)
    }

    func testTheDefaultsAreDeclaredOnce() {
        XCTAssertEqual(TableScale.defaults(for: .sp), TableScale(initStd: 0.02, inputMultiplier: 1))
        XCTAssertEqual(TableScale.defaults(for: .mup(baseWidth: 256)), TableScale(initStd: 0.08, inputMultiplier: 10))
    }

    func testSPKeepsGPT2ScaleAndMuPUsesSigmaBaseAndAlphaIn() throws {
        for name in Self.tables {
            let plain = try StrategyRegistry.make(name: name, context: sp)
            XCTAssertEqual(plain.outputMultiplier, 1, name)
            XCTAssertTrue(resolved(plain) == (0.02, 1), "\(name): \(resolved(plain))")
            let scaled = try StrategyRegistry.make(name: name, context: mup)
            XCTAssertEqual(scaled.outputMultiplier, 10, name)
            XCTAssertTrue(resolved(scaled) == (0.08, 10), "\(name): \(resolved(scaled))")
            // The table's element std is σ_base: in distribution for random tables (300×48 draws: within 3%; A·P's
            // product within 10%), exactly for hashed (rescaled to it).
            let std = standardDeviation(Harness(scaled).forward((0..<Int32(Fixture.vocabulary.count)).map { $0 }))
            XCTAssertEqual(std, 0.08, accuracy: name == "hashed" ? 1e-6 : name == "lowrank" ? 0.008 : 0.0025, name)
        }
    }

    /// Under μP the frozen table is the learned one's initial table (same stream, same σ_base) and hashed is its SP
    /// table rescaled by 0.08 / 0.02: the parametrization changes the scale, nothing else.
    func testMuPOnlyRescalesTheTable() throws {
        let frozen = Harness(try StrategyRegistry.make(name: "frozen-random", context: mup))
        let learned = Harness(try StrategyRegistry.make(name: "learned", context: mup))
        XCTAssertEqual(bits(frozen.table(0)), bits(learned.table(0)))
        let hashedSP = Harness(try StrategyRegistry.make(name: "hashed", context: sp)).table(0)
        let hashedMuP = Harness(try StrategyRegistry.make(name: "hashed", context: mup)).table(0)
        for (a, b) in zip(hashedSP, hashedMuP) { XCTAssertEqual(Double(b), Double(a) * 4, accuracy: 1e-6) }
    }

    func testOptionsOverrideTheParametrizationDefaults() throws {
        for name in Self.tables {
            // μP network, plain table (the decomposition arm "learned-plain-table") …
            let plain = try StrategyRegistry.make(name: name, options: ["init_std": 0.02, "input_multiplier": 1], context: mup)
            XCTAssertEqual(plain.outputMultiplier, 1, name)
            XCTAssertTrue(resolved(plain) == (0.02, 1), name)
            XCTAssertEqual(bits(Harness(plain).table(0)), bits(Harness(try StrategyRegistry.make(name: name, context: sp)).table(0)), name)
            // … and SP network, μP-scaled table ("learned-mup-table").
            let scaled = try StrategyRegistry.make(name: name, options: ["init_std": 0.08, "input_multiplier": 10], context: sp)
            XCTAssertEqual(scaled.outputMultiplier, 10, name)
            XCTAssertTrue(resolved(scaled) == (0.08, 10), name)
            // One option alone keeps the other's default.
            XCTAssertTrue(resolved(try StrategyRegistry.make(name: name, options: ["input_multiplier": 2.5], context: mup)) == (0.08, 2.5), name)
        }
    }

    func testInvalidScalesAreRejectedNamingTheOption() {
        for name in Self.tables + ["mup"] {
            for (key, value) in [("init_std", 0.0), ("init_std", -0.02), ("input_multiplier", 0.0), ("input_multiplier", -10.0)] {
                XCTAssertThrowsError(try StrategyRegistry.make(name: name, options: [key: value], context: mup)) { error in
                    XCTAssertEqual("\(error)", "strategy '\(name)', option '\(key)': must be a finite number > 0, got \(value).")
                }
            }
            XCTAssertThrowsError(try StrategyRegistry.make(name: name, options: ["input_multiplier": "ten"], context: mup)) { error in
                XCTAssertTrue("\(error)".contains("option 'input_multiplier': expected a value of type Double"), "\(error)")
            }
        }
    }

    /// hashed's `init_std` was `target_std`: old configs keep working; giving both is an error.
    func testHashedReadsItsOldKey() throws {
        let old = try StrategyRegistry.make(name: "hashed", options: ["target_std": 0.05], context: sp)
        XCTAssertTrue(resolved(old) == (0.05, 1))
        XCTAssertEqual(standardDeviation(Harness(old).table(0)), 0.05, accuracy: 1e-6)
        XCTAssertThrowsError(try StrategyRegistry.make(name: "hashed", options: ["target_std": 0.05, "init_std": 0.05], context: sp)) { error in
            XCTAssertEqual(
                "\(error)", "strategy 'hashed', option 'target_std': is the old name of 'init_std', which is also set; keep only 'init_std'.")
        }
    }

    /// The registry's defaults in a context are the options a strategy built there with no options resolves to.
    func testDefaultOptionsInAContextAreWhatABuiltStrategyUses() throws {
        for name in Self.tables {
            let type = try StrategyRegistry.type(named: name)
            for context in [sp, mup] {
                XCTAssertEqual(
                    NSDictionary(dictionary: StrategyRegistry.defaultOptions(of: type, in: context)),
                    NSDictionary(dictionary: StrategyRegistry.encodeToObject(try StrategyRegistry.make(name: name, context: context).options)),
                    name)
            }
        }
    }
}
