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
    public static func meanAveragePrecision(normalized v: ProbeMatrix, labels: [Int], queries: [Int]) -> Double? {
        precondition(labels.count == v.rows, "Retrieval: one label per row")
        // Each score is its own Double dot product in a fixed order, not an sgemm over all pairs: an optimised sgemm
        // may round a pair by where it falls in its blocking, and two identical passages must tie exactly.
        let d = v.cols
        return v.values.withUnsafeBufferPointer { x in
            meanAveragePrecision(labels: labels, queries: queries) { qi, doc in
                let a = queries[qi] * d, b = doc * d
                var s = 0.0
                for j in 0..<d { s += Double(x[a + j]) * Double(x[b + j]) }
                return s
            }
        }
    }

    /// MAP for any score function `score(queryIndex, document)` (queryIndex indexes `queries`).
    public static func meanAveragePrecision(labels: [Int], queries: [Int], score: (Int, Int) -> Double) -> Double? {
        var sum = 0.0, counted = 0
        var ranked: [(score: Double, relevant: Bool)] = []
        ranked.reserveCapacity(labels.count)
        for (qi, query) in queries.enumerated() {
            ranked.removeAll(keepingCapacity: true)
            for doc in labels.indices where doc != query {
                ranked.append((score(qi, doc), labels[doc] == labels[query]))
            }
            guard let ap = averagePrecision(&ranked) else { continue }
            sum += ap; counted += 1
        }
        return counted == 0 ? nil : sum / Double(counted)
    }

    /// scikit-learn's average precision: sort by score (descending), and at each distinct score add
    /// (recall gained) × (precision at that threshold). nil without a relevant document.
    static func averagePrecision(_ ranked: inout [(score: Double, relevant: Bool)]) -> Double? {
        let relevant = ranked.reduce(0) { $0 + ($1.relevant ? 1 : 0) }
        guard relevant > 0 else { return nil }
        ranked.sort { $0.score > $1.score }
        var ap = 0.0, seen = 0, hits = 0, i = 0
        while i < ranked.count {
            var groupHits = 0, j = i
            while j < ranked.count && ranked[j].score == ranked[i].score {
                if ranked[j].relevant { groupHits += 1 }
                j += 1
            }
            seen += j - i; hits += groupHits
            if groupHits > 0 { ap += Double(groupHits) / Double(relevant) * Double(hits) / Double(seen) }
            i = j
        }
        return ap
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

    /// MAP of the TF-IDF baseline (cosine of the L2-normalised sparse rows).
    public static func tfidfMeanAveragePrecision(_ passages: [Passage], queries: [Int]) -> Double? {
        let rows = tfidf(passages)
        return meanAveragePrecision(labels: passages.map(\.work), queries: queries) { qi, doc in
            let (a, b) = (rows[queries[qi]], rows[doc])
            let (small, large) = a.count <= b.count ? (a, b) : (b, a)
            var s = 0.0
            for (t, w) in small { if let x = large[t] { s += w * x } }
            return s
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
