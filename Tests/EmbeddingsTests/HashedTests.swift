import Embeddings
import Kernels
import XCTest

final class HashedTests: XCTestCase {
    func make(
        _ options: [String: Any] = [:], vocabulary: Vocabulary = Fixture.vocabulary,
        dModel: Int = Fixture.dModel
    ) throws -> Harness {
        let s = try StrategyRegistry.make(
            name: "hashed", options: options,
            context: Fixture.context(vocabulary: vocabulary, dModel: dModel))
        return Harness(s, dModel: dModel)
    }

    func row(_ h: Harness, _ id: Int) -> [Double] {
        withExtendedLifetime(h) { (0..<h.dModel).map { Double(h.values[0][id * h.dModel + $0]) } }
    }

    func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let ab = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        return ab / (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
    }

    func id(_ text: String) -> Int { Fixture.vocabulary.tokenBytes.firstIndex(of: Array(text.utf8))! }

    /// The published FNV-1a 64 test vectors (Fowler/Noll/Vo reference): the hash is the standard one.
    func testFNV1a64MatchesTheReferenceVectors() {
        XCTAssertEqual(HashedEmbedding.fnv1a64(bytes: [UInt8]()), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(HashedEmbedding.fnv1a64(bytes: Array("a".utf8)), 0xAF63_DC4C_8601_EC8C)
        XCTAssertEqual(HashedEmbedding.fnv1a64(bytes: Array("foobar".utf8)), 0x8594_4171_F739_67E8)
    }

    /// Golden values, computed once (2026-11, x86_64 Linux) and hard-coded: they pin the whole pipeline — markers,
    /// n-gram extraction, FNV-1a, the RNG-drawn seeds s_i, (h·s_i) mod P, the [−1, 1] map and the averaging — so a
    /// table is identical across runs, processes and machines. Only IEEE +, ×, ÷ on integers-derived Doubles are
    /// involved (no libm), so the values are exact; the tolerance only absorbs a hypothetical fused multiply-add.
    /// If a deliberate change to the algorithm breaks this test, old checkpoints' hashed tables no longer match what
    /// the code computes: say so in the commit message.
    func testGoldenValuesPinCrossRunAndCrossMachineStability() throws {
        let s = try XCTUnwrap(make().strategy as? HashedEmbedding)
        let seeds = s.blockSeeds()
        XCTAssertEqual(
            seeds.map { Array($0.prefix(2)) },
            [[169_655_198, 687_009_560], [570_680_072, 74_332_991], [566_541_398, 627_424_614]])
        XCTAssertEqual(HashedEmbedding.units(of: Array(" the".utf8)), [257, 116, 104, 101, 258])
        let golden: [String: [Double]] = [
            " the": [
                -0.075441475047351159, -0.22217642916694141, 0.18686838737878972, -0.28136524981180849,
                0.1023818940523753, 0.746245509522527,
            ],
            "ing": [
                -0.24579572852522566, 0.1525212470848725, -0.088553841468676953, -0.1020220948878674,
                -0.1540550744090029, 0.35457470453921847,
            ],
            "a": [
                -0.38069054771585675, 0.5522512086864928, -0.31638467210169197, 0.11641443930151341,
                -0.52019713687881719, -0.021904955868570219,
            ],
        ]
        for (text, expected) in golden {
            let v = s.rawVector(bytes: Array(text.utf8), seeds: seeds)
            for (k, dim) in [0, 1, 16, 17, 32, 47].enumerated() {
                XCTAssertEqual(v[dim], expected[k], accuracy: 1e-12, "'\(text)'[\(dim)]")
            }
        }
    }

    func testSameTextGivesTheSameVectorAndTheRunSeedDoesNotMatter() throws {
        // Two ids with the same bytes (a vocabulary may hold duplicates, e.g. after merging tokenizers).
        let vocabulary = Vocabulary(tokenBytes: Fixture.vocabulary.tokenBytes + [Array(" the".utf8)])
        let h = try make(vocabulary: vocabulary)
        XCTAssertEqual(row(h, id(" the")), row(h, vocabulary.count - 1))
        XCTAssertFalse(h.strategy.dependsOnRunSeed)
        XCTAssertEqual(standardDeviation(h.table(0)), 0.02, accuracy: 1e-6)  // rescaled exactly to init_std
    }

    func testTokensSharingNGramsAreCloserThanRandomPairs() throws {
        let h = try make()
        let related = [
            (" the", " then"), (" the", "the"), ("ing", "ring"), (" thee", " the"), ("tion", "ion"),
            (" thou", " thee"), (" king", "ing"), (" that", "at"), (" café", "é"),
        ]
        let relatedMean = related.map { cosine(row(h, id($0.0)), row(h, id($0.1))) }.reduce(0, +) / Double(related.count)
        var rng = Xoshiro256(seed: 11)
        let merges = (256..<Fixture.vocabulary.count)
        var randomSum = 0.0
        let pairs = 400
        for _ in 0..<pairs {
            let a = merges.lowerBound + rng.nextInt(below: merges.count), b = merges.lowerBound + rng.nextInt(below: merges.count)
            randomSum += cosine(row(h, a), row(h, b))
        }
        let randomMean = randomSum / Double(pairs)
        XCTAssertGreaterThan(relatedMean, randomMean + 0.2, "related \(relatedMean) vs random \(randomMean)")
        XCTAssertGreaterThan(relatedMean, 0.3)
    }

    func testWordStartMarkerSeparatesSpaceInitialTokens() throws {
        let h = try make()
        // " the" and "the" share the 1-grams t, h, e but not ▁ / < contexts: similar, not identical.
        let c = cosine(row(h, id(" the")), row(h, id("the")))
        XCTAssertGreaterThan(c, 0.2)
        XCTAssertLessThan(c, 0.95)
    }

    func testRemainderDimensionsGoToTheFirstBlock() throws {
        let s = try XCTUnwrap(make(dModel: 25).strategy as? HashedEmbedding)
        XCTAssertEqual(s.blockWidths, [9, 8, 8])
        let two = try XCTUnwrap(make(["ngram_sizes": [2, 3]], dModel: 25).strategy as? HashedEmbedding)
        XCTAssertEqual(two.blockWidths, [13, 12])
    }

    func testInvalidOptions() {
        XCTAssertThrowsError(try make(["prime": 1_000_000_008]))  // not prime
        XCTAssertThrowsError(try make(["prime": 4_294_967_311]))  // prime but ≥ 2^32
        XCTAssertThrowsError(try make(["ngram_sizes": [Int]()]))
        XCTAssertThrowsError(try make(["ngram_sizes": [1, 1]]))
        XCTAssertThrowsError(try make(["ngram_sizes": [0, 2]]))
        XCTAssertThrowsError(try make(["target_std": 0]))
        XCTAssertNoThrow(try make(["prime": 2_147_483_647, "ngram_sizes": [2, 3, 4]]))
    }

    /// At byte level every token is one n-gram, so the table is just random vectors: no two tokens share anything.
    func testByteLevelVocabularyGivesUnrelatedVectors() throws {
        let h = try make(vocabulary: .bytes)
        let c = cosine(row(h, Int(UInt8(ascii: "a"))), row(h, Int(UInt8(ascii: "b"))))
        XCTAssertLessThan(abs(c), 0.5)
    }
}
