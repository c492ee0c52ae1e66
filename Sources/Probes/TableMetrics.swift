import Dataset
import RunFormat

/// What the probes need to know about the corpus a table was trained on.
public struct ProbeCorpus: Sendable {
    /// Train-stream count of each token id.
    public let tokenCounts: [Int]
    /// Token ids with count ≥ 1, ascending.
    public let seen: [Int]
    public let wordSets: [EncodedWordPairSet]
    /// Validation passages for the retrieval probe (nil: retrieval is not measured).
    public var retrieval: RetrievalCorpus?
    /// The run's tokenizer, for the nearest-neighbour words (nil: neighbours are not listed).
    public var tokenizer: BPETokenizer?

    public init(tokenCounts: [Int], wordSets: [EncodedWordPairSet], retrieval: RetrievalCorpus? = nil, tokenizer: BPETokenizer? = nil) {
        self.tokenCounts = tokenCounts
        self.seen = tokenCounts.indices.filter { tokenCounts[$0] > 0 }
        self.wordSets = wordSets
        self.retrieval = retrieval
        self.tokenizer = tokenizer
    }

    /// Counts the train stream's tokens (ids outside 0..<vocabSize are ignored).
    public static func counts(of tokens: [Int32], vocabSize: Int) -> [Int] {
        var c = [Int](repeating: 0, count: vocabSize)
        for t in tokens where t >= 0 && Int(t) < vocabSize { c[Int(t)] += 1 }
        return c
    }
}

/// The probe settings (recorded in probes.json so numbers can be reproduced).
public struct ProbeSettings: Codable, Sendable, Equatable {
    public var isotropyPairs = 10_000
    public var isotropySeed: UInt64 = 0x150
    enum CodingKeys: String, CodingKey { case isotropyPairs = "isotropy_pairs", isotropySeed = "isotropy_seed" }
    public init() {}
}

public enum TableProbe {
    /// All metrics of `table` (rows must match the corpus's vocabulary).
    public static func measure(_ table: ProbeMatrix, corpus: ProbeCorpus, settings: ProbeSettings = ProbeSettings()) throws -> TableMetrics {
        precondition(table.rows == corpus.tokenCounts.count, "TableProbe: table has \(table.rows) rows, vocabulary \(corpus.tokenCounts.count)")
        let er = try Geometry.effectiveRank(table)
        let seenAll = corpus.seen.count == table.rows
        let erSeen = seenAll ? er : try Geometry.effectiveRank(table.selecting(rows: corpus.seen))
        let norms = table.rowNorms()
        var ws: [String: WordSimilarity.Result] = [:]
        for set in corpus.wordSets { ws[set.name] = try WordSimilarity.evaluate(set, table: table) }
        return TableMetrics(
            rows: table.rows, rowsSeen: corpus.seen.count, effectiveRank: er, effectiveRankSeen: erSeen,
            effectiveRankRatio: er.map { $0 / Double(table.cols) },
            isotropy: Geometry.isotropy(table, pairs: settings.isotropyPairs, seed: settings.isotropySeed),
            isotropySeen: Geometry.isotropy(table, among: corpus.seen, pairs: settings.isotropyPairs, seed: settings.isotropySeed),
            meanRowNorm: norms.isEmpty ? 0 : norms.reduce(0, +) / Double(norms.count),
            normFrequencySpearman: try Geometry.normFrequencySpearman(table, counts: corpus.tokenCounts, among: corpus.seen),
            wordSimilarity: ws)
    }
}
