import Foundation
import Kernels

/// Retrieval quality of an input table **alone** — tokenizer + table + mean pooling, no transformer layer — in the
/// form of the embedding-scaling study ("How do the Embedding Layers of LLMs change with scale?", which scored the
/// tables of Pythia, OPT, BLOOM … on a retrieval benchmark by mean average precision):
///
/// - documents and queries are passages: consecutive `length`-token windows of each work's **validation** text (text
///   no table was trained on), at most `perWork` per work, drawn with a fixed seed so long works do not dominate;
/// - a passage's vector is the mean of its tokens' table rows (the table as the model reads it, before any multiplier);
/// - a query's relevant documents are the other passages of the same work; all other passages are ranked by cosine;
/// - average precision is scikit-learn's `average_precision_score` (Σₙ (Rₙ − Rₙ₋₁)·Pₙ over distinct score
///   thresholds, so tied scores count as one step), and MAP its mean over the queries.
///
/// A bag-of-tokens baseline (TF-IDF over token ids, scikit-learn's `TfidfVectorizer` defaults) shows how much of the
/// score token overlap alone gives; the variants (`cropped`, `padded`, `xavierNormal`) are the study's.
public enum Retrieval {
    public struct Passage: Sendable, Equatable {
        /// Index of the work (the relevance label).
        public var work: Int
        public var tokens: [Int32]
        public init(work: Int, tokens: [Int32]) { self.work = work; self.tokens = tokens }
    }

    /// Cuts each work's tokens into consecutive windows of `length` (a shorter tail is dropped) and keeps at most
    /// `perWork` of each work's windows, chosen by a seeded shuffle and returned in text order.
    public static func passages(works: [[Int32]], length: Int, perWork: Int, seed: UInt64) -> [Passage] {
        precondition(length > 0 && perWork > 0, "Retrieval.passages: length and perWork must be positive")
        var rng = Xoshiro256(seed: seed, stream: 0x4E7)
        var out: [Passage] = []
        for (w, tokens) in works.enumerated() {
            let count = tokens.count / length
            var starts = Array(0..<count)
            if count > perWork {
                for i in stride(from: count - 1, to: 0, by: -1) { starts.swapAt(i, rng.nextInt(below: i + 1)) }
                starts = Array(starts.prefix(perWork)).sorted()
            }
            for s in starts { out.append(Passage(work: w, tokens: Array(tokens[(s * length)..<((s + 1) * length)]))) }
        }
        return out
    }

    /// Mean of the passage's table rows, L2-normalised (a zero mean stays zero): passages × D.
    public static func pooledVectors(table: ProbeMatrix, passages: [Passage]) -> ProbeMatrix {
        let d = table.cols
        var out = [Float](repeating: 0, count: passages.count * d)
        var acc = [Double](repeating: 0, count: d)
        table.values.withUnsafeBufferPointer { t in
            for (i, p) in passages.enumerated() {
                for j in 0..<d { acc[j] = 0 }
                for token in p.tokens {
                    let row = Int(token) * d
                    for j in 0..<d { acc[j] += Double(t[row + j]) }
                }
                var norm = 0.0
                for j in 0..<d { norm += acc[j] * acc[j] }
                norm = norm.squareRoot()
                guard norm > 0 else { continue }
                for j in 0..<d { out[i * d + j] = Float(acc[j] / norm) }
            }
        }
        return ProbeMatrix(rows: passages.count, cols: d, values: out)
    }

    /// MAP of ranking by cosine between rows of `normalized` (unit rows, from `pooledVectors`), relevance = same label.
    /// Queries whose label has no other passage are skipped; nil when no query has a relevant document.
    ///
    /// All scores come from one double-precision GEMM (queries × passages). A GEMM may round the same dot product
    /// differently by where it falls in its blocking, so rows with identical values are first mapped to one
    /// representative column: two identical passages then tie exactly, as scikit-learn scores them.
    public static func meanAveragePrecision(normalized v: ProbeMatrix, labels: [Int], queries: [Int]) -> Double? {
        precondition(labels.count == v.rows, "Retrieval: one label per row")
        let (p, d, q) = (v.rows, v.cols, queries.count)
        guard p > 0, q > 0 else { return nil }
        let representative = identicalRowRepresentatives(v)
        let docs = v.values.map(Double.init)
        var queryRows = [Double](repeating: 0, count: q * d)
        for (qi, row) in queries.enumerated() { for j in 0..<d { queryRows[qi * d + j] = docs[row * d + j] } }
        var scores = [Double](repeating: 0, count: q * p)
        if d > 0 {
            docs.withUnsafeBufferPointer { b in
                queryRows.withUnsafeBufferPointer { a in
                    scores.withUnsafeMutableBufferPointer { c in
                        BLAS.dgemm(
                            transA: false, transB: true, m: q, n: p, k: d, alpha: 1, a: a.baseAddress!, lda: d,
                            b: b.baseAddress!, ldb: d, beta: 0, c: c.baseAddress!, ldc: p)
                    }
                }
            }
        }
        return scores.withUnsafeBufferPointer { s in
            meanAveragePrecision(labels: labels, queries: queries) { qi, doc in s[qi * p + representative[doc]] }
        }
    }

    /// For each row, the first row with bit-identical values (itself when it has no earlier twin).
    static func identicalRowRepresentatives(_ v: ProbeMatrix) -> [Int] {
        var first: [[UInt32]: Int] = [:]
        return (0..<v.rows).map { i in
            let key = v.row(i).map(\.bitPattern)
            if let r = first[key] { return r }
            first[key] = i
            return i
        }
    }

    /// The MAP a ranking at random would score on average: the chance level every variant is read against.
    /// For a query with R relevant among N other passages, a uniformly random ranking puts a relevant document at rank
    /// k with probability R/N, and the precision at that rank is then (1 + (k − 1)(R − 1)/(N − 1))/k on average, so
    /// E[AP] = (1/R) Σₖ (R/N)·(1 + (k − 1)(R − 1)/(N − 1))/k = (H_N + (R − 1)/(N − 1)·(N − H_N))/N, with H_N the N-th
    /// harmonic number (N = 1: E[AP] = 1). Averaged over the queries `meanAveragePrecision` counts (R ≥ 1).
    public static func chanceMeanAveragePrecision(labels: [Int], queries: [Int]) -> Double? {
        let n = labels.count - 1
        guard n >= 1 else { return nil }
        var perLabel: [Int: Int] = [:]
        for l in labels { perLabel[l, default: 0] += 1 }
        var harmonic = 0.0
        for k in 1...n { harmonic += 1 / Double(k) }
        var sum = 0.0, counted = 0
        for q in queries {
            let r = perLabel[labels[q]]! - 1
            guard r >= 1 else { continue }
            let later = n == 1 ? 0 : Double(r - 1) / Double(n - 1) * (Double(n) - harmonic)
            sum += (harmonic + later) / Double(n)
            counted += 1
        }
        return counted == 0 ? nil : sum / Double(counted)
    }

    /// MAP for any score function `score(queryIndex, document)` (queryIndex indexes `queries`).
    public static func meanAveragePrecision(labels: [Int], queries: [Int], score: (Int, Int) -> Double) -> Double? {
        var sum = 0.0, counted = 0
        var relevant: [Double] = [], others: [Double] = []
        for (qi, query) in queries.enumerated() {
            relevant.removeAll(keepingCapacity: true)
            others.removeAll(keepingCapacity: true)
            for doc in labels.indices where doc != query {
                if labels[doc] == labels[query] { relevant.append(score(qi, doc)) } else { others.append(score(qi, doc)) }
            }
            guard let ap = averagePrecision(relevant: &relevant, others: others) else { continue }
            sum += ap; counted += 1
        }
        return counted == 0 ? nil : sum / Double(counted)
    }

    /// scikit-learn's average precision, Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds (descending), written as
    /// the mean over the relevant documents r of the precision at threshold s_r: (relevant with score ≥ s_r) /
    /// (all with score ≥ s_r) — tied relevant documents share one threshold, as in scikit-learn. Counting "score ≥
    /// s_r" by binary search among the R relevant scores avoids sorting all documents. nil without a relevant document.
    static func averagePrecision(relevant: inout [Double], others: [Double]) -> Double? {
        let r = relevant.count
        guard r > 0 else { return nil }
        relevant.sort(by: >)
        // atOrAbove[i]: documents whose score is ≥ relevant[i] but < relevant[j] for every j < i with a larger score;
        // a document lands at the first index whose threshold it reaches.
        var firstReached = [Int](repeating: 0, count: r + 1)
        func bucket(_ x: Double) -> Int {
            var lo = 0, hi = r  // first i with relevant[i] <= x
            while lo < hi {
                let mid = (lo + hi) / 2
                if relevant[mid] <= x { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        for x in others { firstReached[bucket(x)] += 1 }
        for x in relevant { firstReached[bucket(x)] += 1 }
        var ap = 0.0, seen = 0, i = 0
        while i < r {
            var j = i
            while j < r && relevant[j] == relevant[i] { j += 1 }  // a group of tied relevant scores
            for k in i..<j { seen += firstReached[k] }
            ap += Double(j - i) * Double(j) / Double(seen)  // j relevant documents reach this threshold
            i = j
        }
        return ap / Double(r)
    }

    // MARK: - Baselines and variants

    /// TF-IDF over token ids with scikit-learn's `TfidfVectorizer` defaults — raw counts, idf = ln((1 + n)/(1 + df)) + 1,
    /// rows L2-normalised — as sparse rows (token id → weight), for the bag-of-tokens baseline.
    public static func tfidf(_ passages: [Passage]) -> [[Int32: Double]] {
        var df: [Int32: Int] = [:]
        for p in passages { for t in Set(p.tokens) { df[t, default: 0] += 1 } }
        let n = Double(passages.count)
        return passages.map { p in
            var row: [Int32: Double] = [:]
            for t in p.tokens { row[t, default: 0] += 1 }
            for (t, c) in row { row[t] = c * (log((1 + n) / (1 + Double(df[t]!))) + 1) }
            let norm = row.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for (t, w) in row { row[t] = w / norm } }
            return row
        }
    }

    /// MAP of the TF-IDF baseline (cosine of the L2-normalised sparse rows). Scores are accumulated query by query
    /// through an inverted index (token → passages holding it), in the query's token order, so identical passages
    /// get bit-identical scores and tie as in scikit-learn.
    public static func tfidfMeanAveragePrecision(_ passages: [Passage], queries: [Int]) -> Double? {
        let rows = tfidf(passages).map { $0.sorted { $0.key < $1.key } }
        var postings: [Int32: [(doc: Int, weight: Double)]] = [:]
        for (doc, row) in rows.enumerated() { for (t, w) in row { postings[t, default: []].append((doc, w)) } }
        var scores = [Double](repeating: 0, count: passages.count)
        var current = -1
        return meanAveragePrecision(labels: passages.map(\.work), queries: queries) { qi, doc in
            if qi != current {
                current = qi
                for i in scores.indices { scores[i] = 0 }
                for (t, w) in rows[queries[qi]] { for (d, x) in postings[t]! { scores[d] += w * x } }
            }
            return scores[doc]
        }
    }

    /// The table's first `k` columns (the study's "cropped to the first 128 dimensions": information per dimension).
    public static func cropped(_ table: ProbeMatrix, to k: Int) -> ProbeMatrix {
        let k = min(k, table.cols)
        var out = [Float](); out.reserveCapacity(table.rows * k)
        for i in 0..<table.rows { out.append(contentsOf: table.row(i).prefix(k)) }
        return ProbeMatrix(rows: table.rows, cols: k, values: out)
    }

    /// The table widened to `width` columns with N(0, σ²) entries, σ the table's own RMS (so the added dimensions are
    /// noise at the table's scale), from a fixed seed: the study's "padded with random dimensions".
    public static func padded(_ table: ProbeMatrix, to width: Int, seed: UInt64) -> ProbeMatrix {
        guard width > table.cols else { return table }
        let rms = table.values.isEmpty ? 0 : table.frobeniusNorm / Double(table.values.count).squareRoot()
        var rng = Xoshiro256(seed: seed, stream: 0x9AD)
        var out = [Float](); out.reserveCapacity(table.rows * width)
        for i in 0..<table.rows {
            out.append(contentsOf: table.row(i))
            for _ in table.cols..<width { out.append(Float(rng.nextNormal() * rms)) }
        }
        return ProbeMatrix(rows: table.rows, cols: width, values: out)
    }

    /// A xavier-normal V×D table, N(0, 2/(V + D)), from a seed shared across model sizes: the study's random baseline
    /// per tokenizer.
    public static func xavierNormal(rows: Int, cols: Int, seed: UInt64) -> ProbeMatrix {
        var rng = Xoshiro256(seed: seed, stream: 0xA7E)
        let std = (2 / Double(rows + cols)).squareRoot()
        return ProbeMatrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float(rng.nextNormal() * std) })
    }
}
