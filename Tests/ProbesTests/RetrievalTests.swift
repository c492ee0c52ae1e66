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
}
