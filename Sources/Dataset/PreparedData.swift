import Foundation
import RunFormat

/// What `streams.json` (beside `train.bin`/`val.bin` in a tokenizer's cache folder) records.
public struct StreamsRecord: Codable, Sendable, Equatable {
    public var format: String
    public var bytesPerToken: Int
    public var tokenizerSHA256: String
    public var corpusSHA256: String
    public var trainTokens: Int
    public var valTokens: Int
    public var trainBytes: Int
    public var valBytes: Int
    public static let formatDescription = "flat little-endian token ids, no header; uint16 when vocab <= 65536, else uint32"
}

/// The tokenizer cache: `<home>/cache/tokenizers/<corpus-sha256-first-16>-v<V>/tokenizer.json`, trained on the
/// corpus's train split once and reloaded afterwards.
public enum TokenizerCache {
    /// Loads the cached tokenizer for (corpus, V), or trains it on `trainBytes()` and saves it.
    /// The result's `loadedFromCache` says which happened.
    public static func loadOrTrain(
        corpusSHA256: String, vocabSize: Int, home: AblateHome,
        trainBytes: () throws -> [UInt8]
    ) throws -> BPETokenizer {
        guard (BPETokenizer.minVocabSize...BPETokenizer.maxVocabSize).contains(vocabSize) else {
            throw DatasetError.invalidVocabSize(vocabSize)
        }
        let url = home.tokenizerURL(corpusSHA256: corpusSHA256, vocabSize: vocabSize).appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: url.path),
            let t = try? BPETokenizer.load(from: url),
            t.corpusSHA256 == corpusSHA256, t.requestedVocabSize == vocabSize
        {
            return t
        }
        let t = try BPETokenizer.train(bytes: try trainBytes(), vocabSize: vocabSize, corpusSHA256: corpusSHA256)
        try t.save(to: url)
        return t
    }

    /// The tokenizer for a prepared corpus (trained and cached on first use).
    public static func loadOrTrain(corpus name: String, vocabSize: Int, home: AblateHome) throws -> BPETokenizer {
        let m = try Corpus.manifest(name: name, home: home)
        return try loadOrTrain(corpusSHA256: m.corpusSHA256, vocabSize: vocabSize, home: home) {
            try Corpus.splitBytes("train", name: name, home: home)
        }
    }
}

/// A corpus ready for training: its tokenizer and the encoded train/validation streams (from the caches when
/// they are there). The Trainer calls `PreparedData.load`; tests call `PreparedData.inMemory`.
public struct PreparedData: Sendable {
    public let corpusName: String
    /// Identity of the corpus text (see `CorpusManifest.corpusSHA256`): record it with every run.
    public let corpusSHA256: String
    public let tokenizer: BPETokenizer
    /// sha256 of the tokenizer JSON: record it with every run.
    public let tokenizerSHA256: String
    public let train: [Int32]
    public let val: [Int32]
    public let trainBytes: Int
    public let valBytes: Int
    /// The cache folder (nil in memory).
    public let cacheURL: URL?
    public let tokenizerWasCached: Bool
    public let streamsWereCached: Bool

    public var vocabSize: Int { tokenizer.vocabSize }
    /// Each token id's bytes (for embedding strategies).
    public var tokenBytes: [[UInt8]] { tokenizer.tokenBytes }

    /// Loads (or builds and caches) the tokenizer and token streams of a prepared corpus under `home`.
    public static func load(corpus name: String, vocabSize: Int, home: AblateHome) throws -> PreparedData {
        let m = try Corpus.manifest(name: name, home: home)
        var trainText: [UInt8]?
        func trainBytes() throws -> [UInt8] {
            if let t = trainText { return t }
            let t = try Corpus.splitBytes("train", name: name, home: home)
            trainText = t
            return t
        }
        let tok = try TokenizerCache.loadOrTrain(corpusSHA256: m.corpusSHA256, vocabSize: vocabSize, home: home, trainBytes: trainBytes)
        let tokSHA = tok.sha256
        let dir = home.tokenizerURL(corpusSHA256: m.corpusSHA256, vocabSize: vocabSize)
        let recordURL = dir.appendingPathComponent("streams.json")
        let trainURL = dir.appendingPathComponent("train.bin"), valURL = dir.appendingPathComponent("val.bin")
        if let rec = try? JSONDecoder().decode(StreamsRecord.self, from: Data(contentsOf: recordURL)),
            rec.tokenizerSHA256 == tokSHA, rec.corpusSHA256 == m.corpusSHA256,
            let tr = try? TokenStream.read(from: trainURL, vocabSize: tok.vocabSize), tr.count == rec.trainTokens,
            let va = try? TokenStream.read(from: valURL, vocabSize: tok.vocabSize), va.count == rec.valTokens
        {
            return PreparedData(
                corpusName: name, corpusSHA256: m.corpusSHA256, tokenizer: tok, tokenizerSHA256: tokSHA,
                train: tr, val: va, trainBytes: m.train.bytes, valBytes: m.val.bytes, cacheURL: dir,
                tokenizerWasCached: tok.loadedFromCache, streamsWereCached: true)
        }
        let tr = tok.encode(try trainBytes())
        let va = tok.encode(try Corpus.splitBytes("val", name: name, home: home))
        try TokenStream.write(tr, vocabSize: tok.vocabSize, to: trainURL)
        try TokenStream.write(va, vocabSize: tok.vocabSize, to: valURL)
        let rec = StreamsRecord(
            format: StreamsRecord.formatDescription, bytesPerToken: TokenStream.width(vocabSize: tok.vocabSize),
            tokenizerSHA256: tokSHA, corpusSHA256: m.corpusSHA256, trainTokens: tr.count,
            valTokens: va.count, trainBytes: m.train.bytes, valBytes: m.val.bytes)
        try RunJSON.write(rec, to: recordURL)  // last: its presence means the streams are complete
        return PreparedData(
            corpusName: name, corpusSHA256: m.corpusSHA256, tokenizer: tok, tokenizerSHA256: tokSHA,
            train: tr, val: va, trainBytes: m.train.bytes, valBytes: m.val.bytes, cacheURL: dir,
            tokenizerWasCached: tok.loadedFromCache, streamsWereCached: false)
    }

    /// Prepares a user's `.txt` file or folder as corpus `name` (default: the file or folder name without
    /// extension) under `home`, then loads it as `load(corpus:vocabSize:home:)` does.
    public static func load(corpusAt path: URL, name: String? = nil, vocabSize: Int, home: AblateHome) throws -> PreparedData {
        let n = name ?? path.deletingPathExtension().lastPathComponent
        try Corpus.prepare(corpusAt: path, name: n, home: home)
        return try load(corpus: n, vocabSize: vocabSize, home: home)
    }

    /// Splits `text` as one work with the corpus split rule, trains a tokenizer on the train part, and encodes
    /// both parts — all in memory, never touching `ABLATE_HOME`. For tests and fixtures of other modules.
    public static func inMemory(text: String, vocabSize: Int, name: String = "in-memory") throws -> PreparedData {
        let (trainText, valText, m) = try Corpus.build(
            works: [CorpusWork(name: name, bytes: Array(text.utf8))], name: name,
            source: .init(kind: "memory", path: name, package: nil, version: nil, sha256: nil), licence: "test text")
        let tok = try BPETokenizer.train(bytes: trainText, vocabSize: vocabSize, corpusSHA256: m.corpusSHA256)
        return PreparedData(
            corpusName: name, corpusSHA256: m.corpusSHA256, tokenizer: tok, tokenizerSHA256: tok.sha256,
            train: tok.encode(trainText), val: tok.encode(valText), trainBytes: trainText.count,
            valBytes: valText.count, cacheURL: nil, tokenizerWasCached: false, streamsWereCached: false)
    }

    /// The training split's tokens and UTF-8 bytes for (corpus, V) from the tokenizer cache's streams.json, without
    /// training or encoding anything; nil when that tokenizer's streams are not cached yet.
    public static func cachedTrainSplit(corpus name: String, vocabSize: Int, home: AblateHome) -> (tokens: Int, bytes: Int)? {
        guard let m = try? Corpus.manifest(name: name, home: home) else { return nil }
        let url = home.tokenizerURL(corpusSHA256: m.corpusSHA256, vocabSize: vocabSize).appendingPathComponent("streams.json")
        guard let rec = try? JSONDecoder().decode(StreamsRecord.self, from: Data(contentsOf: url)), rec.corpusSHA256 == m.corpusSHA256 else {
            return nil
        }
        return (rec.trainTokens, rec.trainBytes)
    }

    /// Random training windows over the train stream.
    public func trainBatches(context: Int, batchSize: Int, seed: UInt64) throws -> BatchLoader {
        try BatchLoader(tokens: train, context: context, batchSize: batchSize, seed: seed, name: "\(corpusName) (train split)")
    }

    /// Batches over the validation stream (use `validationBatches(count:)` on it).
    public func valBatches(context: Int, batchSize: Int, seed: UInt64 = 0) throws -> BatchLoader {
        try BatchLoader(tokens: val, context: context, batchSize: batchSize, seed: seed, name: "\(corpusName) (validation split)")
    }
}
