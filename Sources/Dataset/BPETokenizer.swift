import Foundation
import RunFormat

/// A byte-level BPE tokenizer, GPT-2 style: the 256 bytes are tokens 0…255 (nothing is ever unknown), and merge
/// `i` joins two existing tokens into token `256 + i`. Text is first cut into chunks by `PreTokenizer`; within a
/// chunk, merges are applied by rank (earliest learned first). `decode(encode(x)) == x` for every byte string.
///
/// Training is deterministic (see `BPETrainer`: ties between equal counts go to the smallest (left id, right id)).
/// Saved as readable JSON (`jsonData()`), whose sha256 identifies the tokenizer in run records.
public struct BPETokenizer: Sendable {
    /// Bumped whenever training, pre-tokenization or the JSON format changes in a way that changes results.
    public static let algorithmVersion = 1
    public static let minVocabSize = 256
    public static let maxVocabSize = 32_768
    public static let tieBreakRule = "equal counts: smallest (left id, right id) first"

    public struct Merge: Sendable, Hashable, CustomStringConvertible {
        public var left: Int32
        public var right: Int32
        public init(_ left: Int32, _ right: Int32) { self.left = left; self.right = right }
        public var description: String { "(\(left), \(right))" }
    }

    /// The merges in order; merge `i` creates token `256 + i`.
    public let merges: [Merge]
    /// Each token id's bytes: `tokenBytes[id]`. Embedding strategies use it to see each token's text.
    public let tokenBytes: [[UInt8]]
    /// sha256 of the text the merges were learned from (`Corpus` identity for prepared corpora).
    public let corpusSHA256: String
    /// The size asked for; `vocabSize` is smaller only when the training text ran out of pairs to merge.
    public let requestedVocabSize: Int
    public var vocabSize: Int { tokenBytes.count }
    /// Set when this value was loaded from a cache file rather than trained in this process.
    public internal(set) var loadedFromCache = false

    private let ranks: [UInt64: Int32]

    public init(merges: [Merge], corpusSHA256: String, requestedVocabSize: Int) throws {
        guard (Self.minVocabSize...Self.maxVocabSize).contains(requestedVocabSize) else {
            throw DatasetError.invalidVocabSize(requestedVocabSize)
        }
        var bytes = (0..<256).map { [UInt8($0)] }
        var ranks = [UInt64: Int32]()
        for (i, m) in merges.enumerated() {
            let n = Int32(256 + i)
            guard m.left >= 0, m.right >= 0, m.left < n, m.right < n else {
                throw DatasetError.corruptCache(path: "tokenizer", detail: "merge \(i) \(m) refers to a token not yet defined")
            }
            let k = BPETrainer.key(m.left, m.right)
            guard ranks[k] == nil else {
                throw DatasetError.corruptCache(path: "tokenizer", detail: "merge \(i) \(m) is a duplicate")
            }
            ranks[k] = Int32(i)
            bytes.append(bytes[Int(m.left)] + bytes[Int(m.right)])
        }
        guard bytes.count <= requestedVocabSize else {
            throw DatasetError.corruptCache(path: "tokenizer", detail: "\(bytes.count) tokens exceed the vocabulary size \(requestedVocabSize)")
        }
        self.merges = merges
        self.tokenBytes = bytes
        self.ranks = ranks
        self.corpusSHA256 = corpusSHA256
        self.requestedVocabSize = requestedVocabSize
    }

    // MARK: - Training

    /// Learns merges on `bytes` up to `vocabSize` tokens.
    public static func train(bytes: [UInt8], vocabSize: Int, corpusSHA256: String? = nil) throws -> BPETokenizer {
        guard (minVocabSize...maxVocabSize).contains(vocabSize) else { throw DatasetError.invalidVocabSize(vocabSize) }
        let pairs = BPETrainer.learn(bytes: bytes, vocabSize: vocabSize)
        return try BPETokenizer(
            merges: pairs.map { Merge($0.0, $0.1) },
            corpusSHA256: corpusSHA256 ?? SHA256.hex(bytes), requestedVocabSize: vocabSize)
    }

    /// Learns merges on an in-memory text (tests, other modules' fixtures). Never touches the disk.
    public static func train(text: String, vocabSize: Int) throws -> BPETokenizer {
        try train(bytes: Array(text.utf8), vocabSize: vocabSize)
    }

    // MARK: - Encoding and decoding

    /// Token ids of `bytes`. Each distinct chunk is encoded once per call (a per-call cache).
    public func encode(_ bytes: [UInt8]) -> [Int32] {
        var out = [Int32]()
        out.reserveCapacity(bytes.count / 3 + 16)
        var cache = [ArraySlice<UInt8>: [Int32]]()
        bytes.withUnsafeBufferPointer { buf in
            PreTokenizer.forEachChunk(buf) { r in
                if r.count == 1 { out.append(Int32(buf[r.lowerBound])); return }
                let chunk = bytes[r]
                if let ids = cache[chunk] { out.append(contentsOf: ids); return }
                let ids = encodeChunk(chunk)
                cache[chunk] = ids
                out.append(contentsOf: ids)
            }
        }
        return out
    }

    public func encode(_ text: String) -> [Int32] { encode(Array(text.utf8)) }

    /// One chunk: start from bytes, repeatedly merge the adjacent pair of lowest rank (all its occurrences,
    /// left to right) until no adjacent pair has a rank.
    func encodeChunk(_ chunk: ArraySlice<UInt8>) -> [Int32] {
        var syms = chunk.map { Int32($0) }
        while syms.count > 1 {
            var best = Int32.max
            for i in 0..<(syms.count - 1) {
                if let r = ranks[BPETrainer.key(syms[i], syms[i + 1])], r < best { best = r }
            }
            if best == Int32.max { break }
            let m = merges[Int(best)], z = 256 + best
            var w = 0, i = 0
            while i < syms.count {
                if i + 1 < syms.count && syms[i] == m.left && syms[i + 1] == m.right {
                    syms[w] = z; i += 2
                } else {
                    syms[w] = syms[i]; i += 1
                }
                w += 1
            }
            syms.removeLast(syms.count - w)
        }
        return syms
    }

    /// The bytes of `ids` (ids outside the vocabulary are a programming error).
    public func decode<C: Collection>(_ ids: C) -> [UInt8] where C.Element == Int32 {
        var out = [UInt8]()
        out.reserveCapacity(ids.count * 4)
        for id in ids { out.append(contentsOf: tokenBytes[Int(id)]) }
        return out
    }

    /// The text of `ids`; invalid UTF-8 (possible when `ids` cut a character) shows as U+FFFD.
    public func decodeText<C: Collection>(_ ids: C) -> String where C.Element == Int32 {
        String(decoding: decode(ids), as: UTF8.self)
    }

    /// A token's text for display: printable ASCII as is, other bytes of invalid UTF-8 as `\xNN`.
    public func displayText(of id: Int) -> String { Self.display(tokenBytes[id]) }

    static func display(_ bytes: [UInt8]) -> String {
        if Corpus.firstInvalidUTF8(bytes) == nil { return String(decoding: bytes, as: UTF8.self) }
        return bytes.map { $0 >= 0x20 && $0 < 0x7f ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
    }

    // MARK: - JSON

    private struct File: Decodable {
        struct Entry: Decodable { var id: Int; var hex: String }
        var format: String
        var algorithmVersion: Int
        var corpusSHA256: String
        var requestedVocabSize: Int
        var vocabSize: Int
        var merges: [[Int32]]
        var vocab: [Entry]
    }

    public static let fileFormat = "ablate-byte-bpe"

    /// The tokenizer as readable JSON: one merge and one vocabulary entry per line (`id`, `hex` bytes, display
    /// `text`). Byte-for-byte deterministic, so its sha256 identifies the tokenizer.
    public func jsonData() -> Data {
        var s = "{\n"
        s += "  \"format\": \"\(Self.fileFormat)\",\n"
        s += "  \"algorithmVersion\": \(Self.algorithmVersion),\n"
        s += "  \"pretokenizer\": \(jsonString(PreTokenizer.description)),\n"
        s += "  \"tieBreak\": \(jsonString(Self.tieBreakRule)),\n"
        s += "  \"corpusSHA256\": \(jsonString(corpusSHA256)),\n"
        s += "  \"requestedVocabSize\": \(requestedVocabSize),\n"
        s += "  \"vocabSize\": \(vocabSize),\n"
        s += "  \"merges\": ["
        s += merges.map { "\n    [\($0.left), \($0.right)]" }.joined(separator: ",")
        s += merges.isEmpty ? "],\n" : "\n  ],\n"
        s += "  \"vocab\": ["
        s += tokenBytes.enumerated().map { id, b in
            let hex = Hex.lowercase(b)
            return "\n    {\"id\": \(id), \"hex\": \"\(hex)\", \"text\": \(jsonString(Self.display(b)))}"
        }.joined(separator: ",")
        s += "\n  ]\n}\n"
        return Data(s.utf8)
    }

    /// sha256 of `jsonData()`: record it with every run.
    public var sha256: String { SHA256.hex(jsonData()) }

    public func save(to url: URL) throws { try AtomicWrite.write(jsonData(), to: url) }

    public static func load(from url: URL) throws -> BPETokenizer {
        guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.pathNotFound(url.path) }
        let f: File
        do {
            f = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        } catch {
            throw DatasetError.corruptCache(path: url.path, detail: "not a tokenizer JSON: \(error)")
        }
        guard f.format == fileFormat, f.algorithmVersion == algorithmVersion else {
            throw DatasetError.corruptCache(
                path: url.path, detail: "format \(f.format) v\(f.algorithmVersion), expected \(fileFormat) v\(algorithmVersion)")
        }
        guard f.merges.allSatisfy({ $0.count == 2 }) else {
            throw DatasetError.corruptCache(path: url.path, detail: "a merge is not a pair of ids")
        }
        var t: BPETokenizer
        do {
            t = try BPETokenizer(
                merges: f.merges.map { Merge($0[0], $0[1]) }, corpusSHA256: f.corpusSHA256,
                requestedVocabSize: f.requestedVocabSize)
        } catch let e as DatasetError {
            if case .corruptCache(_, let d) = e { throw DatasetError.corruptCache(path: url.path, detail: d) }
            throw e
        }
        // The vocabulary is redundant with the merges: check that they agree.
        guard f.vocabSize == t.vocabSize, f.vocab.count == t.vocabSize,
            f.vocab.enumerated().allSatisfy({ i, e in
                e.id == i && e.hex == Hex.lowercase(t.tokenBytes[i])
            })
        else {
            throw DatasetError.corruptCache(path: url.path, detail: "vocab entries disagree with the merges")
        }
        t.loadedFromCache = true
        return t
    }
}

/// A JSON string literal for `s` (quotes, backslashes and control characters escaped).
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20 || u.value == 0x7f: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
