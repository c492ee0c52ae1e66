import Benchmarks
import Foundation
import Kernels
import Probes
import RunFormat
import XCTest

/// Probe metrics on synthetic tables with known answers, and against NumPy/SciPy (Tests/ProbesTests/scipy_reference.py).
final class ProbeMetricTests: XCTestCase {
    // MARK: effective rank

    func testIdentityLikeTableHasFullEffectiveRank() throws {
        // 64 rows cycling through the 16 unit vectors: every singular value is 2, so exp(H) = 16 exactly.
        var v = [Float](repeating: 0, count: 64 * 16)
        for i in 0..<64 { v[i * 16 + i % 16] = 1 }
        let er = try XCTUnwrap(try Geometry.effectiveRank(ProbeMatrix(rows: 64, cols: 16, values: v)))
        XCTAssertEqual(er, 16, accuracy: 1e-4)
    }

    func testDuplicatedRowsHaveLowEffectiveRank() throws {
        var rng = Xoshiro256(seed: 3)
        let base = (0..<32).map { _ in Float(rng.nextNormal()) }
        // Rank one: every row a multiple of one vector.
        let one = ProbeMatrix(rows: (0..<100).map { i in base.map { $0 * Float(1 + i % 5) } })
        XCTAssertEqual(try XCTUnwrap(try Geometry.effectiveRank(one)), 1, accuracy: 1e-4)
        // The float Gram matrix's eigenvalues alone leave a round-off floor under the σ's (why `automatic` switches).
        XCTAssertGreaterThan(try XCTUnwrap(Geometry.effectiveRank(singularValues: try Geometry.singularValues(one, method: .gramEigenvalues))), 1.001)
        // Three orthogonal directions with equal energy, duplicated: effective rank 3.
        let three = ProbeMatrix(
            rows: (0..<90).map { i -> [Float] in
                var r = [Float](repeating: 0, count: 32); r[(i % 3) * 7] = 2; return r
            })
        XCTAssertEqual(try XCTUnwrap(try Geometry.effectiveRank(three)), 3, accuracy: 1e-3)
        // A random Gaussian table is close to full rank (≥ 80 % of D for V = 16·D).
        let random = ProbeMatrix(rows: 512, cols: 32, values: (0..<(512 * 32)).map { _ in Float(rng.nextNormal()) })
        XCTAssertGreaterThan(try XCTUnwrap(try Geometry.effectiveRank(random)), 0.8 * 32)
        XCTAssertNil(try Geometry.effectiveRank(ProbeMatrix(rows: 4, cols: 3, values: [Float](repeating: 0, count: 12))))
    }

    func testSingularValuesAndEffectiveRankMatchNumPy() throws {
        let m = ProbeMatrix(rows: [[1, 2, 0, -1], [0, 1, 3, 1], [2, -1, 1, 0], [1, 1, 1, 1], [-2, 0, 1, 3], [0, 0, 2, -1], [1, -3, 0, 2]])
        // np.linalg.svd(m, compute_uv=False)
        let want = [4.835837513536187, 4.362013612573565, 3.6455525577216044, 2.0730314361554067]
        for method in [Geometry.SVDMethod.gramEigenvalues, .projections, .automatic] {
            let got = try Geometry.singularValues(m, method: method)
            XCTAssertEqual(got.count, 4)
            for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-5) }
        }
        // p = s / s.sum(); np.exp(-(p * np.log(p)).sum())
        XCTAssertEqual(try XCTUnwrap(try Geometry.effectiveRank(m)), 3.8318110853130447, accuracy: 1e-5)
        // Roy & Vetterli by hand: σ = (3, 1) ⇒ p = (¾, ¼) ⇒ exp(H) = 4 / 3^¾.
        XCTAssertEqual(try XCTUnwrap(Geometry.effectiveRank(singularValues: [3, 1])), 4 / pow(3, 0.75), accuracy: 1e-12)
    }

    // MARK: isotropy, norms

    func testIsotropy() throws {
        var rng = Xoshiro256(seed: 5)
        let dir = (0..<16).map { _ in Float(rng.nextNormal()) }
        let aligned = ProbeMatrix(rows: (0..<50).map { i in dir.map { $0 * Float(1 + i) } })
        XCTAssertEqual(try XCTUnwrap(Geometry.isotropy(aligned, pairs: 500)), 1, accuracy: 1e-6)
        var eye = [Float](repeating: 0, count: 32 * 32)
        for i in 0..<32 { eye[i * 32 + i] = 1 }
        XCTAssertEqual(try XCTUnwrap(Geometry.isotropy(ProbeMatrix(rows: 32, cols: 32, values: eye), pairs: 500)), 0, accuracy: 1e-12)
        // Seeded: the same seed gives the same number; zero rows are never drawn; < 2 usable rows is undefined.
        let random = ProbeMatrix(rows: 100, cols: 8, values: (0..<800).map { _ in Float(rng.nextNormal()) })
        XCTAssertEqual(Geometry.isotropy(random, seed: 9), Geometry.isotropy(random, seed: 9))
        XCTAssertEqual(try XCTUnwrap(Geometry.isotropy(random, pairs: 20_000)), 0, accuracy: 0.03)
        var withZeros = aligned.values; for k in 0..<16 { withZeros[k] = 0 }
        XCTAssertEqual(try XCTUnwrap(Geometry.isotropy(ProbeMatrix(rows: 50, cols: 16, values: withZeros), pairs: 500)), 1, accuracy: 1e-6)
        XCTAssertNil(Geometry.isotropy(aligned, among: [3]))
    }

    func testNormFrequencySpearmanMatchesSciPy() throws {
        let m = ProbeMatrix(rows: [[1, 2, 0, -1], [0, 1, 3, 1], [2, -1, 1, 0], [1, 1, 1, 1], [-2, 0, 1, 3], [0, 0, 2, -1], [1, -3, 0, 2]])
        // stats.spearmanr(np.linalg.norm(m, axis=1), [10, 3, 7, 7, 1, 20, 5]).statistic
        let rho = try XCTUnwrap(try Geometry.normFrequencySpearman(m, counts: [10, 3, 7, 7, 1, 20, 5]))
        XCTAssertEqual(rho, -0.7614999375457328, accuracy: 1e-12)
        // Equal norms (the hashed strategy's rows): undefined, not a fake number.
        XCTAssertNil(try Geometry.normFrequencySpearman(ProbeMatrix(rows: [[1, 0], [0, 1], [0, -1]]), counts: [1, 2, 3]))
    }

    // MARK: word similarity

    /// Words "w0"…"w5" are tokens 0…5; "w0w1" is two tokens; anything else encodes to nothing.
    func encoder(inCorpus: Set<String> = ["w0", "w1", "w2", "w3", "w4", "w5", "w0w1", "w2w3w4"]) -> WordEncoder {
        WordEncoder(
            encode: { word in
                if word == "w0w1" { return [0, 1] }
                if word == "w2w3w4" { return [2, 3, 4] }
                if word.hasPrefix("w"), let i = Int32(word.dropFirst()), (0..<6).contains(i) { return [i] }
                return []
            }, corpusWords: inCorpus)
    }

    let table = ProbeMatrix(rows: [[1, 0, 2], [2, 1, 0], [0, 3, 1], [1, 1, 1], [-1, 2, 0], [3, -1, 1]])

    func testWordSimilaritySpearmanMatchesSciPy() throws {
        let set = WordPairSet(
            name: "t",
            pairs: [
                .init("w0", "w1", 5), .init("w0", "w2", 3.5), .init("w1", "w3", 7.25),
                .init("w2", "w4", 3.5), .init("w3", "w5", 9), .init("w4", "w5", 1),
                .init("w0", "w5", 6), .init("w1", "w4", 2),
            ])
        let r = try WordSimilarity.evaluate(EncodedWordPairSet(set, encoder: encoder()), table: table)
        // stats.spearmanr(cos, human).statistic with cos from the same table (scipy_reference.py)
        XCTAssertEqual(try XCTUnwrap(r.rho), 0.6347419188140272, accuracy: 1e-12)
        XCTAssertEqual(r.pairs, 8); XCTAssertEqual(r.totalPairs, 8); XCTAssertEqual(r.pairsInCorpus, 8)
        XCTAssertEqual(r.coverageInCorpus, 1)
    }

    func testMultiTokenWordIsTheMeanOfItsTokens() throws {
        let a = try XCTUnwrap(WordSimilarity.meanVector(table, [0, 1])), b = try XCTUnwrap(WordSimilarity.meanVector(table, [5]))
        let c = try XCTUnwrap(WordSimilarity.meanVector(table, [2, 3, 4])), d = try XCTUnwrap(WordSimilarity.meanVector(table, [0]))
        func cos(_ x: [Double], _ y: [Double]) -> Double {
            zip(x, y).map(*).reduce(0, +) / (x.map { $0 * $0 }.reduce(0, +) * y.map { $0 * $0 }.reduce(0, +)).squareRoot()
        }
        // NumPy: table[[0, 1]].mean(0) etc. (scipy_reference.py)
        XCTAssertEqual(cos(a, b), 0.8058229640253802, accuracy: 1e-12)
        XCTAssertEqual(cos(c, d), 0.28284271247461895, accuracy: 1e-12)
        XCTAssertEqual(cos(a, c), 0.42257712736425823, accuracy: 1e-12)
        XCTAssertNil(WordSimilarity.meanVector(table, []))
        XCTAssertNil(WordSimilarity.meanVector(table, [6]))
    }

    func testPlantedSimilarityGivesRhoOne() throws {
        // Pair k: word a_k = e_k, word b_k = cos θ_k e_k + sin θ_k e_{n+k}, θ_k falling with the score ⇒ cosine = cos θ_k
        // is a monotone function of the score ⇒ ρ = 1.
        let n = 40
        var rng = Xoshiro256(seed: 11)
        let scores = (0..<n).map { _ in rng.nextDouble() * 10 }
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 2 * n), count: 2 * n)
        for k in 0..<n {
            let theta = (1 - scores[k] / 10) * Double.pi / 2
            rows[2 * k][k] = 1
            rows[2 * k + 1][k] = Float(cos(theta)); rows[2 * k + 1][n + k] = Float(sin(theta))
        }
        let enc = WordEncoder(encode: { [Int32($0.dropFirst())!] }, corpusWords: [])
        let set = WordPairSet(name: "planted", pairs: (0..<n).map { .init("t\(2 * $0)", "t\(2 * $0 + 1)", scores[$0]) })
        let r = try WordSimilarity.evaluate(EncodedWordPairSet(set, encoder: enc), table: ProbeMatrix(rows: rows))
        XCTAssertEqual(try XCTUnwrap(r.rho), 1, accuracy: 1e-12)
        // Nothing is in the (empty) corpus: the in-corpus ρ is undefined and coverage 0.
        XCTAssertNil(r.rhoInCorpus); XCTAssertEqual(r.pairsInCorpus, 0); XCTAssertEqual(r.coverageInCorpus, 0)
        // A random table has no such signal.
        let noise = ProbeMatrix(rows: 2 * n, cols: 2 * n, values: (0..<(4 * n * n)).map { _ in Float(rng.nextNormal()) })
        XCTAssertLessThan(abs(try XCTUnwrap(try WordSimilarity.evaluate(EncodedWordPairSet(set, encoder: enc), table: noise).rho)), 0.5)
    }

    func testMissingWordsAreSkippedAndCounted() throws {
        // "zebra" encodes to no token; "w9" is outside the table; "w3" is not in the corpus.
        let set = WordPairSet(
            name: "m",
            pairs: [
                .init("w0", "w1", 5), .init("w0", "zebra", 3), .init("w9", "w2", 1),
                .init("w1", "w2", 2), .init("w2", "w3", 8), .init("w3", "w4", 4),
                .init("w4", "w5", 6), .init("w0", "w5", 7),
            ])
        let enc = encoder(inCorpus: ["w0", "w1", "w2", "w4", "w5", "zebra"])
        let r = try WordSimilarity.evaluate(EncodedWordPairSet(set, encoder: enc), table: table)
        XCTAssertEqual(r.totalPairs, 8)
        XCTAssertEqual(r.pairs, 6)  // two pairs without a vector
        XCTAssertEqual(r.pairsInCorpus, 4)  // of the 6: not (w2, w3), (w3, w4)
        XCTAssertEqual(r.coverageInCorpus, 5.0 / 8, accuracy: 1e-12)  // (w0, zebra) is in the corpus but has no vector
        XCTAssertNotNil(r.rho); XCTAssertNotNil(r.rhoInCorpus)
        // Fewer than 3 usable pairs: ρ undefined (nil), never NaN.
        let tiny = WordPairSet(name: "x", pairs: [.init("w0", "w1", 1), .init("w1", "w2", 2), .init("a", "b", 3)])
        let rt = try WordSimilarity.evaluate(EncodedWordPairSet(tiny, encoder: encoder()), table: table)
        XCTAssertNil(rt.rho); XCTAssertEqual(rt.pairs, 2)
    }

    func testRhoIntervalMatchesSciPy() throws {
        // np.tanh(np.arctanh(0.5) ± norm.ppf(0.975) * np.sqrt(1.06 / 100))  (scipy_reference.py)
        let ci = try XCTUnwrap(WordSimilarity.interval(rho: 0.5, n: 103))
        XCTAssertEqual(ci[0], 0.33417032479237796, accuracy: 1e-12)
        XCTAssertEqual(ci[1], 0.6358028242287748, accuracy: 1e-12)
        XCTAssertNil(WordSimilarity.interval(rho: nil, n: 100)); XCTAssertNil(WordSimilarity.interval(rho: 0.3, n: 4))
    }

    func testParsingWordPairFiles() throws {
        let text = "# WordSim\n# Word 1\tWord 2\tHuman (mean)\nlove\tsex\t6.77\n\nsun sunlight 50.000000\r\nJerusalem\tIsrael\t8.46\n"
        let s = try WordPairSet.parse(text, name: "x")
        XCTAssertEqual(s.pairs, [.init("love", "sex", 6.77), .init("sun", "sunlight", 50), .init("Jerusalem", "Israel", 8.46)])
        XCTAssertThrowsError(try WordPairSet.parse("a b\n", name: "bad")) { e in
            XCTAssertTrue("\(e)".contains("line 1"), "\(e)")
        }
        XCTAssertThrowsError(try WordPairSet.parse("a b c\n", name: "bad"))
    }

    func testCorpusWordsAreLowercaseLetterRuns() {
        let w = WordEncoder.words(of: Array("To be, or NOT to-be: that's\nthe Question!".utf8))
        XCTAssertEqual(w, ["to", "be", "or", "not", "that", "s", "the", "question"])
        let e = WordEncoder(encode: { _ in [] }, corpusWords: w)
        XCTAssertTrue(e.isInCorpus("Question")); XCTAssertFalse(e.isInCorpus("king"))
    }

    // MARK: drift

    func testDriftAndStabilisationPoint() throws {
        var rng = Xoshiro256(seed: 2)
        let e0 = ProbeMatrix(rows: 20, cols: 8, values: (0..<160).map { _ in Float(rng.nextNormal()) })
        let delta = (0..<160).map { _ in Float(rng.nextNormal()) }
        // E_t = E_0 + g_t·Δ: remaining drift = 1 − g_t. g reaches 0.9 at step 40 of 100 and stays above it.
        let steps = [0, 1, 5, 10, 20, 40, 60, 100]
        let g: [Float] = [0, 0.1, 0.3, 0.5, 0.8, 0.92, 0.95, 1]
        let snaps = zip(steps, g).map { s, gt in (step: s, table: ProbeMatrix(rows: 20, cols: 8, values: zip(e0.values, delta).map { $0 + gt * $1 }))
        }
        let d = Drift(snapshots: snaps, totalSteps: 100)
        XCTAssertEqual(d.fractions, steps.map { Double($0) / 100 })
        for (r, gt) in zip(d.remainingDrift, g) { XCTAssertEqual(try XCTUnwrap(r), 1 - Double(gt), accuracy: 1e-5) }
        let dn = TableDistance.distance(snaps.last!.table, e0) / e0.frobeniusNorm
        XCTAssertEqual(d.totalDrift, dn, accuracy: 1e-9)
        XCTAssertEqual(d.relativeChangeFromInit.last!, dn, accuracy: 1e-9)
        XCTAssertEqual(d.relativeChangeFromInit[0], 0)
        XCTAssertEqual(try XCTUnwrap(d.cosineToFinal.last!), 1, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(d.stabilisedAt), 0.4)
        XCTAssertFalse(d.frozen)
        // Moving away again after being close resets the stabilisation point.
        var g2 = g; g2[6] = 0.7
        let snaps2 = zip(steps, g2).map { s, gt in
            (step: s, table: ProbeMatrix(rows: 20, cols: 8, values: zip(e0.values, delta).map { $0 + gt * $1 }))
        }
        XCTAssertEqual(try XCTUnwrap(Drift(snapshots: snaps2, totalSteps: 100).stabilisedAt), 1.0)
        // A frozen table: no drift, no stabilisation point.
        let frozen = Drift(snapshots: steps.map { (step: $0, table: e0) }, totalSteps: 100)
        XCTAssertTrue(frozen.frozen); XCTAssertNil(frozen.stabilisedAt); XCTAssertNil(frozen.stabilisedAtCosine)
        XCTAssertEqual(frozen.totalDrift, 0)
    }

    func testLowRankInputIsTheProduct() throws {
        let a = ProbeMatrix(rows: [[1, 2], [3, 4], [0, 1]]), p = ProbeMatrix(rows: [[1, 0, 2], [0, 1, -1]])
        let (name, t) = try RunProbe.inputTable(["embedding.wte_a": a, "embedding.wte_p": p, "lm_head.weight": a], strategy: "lowrank")
        XCTAssertEqual(name, "embedding.wte_a·embedding.wte_p")
        XCTAssertEqual(t, ProbeMatrix(rows: [[1, 2, 0], [3, 4, 2], [0, 1, -1]]))
        XCTAssertEqual(try RunProbe.inputTable(["embedding.wte_hashed": a], strategy: "hashed").name, "embedding.wte_hashed")
        // Another strategy's tensors, or an unknown strategy: an error naming the file.
        XCTAssertThrowsError(try RunProbe.inputTable(["embedding.x": a, "embedding.y": a], strategy: "learned", path: "/r/m.safetensors")) {
            XCTAssertTrue(String(describing: $0).contains("/r/m.safetensors"))
        }
        XCTAssertThrowsError(try RunProbe.inputTable(["embedding.wte": a], strategy: "no-such-strategy"))
    }

    func testBenchRunsOnASmallTable() throws {
        let r = try ProbeBench.run(rows: 512, cols: 32, pairsPerSet: 50)
        XCTAssertGreaterThan(r.all, 0)
    }
}
