import Dataset
import Foundation
import RunFormat
import Stats

/// A human word-similarity set: pairs of words with a mean human score (WordSim-353, SimLex-999, MEN, …).
public struct WordPairSet: Sendable, Equatable {
    public struct Pair: Sendable, Equatable {
        public var first: String, second: String, score: Double
        public init(_ first: String, _ second: String, _ score: Double) { self.first = first; self.second = second; self.score = score }
    }
    public var name: String
    public var pairs: [Pair]
    /// sha256 of the file it was read from (nil in memory).
    public var sha256: String?

    public init(name: String, pairs: [Pair], sha256: String? = nil) { self.name = name; self.pairs = pairs; self.sha256 = sha256 }

    /// Parses `word1 word2 score` lines (tabs or spaces); `#` lines and blank lines are skipped.
    public static func parse(_ text: String, name: String, path: String = "word pairs") throws -> WordPairSet {
        var pairs: [Pair] = []
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let f = t.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count == 3, let s = Double(f[2]), s.isFinite else {
                throw ProbeError.data(
                    path: path, message: "line \(n + 1) is not 'word1 word2 score': \(t)",
                    fix: "re-fetch the word-similarity sets with `make data`")
            }
            pairs.append(Pair(String(f[0]), String(f[1]), s))
        }
        return WordPairSet(name: name, pairs: pairs)
    }

    /// Every set listed in `<dir>/manifest.json` (written by `make data`), sha256-checked. Empty when the folder
    /// does not exist.
    public static func loadAll(from dir: URL) throws -> [WordPairSet] {
        let manifestURL = dir.appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: manifestURL.path) else { return [] }
        guard let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any],
            let sets = obj["sets"] as? [String: [String: Any]]
        else {
            throw ProbeError.data(path: manifestURL.path, message: "not a word-similarity manifest", fix: "delete the folder and run `make data`")
        }
        return try sets.keys.sorted().map { name in
            let entry = sets[name]!
            let url = dir.appendingPathComponent(entry["file"] as? String ?? "\(name).txt")
            let data = try Data(contentsOf: url)
            let hash = SHA256.hex([UInt8](data))
            if let want = entry["sha256"] as? String, want != hash {
                throw ProbeError.data(
                    path: url.path, message: "sha256 \(hash) differs from the manifest's \(want)",
                    fix: "delete \(dir.path) and run `make data`")
            }
            var set = try parse(String(decoding: data, as: UTF8.self), name: name, path: url.path)
            set.sha256 = hash
            return set
        }
    }
}

/// How a word becomes a vector, and which pairs count as covered.
///
/// - A word's vector is the mean of the rows of its BPE tokens, the word encoded **with a leading space**
///   (" word"), because that is how a word appears mid-sentence and so which tokens the model saw for it; the
///   word is used with the case of the data set (lowercase except a few proper nouns in WordSim-353).
/// - Byte-level BPE encodes every word, so every pair has vectors: "all pairs" is 100 % coverage.
/// - "In-corpus" pairs are those whose two words both occur in the training text as whole words (maximal runs
///   of ASCII letters, compared lowercase); coverage = in-corpus pairs / all pairs. Rare words outside the corpus
///   are spelled from sub-word pieces the model barely saw, so the in-corpus ρ is the fairer number.
public struct WordEncoder: Sendable {
    public let encode: @Sendable (String) -> [Int32]
    /// Lowercase words of the training text (empty: nothing counts as in-corpus).
    public let corpusWords: Set<String>

    public init(encode: @escaping @Sendable (String) -> [Int32], corpusWords: Set<String>) {
        self.encode = encode; self.corpusWords = corpusWords
    }

    public init(tokenizer: BPETokenizer, corpusWords: Set<String>) {
        self.init(encode: { tokenizer.encode(" " + $0) }, corpusWords: corpusWords)
    }

    /// The lowercase words (maximal runs of ASCII letters) of a text.
    public static func words(of bytes: [UInt8]) -> Set<String> {
        var out = Set<String>()
        var current = [UInt8]()
        func flush() { if !current.isEmpty { out.insert(String(decoding: current, as: UTF8.self)); current.removeAll(keepingCapacity: true) } }
        for b in bytes {
            switch b {
            case 65...90: current.append(b + 32)
            case 97...122: current.append(b)
            default: flush()
            }
        }
        flush()
        return out
    }

    public func isInCorpus(_ word: String) -> Bool { corpusWords.contains(word.lowercased()) }
}

/// A word-pair set tokenized once, evaluated against many tables (every snapshot, input and output).
public struct EncodedWordPairSet: Sendable {
    public struct Pair: Sendable {
        public var first: [Int32], second: [Int32], score: Double, inCorpus: Bool
        public init(first: [Int32], second: [Int32], score: Double, inCorpus: Bool) {
            self.first = first; self.second = second; self.score = score; self.inCorpus = inCorpus
        }
    }
    public let name: String
    public let sha256: String?
    public let pairs: [Pair]

    public init(_ set: WordPairSet, encoder: WordEncoder) {
        name = set.name; sha256 = set.sha256
        var cache: [String: [Int32]] = [:]
        func ids(_ w: String) -> [Int32] {
            if let c = cache[w] { return c }
            let e = encoder.encode(w); cache[w] = e; return e
        }
        pairs = set.pairs.map { p in
            Pair(
                first: ids(p.first), second: ids(p.second), score: p.score,
                inCorpus: encoder.isInCorpus(p.first) && encoder.isInCorpus(p.second))
        }
    }
}

/// Spearman ρ between the model's cosine similarities and the human scores.
public enum WordSimilarity {
    /// One set's result on one table (declared in RunFormat, as part of probes.json).
    public typealias Result = WordSimilarityResult

    /// An approximate 95 % interval for Spearman's ρ from n pairs: Fisher's z = atanh ρ with standard error
    /// √(1.06 / (n − 3)) (Fieller, Hartley & Pearson 1957), back-transformed. Tells whether a ρ of 0.05 on 150
    /// pairs is distinguishable from the random-init baseline (it is not: ±0.16).
    public static func interval(rho: Double?, n: Int) -> [Double]? {
        guard let rho, n >= 5 else { return nil }
        let z = atanh(max(-0.999_999, min(0.999_999, rho))), se = (1.06 / Double(n - 3)).squareRoot()
        return [tanh(z - 1.959_963_984_540_054 * se), tanh(z + 1.959_963_984_540_054 * se)]
    }

    /// The mean of rows `ids` of `table`; nil when there are no ids, an id is outside the table, or the mean is 0.
    public static func meanVector(_ table: ProbeMatrix, _ ids: [Int32]) -> [Double]? {
        guard !ids.isEmpty else { return nil }
        var v = [Double](repeating: 0, count: table.cols)
        for id in ids {
            guard id >= 0, Int(id) < table.rows else { return nil }
            for (k, x) in table.row(Int(id)).enumerated() { v[k] += Double(x) }
        }
        let n = Double(ids.count)
        for k in v.indices { v[k] /= n }
        return v.contains(where: { $0 != 0 }) ? v : nil
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i] }
        return ab / (aa * bb).squareRoot()
    }

    /// Scores `set` against `table`: pairs whose words have no usable vector are skipped (counted as missing).
    public static func evaluate(_ set: EncodedWordPairSet, table: ProbeMatrix) throws -> Result {
        var cos: [Double] = [], human: [Double] = [], inCorpus: [Bool] = []
        for p in set.pairs {
            guard let a = meanVector(table, p.first), let b = meanVector(table, p.second) else { continue }
            cos.append(cosine(a, b)); human.append(p.score); inCorpus.append(p.inCorpus)
        }
        let idx = inCorpus.indices.filter { inCorpus[$0] }
        let total = set.pairs.count
        let rho = try Correlation.spearman(cos, human)
        let rhoIn = try Correlation.spearman(idx.map { cos[$0] }, idx.map { human[$0] })
        return Result(
            rho: rho, pairs: cos.count, rhoInCorpus: rhoIn, pairsInCorpus: idx.count, totalPairs: total,
            coverageInCorpus: total > 0 ? Double(set.pairs.filter(\.inCorpus).count) / Double(total) : 0,
            rhoCI95: interval(rho: rho, n: cos.count), rhoInCorpusCI95: interval(rho: rhoIn, n: idx.count))
    }
}

extension EncodedWordPairSet {
    /// A set of already-tokenized pairs (tests, benchmarks).
    public init(name: String, pairs: [Pair]) {
        self.name = name; self.sha256 = nil; self.pairs = pairs
    }
}
