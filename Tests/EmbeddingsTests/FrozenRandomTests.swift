import Embeddings
import Kernels
import XCTest

final class FrozenRandomTests: XCTestCase {
    func make(
        _ options: [String: Any], vocabulary: Vocabulary = Fixture.vocabulary, dModel: Int = Fixture.dModel,
        seed: UInt64 = Fixture.seed
    ) throws -> Harness {
        let s = try StrategyRegistry.make(
            name: "frozen-random", options: options,
            context: Fixture.context(seed: seed, vocabulary: vocabulary, dModel: dModel))
        return Harness(s, dModel: dModel)
    }

    func rows(_ h: Harness) -> [[Double]] {
        let t = h.table(0), d = h.dModel
        return (0..<(t.count / d)).map { r in (0..<d).map { Double(t[r * d + $0]) } }
    }

    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    func testTheTableIsFrozenAndDefaultsEqualLearnedInit() throws {
        let h = try make([:])
        XCTAssertEqual(h.specs.map(\.trainable), [false])
        XCTAssertNil(h.gradients[0])
        // Same run seed, same stream, same draw: frozen-random(normal, match-init 0.02) is learned's initial table.
        let learned = Harness(try StrategyRegistry.make(name: "learned", context: Fixture.context()))
        XCTAssertEqual(bits(h.table(0)), bits(learned.table(0)))
    }

    func testUnitNormRowsHaveNormOneForEveryDistribution() throws {
        for distribution in FrozenRandomEmbedding.Distribution.allCases {
            let h = try make(["distribution": distribution.rawValue, "scale": "unit-norm"])
            for row in rows(h) { XCTAssertEqual(dot(row, row).squareRoot(), 1, accuracy: 1e-6, distribution.rawValue) }
        }
    }

    func testOrthogonalRowsAreOrthonormalWhenVocabularyFitsInWidth() throws {
        // V = 40 ≤ D = 48: orthonormal rows (Gram matrix = I), scaled by init_std·√D under match-init.
        let vocabulary = Vocabulary(tokenBytes: (0..<40).map { [UInt8($0)] })
        let unit = rows(try make(["distribution": "orthogonal", "scale": "unit-norm"], vocabulary: vocabulary))
        let scaled = rows(try make(["distribution": "orthogonal"], vocabulary: vocabulary))
        let c = 0.02 * Double(Fixture.dModel).squareRoot()
        for i in 0..<40 {
            for j in 0..<40 {
                XCTAssertEqual(dot(unit[i], unit[j]), i == j ? 1 : 0, accuracy: 1e-6)
                XCTAssertEqual(dot(scaled[i], scaled[j]) / (c * c), i == j ? 1 : 0, accuracy: 1e-6)
            }
        }
    }

    func testOrthogonalColumnsAreOrthonormalWhenVocabularyExceedsWidth() throws {
        // V = 300 > D = 48: the D columns are orthogonal with equal norms; the table's RMS is init_std.
        let table = rows(try make(["distribution": "orthogonal"]))
        let v = table.count, d = Fixture.dModel
        let expected = 0.02 * 0.02 * Double(v)  // squared column norm: V · init_std²
        for a in 0..<d {
            for b in 0..<d {
                let g = (0..<v).reduce(0.0) { $0 + table[$1][a] * table[$1][b] }
                XCTAssertEqual(g / expected, a == b ? 1 : 0, accuracy: 1e-5)
            }
        }
    }

    func testSignCodesAreExactlyPlusMinusInitStd() throws {
        let h = try make(["distribution": "sign", "init_std": 0.05])
        let c = Float(0.05)
        XCTAssertTrue(h.table(0).allSatisfy { $0 == c || $0 == -c })
        let positive = h.table(0).filter { $0 > 0 }.count
        XCTAssertEqual(Double(positive) / Double(h.table(0).count), 0.5, accuracy: 0.02)  // sd ≈ 0.004
    }

    func testUniformIsBoundedWithTheRequestedStd() throws {
        let h = try make(["distribution": "uniform"])
        let bound = Float(0.02 * 3.0.squareRoot()) * 1.000001
        XCTAssertTrue(h.table(0).allSatisfy { abs($0) <= bound })
        XCTAssertEqual(standardDeviation(h.table(0)), 0.02, accuracy: 0.0005)  // 14400 samples: sd ≈ 0.00012
    }

    func testAFixedSeedGivesTheSameTableForEveryRunSeed() throws {
        let a = try make(["seed": 42], seed: 1), b = try make(["seed": 42], seed: 2), c = try make(["seed": 43], seed: 1)
        XCTAssertFalse(a.strategy.dependsOnRunSeed)
        XCTAssertEqual(bits(a.table(0)), bits(b.table(0)))
        XCTAssertNotEqual(bits(a.table(0)), bits(c.table(0)))
        XCTAssertTrue(try make([:]).strategy.dependsOnRunSeed)
    }

    func testInvalidEnumValuesListTheValidOnes() {
        XCTAssertThrowsError(try make(["distribution": "gaussian"])) { error in
            XCTAssertEqual(
                error as? StrategyError,
                .invalidOption(
                    strategy: "frozen-random", key: "distribution",
                    message: "'gaussian' is not valid; expected one of: normal, uniform, sign, orthogonal"))
        }
        XCTAssertThrowsError(try make(["scale": "unit"])) { error in
            XCTAssertTrue("\(error)".contains("expected one of: match-init, unit-norm"), "\(error)")
        }
        XCTAssertThrowsError(try make(["seed": "banana"])) { error in
            XCTAssertTrue("\(error)".contains("'seed'") && "\(error)".contains("run"), "\(error)")
        }
        XCTAssertThrowsError(try make(["init_std": -1]))
        XCTAssertEqual(
            StrategyRegistry.optionChoices(of: FrozenRandomEmbedding.self)["distribution"],
            ["normal", "uniform", "sign", "orthogonal"])
    }
}
