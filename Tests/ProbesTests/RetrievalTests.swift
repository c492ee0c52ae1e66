import Kernels
import Probes
import XCTest

final class RetrievalTests: XCTestCase {
    // The example of retrieval_reference.py: 9 passages of 3 works over a 10-token vocabulary.
    let passages: [Retrieval.Passage] = [
        [1, 2, 3, 4], [2, 3, 4, 1], [1, 1, 2, 9],
        [5, 6, 7, 8], [6, 7, 8, 5], [5, 5, 0, 6],
        [9, 0, 3, 7], [0, 9, 3, 7], [1, 2, 3, 4],
    ].enumerated().map { Retrieval.Passage(work: $0.offset / 3, tokens: $0.element) }
    let table = ProbeMatrix(rows: 10, cols: 4, values: (0..<40).map { Float(sin(0.7 * Double($0 / 4) + 1.3 * Double($0 % 4))) })

    /// Mean-pooled table MAP and the TF-IDF baseline against scikit-learn 1.9.1 (`average_precision_score`,
    /// `TfidfVectorizer` defaults) on the same passages: Tests/ProbesTests/retrieval_reference.py prints
    /// "table MAP 0.7074074074074075" and "tfidf MAP 0.7203703703703703". The example has exact ties (passage 8
    /// duplicates passage 0), which sklearn scores as one threshold step. A rank-based MAP is exact up to ties, so a
    /// 1e-12 tolerance only absorbs the summation order.
    func testMeanAveragePrecisionMatchesScikitLearn() throws {
        let queries = Array(passages.indices)
        let labels = passages.map(\.work)
        let pooled = Retrieval.pooledVectors(table: table, passages: passages)
        XCTAssertEqual(
            try XCTUnwrap(Retrieval.meanAveragePrecision(normalized: pooled, labels: labels, queries: queries)),
            0.7074074074074075, accuracy: 1e-12)
        XCTAssertEqual(
            try XCTUnwrap(Retrieval.tfidfMeanAveragePrecision(passages, queries: queries)),
            0.7203703703703703, accuracy: 1e-12)
    }

    /// Perfectly separated works give MAP 1; a query whose work has no other passage is skipped; nothing relevant → nil.
    func testEdgeCases() throws {
        let separated = ProbeMatrix(rows: 4, cols: 2, values: [1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9])
        XCTAssertEqual(Retrieval.meanAveragePrecision(normalized: separated, labels: [0, 0, 1, 1], queries: [0, 1, 2, 3]), 1)
        XCTAssertEqual(Retrieval.meanAveragePrecision(normalized: separated, labels: [0, 0, 1, 2], queries: [0, 3]), 1)
        XCTAssertNil(Retrieval.meanAveragePrecision(normalized: separated, labels: [0, 1, 2, 3], queries: [0, 1]))
    }

    /// The closed form of a random ranking's expected MAP against brute force: for each query, the mean AP (by the
    /// same `meanAveragePrecision` the probe uses) over all rankings of the other passages, enumerated. Works of 3, 2
    /// and 1 passages (the last has no relevant document and is skipped), so R varies between queries.
    func testChanceLevelIsTheMeanOverEveryRanking() throws {
        let labels = [0, 0, 0, 1, 1, 2]
        let queries = Array(labels.indices)
        func permutations(_ items: [Int]) -> [[Int]] {
            guard let first = items.first else { return [[]] }
            return permutations(Array(items.dropFirst())).flatMap { rest in
                (0...rest.count).map { i in
                    var p = rest; p.insert(first, at: i); return p
                }
            }
        }
        var total = 0.0, counted = 0
        for q in queries where labels.indices.contains(where: { $0 != q && labels[$0] == labels[q] }) {
            let others = labels.indices.filter { $0 != q }
            let orders = permutations(others)
            var sum = 0.0
            for order in orders {
                let score = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($0.element, -Double($0.offset)) })
                sum += try XCTUnwrap(Retrieval.meanAveragePrecision(labels: labels, queries: [q]) { _, doc in score[doc]! })
            }
            total += sum / Double(orders.count)
            counted += 1
        }
        XCTAssertEqual(counted, 5)
        XCTAssertEqual(try XCTUnwrap(Retrieval.chanceMeanAveragePrecision(labels: labels, queries: queries)), total / 5, accuracy: 1e-12)
        // One other passage, and it is relevant: AP = 1 whatever the ranking. Nothing relevant anywhere: nil.
        XCTAssertEqual(Retrieval.chanceMeanAveragePrecision(labels: [0, 0], queries: [0, 1]), 1)
        XCTAssertNil(Retrieval.chanceMeanAveragePrecision(labels: [0, 1, 2], queries: [0, 1, 2]))
    }

    /// Windows are consecutive, of the given length, at most `perWork` per work, seeded, in text order.
    func testPassagesAreSeededWindowsOfEachWork() {
        let works: [[Int32]] = [Array(0..<100), Array(100..<110)]
        let a = Retrieval.passages(works: works, length: 8, perWork: 5, seed: 3)
        XCTAssertEqual(a, Retrieval.passages(works: works, length: 8, perWork: 5, seed: 3))
        XCTAssertEqual(a.filter { $0.work == 0 }.count, 5)
        XCTAssertEqual(a.filter { $0.work == 1 }.map(\.tokens), [Array(100..<108)])  // the 2-token tail is dropped
        for p in a { XCTAssertEqual(p.tokens.count, 8); XCTAssertEqual(p.tokens.first! % 8, p.work == 0 ? 0 : 4) }
        let starts = a.filter { $0.work == 0 }.map { $0.tokens[0] }
        XCTAssertEqual(starts, starts.sorted())
        XCTAssertNotEqual(starts, Retrieval.passages(works: works, length: 8, perWork: 5, seed: 4).filter { $0.work == 0 }.map { $0.tokens[0] })
    }

    /// Cropping keeps the first columns; padding keeps the table and adds columns at its own RMS; xavier-normal has
    /// variance 2/(V + D).
    func testVariants() {
        let c = Retrieval.cropped(table, to: 2)
        XCTAssertEqual(c.cols, 2)
        XCTAssertEqual(Array(c.row(3)), Array(table.row(3).prefix(2)))
        let p = Retrieval.padded(table, to: 400, seed: 1)
        XCTAssertEqual(Array(p.row(5).prefix(4)), Array(table.row(5)))
        let added = (0..<10).flatMap { Array(p.row($0).dropFirst(4)) }
        let rms = table.frobeniusNorm / (40.0).squareRoot()
        let addedRMS = (added.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(added.count)).squareRoot()
        XCTAssertEqual(addedRMS, rms, accuracy: 0.05 * rms)  // 3,960 draws: the RMS is within ~2 % of σ
        let x = Retrieval.xavierNormal(rows: 300, cols: 100, seed: 9)
        let std = x.frobeniusNorm / Double(x.values.count).squareRoot()
        XCTAssertEqual(std, (2.0 / 400).squareRoot(), accuracy: 0.03 * (2.0 / 400).squareRoot())  // 30,000 draws
        XCTAssertEqual(x, Retrieval.xavierNormal(rows: 300, cols: 100, seed: 9))
    }

    /// The one-GEMM MAP equals per-pair Double dot products in a fixed order (the path the scikit-learn example checks
    /// above) on a realistic-size problem: 6 works × 20 passages over a 300 × 48 table, with exact duplicate passages
    /// (which must tie) and permuted duplicates (same multiset of tokens).
    func testGEMMScoresMatchPairwiseDotProducts() throws {
        var rng = Xoshiro256(seed: 11)
        let table = ProbeMatrix(rows: 300, cols: 48, values: (0..<(300 * 48)).map { _ in Float(rng.nextNormal()) })
        var ps = (0..<120).map { i in
            Retrieval.Passage(work: i / 20, tokens: (0..<16).map { _ in Int32((i / 20) * 40 + rng.nextInt(below: 60)) })
        }
        ps[7] = Retrieval.Passage(work: 0, tokens: ps[30].tokens)  // an exact duplicate in another work
        ps[8] = Retrieval.Passage(work: 0, tokens: ps[30].tokens.reversed())
        let pooled = Retrieval.pooledVectors(table: table, passages: ps)
        let labels = ps.map(\.work), queries = Array(ps.indices)
        let d = pooled.cols
        let reference = Retrieval.meanAveragePrecision(labels: labels, queries: queries) { q, doc in
            var s = 0.0
            for j in 0..<d { s += Double(pooled.values[q * d + j]) * Double(pooled.values[doc * d + j]) }
            return s
        }
        let fast = try XCTUnwrap(Retrieval.meanAveragePrecision(normalized: pooled, labels: labels, queries: queries))
        XCTAssertEqual(fast, try XCTUnwrap(reference), accuracy: 1e-12)
        XCTAssertGreaterThan(fast, 0.3)  // works draw from shifted token ranges: well above chance (≈ 0.16)
        // A subset of queries scores only those queries.
        let some = [0, 25, 119]
        let subset = Retrieval.meanAveragePrecision(labels: labels, queries: some) { qi, doc in
            var s = 0.0
            for j in 0..<d { s += Double(pooled.values[some[qi] * d + j]) * Double(pooled.values[doc * d + j]) }
            return s
        }
        XCTAssertEqual(
            try XCTUnwrap(Retrieval.meanAveragePrecision(normalized: pooled, labels: labels, queries: some)), try XCTUnwrap(subset),
            accuracy: 1e-12)
    }

    /// The run-level variants: cropped / padded only when the width differs from the table's, a random baseline that
    /// depends on the shape alone, init only when given, the TF-IDF baseline once per corpus.
    func testRetrievalCorpusVariants() throws {
        var rng = Xoshiro256(seed: 5)
        let works: [[Int32]] = (0..<4).map { w in (0..<400).map { _ in Int32(w * 20 + rng.nextInt(below: 40)) } }
        let corpus = RetrievalCorpus(works: works, length: 16, perWork: 10, seed: 1)
        XCTAssertEqual(corpus.passages.count, 40)
        XCTAssertEqual(corpus.works, 4)
        let trained = ProbeMatrix(rows: 100, cols: 12, values: (0..<1200).map { _ in Float(rng.nextNormal()) })
        let other = ProbeMatrix(rows: 100, cols: 12, values: (0..<1200).map { _ in Float(rng.nextNormal()) })
        let a = corpus.scores(trained: trained, initial: nil, cropWidth: 4, padWidth: 40)
        XCTAssertEqual(a.trained, corpus.meanAveragePrecision(trained))
        XCTAssertNil(a.initial)
        XCTAssertEqual(a.croppedWidth, 4)
        XCTAssertEqual(a.cropped, corpus.meanAveragePrecision(Retrieval.cropped(trained, to: 4)))
        XCTAssertEqual(a.paddedWidth, 40)
        XCTAssertEqual(a.padded, corpus.meanAveragePrecision(Retrieval.padded(trained, to: 40, seed: RetrievalCorpus.paddingSeed)))
        XCTAssertEqual(a.tfidf, Retrieval.tfidfMeanAveragePrecision(corpus.passages, queries: Array(corpus.passages.indices)))
        XCTAssertEqual([a.passages, a.works, a.passageLength, a.perWork, Int(a.seed)], [40, 4, 16, 10, 1])
        let b = corpus.scores(trained: other, initial: trained, cropWidth: 12, padWidth: 12)
        XCTAssertEqual(b.initial, a.trained)
        XCTAssertEqual(b.random, a.random)  // same shape, shared seed
        XCTAssertNotEqual(b.trained, a.trained)
        XCTAssertNil(b.cropped); XCTAssertNil(b.croppedWidth); XCTAssertNil(b.padded); XCTAssertNil(b.paddedWidth)
        for m in [a.trained, a.random, a.cropped, a.padded, a.tfidf] { XCTAssertTrue((0...1).contains(try XCTUnwrap(m))) }
    }

    /// Nearest tokens by cosine, nearest first, ties by id, the word itself and zero rows excluded; words that are
    /// not one token are skipped and named.
    func testNearestTokens() {
        let t = ProbeMatrix(rows: [[1, 0], [2, 0.1], [0, 1], [-1, 0], [0, 0], [1, 0.1], [5, 0], [3, 0]])
        let n = NearestTokens.nearest(t, token: 0, k: 4)
        XCTAssertEqual(n.map(\.token), [6, 7, 1, 5])  // cos 1 (tied: by id), 0.9988, 0.9950
        XCTAssertEqual(n[0].cosine, 1, accuracy: 1e-12)
        let (found, skipped) = NearestTokens.neighbours(
            t, words: [" a", " bc", " z"], k: 2, encode: { w in w == " a" ? [0] : w == " bc" ? [1, 2] : [99] },
            text: { "t\($0)" })
        XCTAssertEqual(found.map(\.word), [" a"])
        XCTAssertEqual(found[0].nearest.map(\.text), ["t6", "t7"])
        XCTAssertEqual(skipped, [" bc", " z"])
    }
}
