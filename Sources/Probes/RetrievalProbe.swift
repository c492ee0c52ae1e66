import Foundation
import RunFormat

/// The retrieval probe's fixed material for one tokenizer: passages from each work's validation text and the
/// TF-IDF baseline, built once and reused for every run, variant and snapshot of that tokenizer.
///
/// Passages: 64-token windows (about 200 characters of verse, a short speech) of each work's validation text, at
/// most 32 per work chosen with a fixed seed, so that long plays do not dominate and every work has enough relevant
/// passages (on the Shakespeare corpus at V = 2048 most works have 40–60 windows: 42 works give ~1,300 passages).
/// Every passage is a query; its relevant documents are the other passages of its work.
public struct RetrievalCorpus: Sendable {
    public static let passageLength = 64
    public static let perWork = 32
    public static let passageSeed: UInt64 = 0x5E7
    /// The random baseline's seed: the same for every run and size, so the xavier-normal tables of a tokenizer at
    /// different widths come from one seed (the study's "shared-seed" baseline).
    public static let randomSeed: UInt64 = 0xB45E
    /// Seed of the noise columns of the padded variant.
    public static let paddingSeed: UInt64 = 0x9AD

    public let passages: [Retrieval.Passage]
    public let labels: [Int]
    public let queries: [Int]
    /// Works with at least one passage.
    public let works: Int
    public let length: Int
    public let perWork: Int
    public let seed: UInt64
    /// MAP of the bag-of-tokens baseline (no table).
    public let tfidf: Double?
    /// MAP of a random ranking, on average (`Retrieval.chanceMeanAveragePrecision`).
    public let chance: Double?

    /// - Parameter works: each work's validation text as token ids.
    public init(works: [[Int32]], length: Int = passageLength, perWork: Int = perWork, seed: UInt64 = passageSeed) {
        self.length = length; self.perWork = perWork; self.seed = seed
        passages = Retrieval.passages(works: works, length: length, perWork: perWork, seed: seed)
        labels = passages.map(\.work)
        queries = Array(passages.indices)
        self.works = Set(labels).count
        tfidf = Retrieval.tfidfMeanAveragePrecision(passages, queries: queries)
        chance = Retrieval.chanceMeanAveragePrecision(labels: labels, queries: queries)
    }

    /// MAP of `table` (V × D, the strategy's effective input table) with mean pooling and cosine ranking.
    public func meanAveragePrecision(_ table: ProbeMatrix) -> Double? {
        Retrieval.meanAveragePrecision(
            normalized: Retrieval.pooledVectors(table: table, passages: passages), labels: labels, queries: queries)
    }

    /// Every variant of the study for one run: the trained table, the run's init, a random table of the same shape,
    /// the table cropped to `cropWidth` and padded to `padWidth` columns (nil when that width is not smaller / larger
    /// than the table's), and the TF-IDF baseline.
    public func scores(trained: ProbeMatrix, initial: ProbeMatrix?, cropWidth: Int?, padWidth: Int?) -> ProbeReport.Retrieval {
        let crop = cropWidth.flatMap { $0 < trained.cols && $0 > 0 ? $0 : nil }
        let pad = padWidth.flatMap { $0 > trained.cols ? $0 : nil }
        let random = Retrieval.xavierNormal(rows: trained.rows, cols: trained.cols, seed: Self.randomSeed)
        return ProbeReport.Retrieval(
            passages: passages.count, works: works, passageLength: length, perWork: perWork, seed: seed,
            trained: meanAveragePrecision(trained), initial: initial.flatMap(meanAveragePrecision),
            random: meanAveragePrecision(random), randomSeed: Self.randomSeed,
            cropped: crop.flatMap { meanAveragePrecision(Retrieval.cropped(trained, to: $0)) }, croppedWidth: crop,
            padded: pad.flatMap { meanAveragePrecision(Retrieval.padded(trained, to: $0, seed: Self.paddingSeed)) },
            paddedWidth: pad, tfidf: tfidf, chance: chance)
    }
}

/// Nearest tokens by cosine in a table: what a row's neighbourhood looks like (a qualitative check next to MAP).
public enum NearestTokens {
    /// Frequent words of the corpus (with the leading space they have mid-sentence), probed when they are one token.
    public static let words = [
        " king", " love", " death", " lord", " sweet", " good", " heart", " night", " father", " blood", " heaven",
        " queen",
    ]

    /// The `k` rows with the largest cosine to row `token` (excluding itself and zero rows), nearest first, ties by id.
    public static func nearest(_ table: ProbeMatrix, token: Int, k: Int) -> [(token: Int, cosine: Double)] {
        let norms = table.rowNorms()
        guard token < table.rows, norms[token] > 0 else { return [] }
        let q = table.row(token)
        var all: [(token: Int, cosine: Double)] = []
        all.reserveCapacity(table.rows)
        for i in 0..<table.rows where i != token && norms[i] > 0 {
            var s = 0.0
            for (a, b) in zip(q, table.row(i)) { s += Double(a) * Double(b) }
            all.append((i, s / (norms[token] * norms[i])))
        }
        all.sort { $0.cosine != $1.cosine ? $0.cosine > $1.cosine : $0.token < $1.token }
        return Array(all.prefix(k))
    }

    /// The neighbours of each word of `words` that is a single token (`encode(word).count == 1`), and the words that
    /// are not. `text` gives a token's text.
    public static func neighbours(
        _ table: ProbeMatrix, words: [String] = words, k: Int = 8, encode: (String) -> [Int32], text: (Int) -> String
    ) -> (found: [ProbeReport.Neighbours], skipped: [String]) {
        var found: [ProbeReport.Neighbours] = [], skipped: [String] = []
        for word in words {
            let ids = encode(word)
            guard ids.count == 1, Int(ids[0]) < table.rows else { skipped.append(word); continue }
            let id = Int(ids[0])
            found.append(
                .init(
                    word: word, token: id,
                    nearest: nearest(table, token: id, k: k).map { .init(token: $0.token, text: text($0.token), cosine: $0.cosine) }))
        }
        return (found, skipped)
    }
}
