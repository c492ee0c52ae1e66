import Dataset
import TestSupport
import XCTest

final class PreTokenizerTests: XCTestCase {
    func testChunksFollowTheDocumentedRules() {
        XCTAssertEqual(PreTokenizer.chunks("Hello world"), ["Hello", " world"])
        XCTAssertEqual(PreTokenizer.chunks("To be, or not"), ["To", " be", ",", " or", " not"])
        XCTAssertEqual(PreTokenizer.chunks("o'er 1599 --end"), ["o", "'", "er", " 1599", " --", "end"])
        XCTAssertEqual(PreTokenizer.chunks("a   b"), ["a", "  ", " b"])  // last space goes to the word
        XCTAssertEqual(PreTokenizer.chunks("line\n\n  Next"), ["line", "\n\n ", " Next"])
        XCTAssertEqual(PreTokenizer.chunks("end.\n"), ["end", ".", "\n"])
        XCTAssertEqual(PreTokenizer.chunks("trail  "), ["trail", "  "])  // whitespace at the end stays whole
        XCTAssertEqual(PreTokenizer.chunks("café naïve"), ["café", " naïve"])  // UTF-8 stays inside words
        XCTAssertEqual(PreTokenizer.chunks("x\t y"), ["x", "\t", " y"])
        XCTAssertEqual(PreTokenizer.chunks(""), [])
    }

    func testChunksPartitionAnyInput() {
        var rng = SplitMix64(9)
        for _ in 0..<200 {
            let bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let chunks = PreTokenizer.chunks(bytes)
            XCTAssertEqual(chunks.flatMap { $0 }, bytes)
            XCTAssertFalse(chunks.contains { $0.isEmpty })
        }
    }
}

final class BPETokenizerTests: XCTestCase {
    /// The classic example, worked by hand (ids: a=97, b=98, c=99, d=100):
    /// aaabdaaabac: aa×4 → 256; then (a,b) and (256,a) tie at 2 → smaller (97,98) → 257; (256,257) → 258 "aaab";
    /// then all remaining pairs have count 1: (97,99) "ac" → 259, (100,258) "daaab" → 260, (258,260) → 261,
    /// (261,259) → 262; then the chunk is one token and training stops short of the requested size.
    func testToyCorpusMergesByHand() throws {
        let t = try BPETokenizer.train(text: "aaabdaaabac", vocabSize: 300)
        XCTAssertEqual(
            t.merges,
            [
                .init(97, 97), .init(97, 98), .init(256, 257), .init(97, 99),
                .init(100, 258), .init(258, 260), .init(261, 259),
            ])
        XCTAssertEqual(t.vocabSize, 263)
        XCTAssertEqual(t.requestedVocabSize, 300)
        XCTAssertEqual(t.tokenBytes[258], Array("aaab".utf8))
        XCTAssertEqual(t.encode("aaabdaaabac"), [262])
        XCTAssertEqual(t.encode("aaab aaab"), [258, 32, 258])  // " aaab" is not a learned token: ' ' + 258
    }

    func testTieBreakSmallestPairFirst() throws {
        // Chunks "zz" and " yy", once each: (122,122), (32,121), (121,121) all count 1 → (32,121) first,
        // then (122,122) beats (256,121).
        let t = try BPETokenizer.train(text: "zz yy", vocabSize: 259)
        XCTAssertEqual(t.merges, [.init(32, 121), .init(122, 122), .init(256, 121)])
        // Counts beat ids: chunks "zz", " zz", " yy" — (122,122) twice outranks (32,121) once.
        let u = try BPETokenizer.train(text: "zz zz yy", vocabSize: 257)
        XCTAssertEqual(u.merges, [.init(122, 122)])
    }

    func testDeterministicAndIndependentOfChunkOrder() throws {
        let text = sampleText(lines: 300, seed: 5)
        let a = try BPETokenizer.train(text: text, vocabSize: 400)
        let b = try BPETokenizer.train(text: text, vocabSize: 400)
        XCTAssertEqual(a.merges, b.merges)
        XCTAssertEqual(a.jsonData(), b.jsonData())
        XCTAssertEqual(a.sha256, b.sha256)
        // The same lines in reverse order have the same chunk counts, hence the same merges.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let reversed = lines.dropLast().reversed().joined(separator: "\n") + "\n"
        XCTAssertEqual(try BPETokenizer.train(text: reversed, vocabSize: 400).merges, a.merges)
        // A smaller vocabulary is a prefix of a larger one.
        XCTAssertEqual(Array(a.merges.prefix(50)), try BPETokenizer.train(text: text, vocabSize: 306).merges)
    }

    /// The incremental trainer agrees with the naive algorithm (recount all pairs after every merge).
    func testIncrementalTrainingMatchesNaiveReference() throws {
        let text = Array(sampleText(lines: 80, seed: 11).utf8) + Array("  spaces\t\ttabs 12 345 €€ naïve!!".utf8)
        let t = try BPETokenizer.train(bytes: text, vocabSize: 340)
        var words = [[Int32]: Int]()
        for c in PreTokenizer.chunks(text) { words[c.map { Int32($0) }, default: 0] += 1 }
        var expected = [BPETokenizer.Merge]()
        var list = words.map { ($0.key, $0.value) }
        while expected.count < 340 - 256 {
            var counts = [BPETokenizer.Merge: Int]()
            for (w, n) in list where w.count > 1 { for i in 0..<(w.count - 1) { counts[.init(w[i], w[i + 1]), default: 0] += n } }
            guard
                let best = counts.min(by: { x, y in
                    x.value != y.value ? x.value > y.value : (x.key.left, x.key.right) < (y.key.left, y.key.right)
                })
            else { break }
            let z = Int32(256 + expected.count)
            expected.append(best.key)
            list = list.map { w, n in
                var o = [Int32](), i = 0
                while i < w.count {
                    if i + 1 < w.count && w[i] == best.key.left && w[i + 1] == best.key.right { o.append(z); i += 2 } else { o.append(w[i]); i += 1 }
                }
                return (o, n)
            }
        }
        XCTAssertEqual(t.merges, expected)
    }

    /// Encoding by rank equals applying the merges one after another over each chunk.
    func testEncodeMatchesSequentialMerges() throws {
        let text = sampleText(lines: 200, seed: 3)
        let t = try BPETokenizer.train(text: text, vocabSize: 420)
        let probe = Array((sampleText(lines: 30, seed: 99) + " unseen wordz 12345 ✓").utf8)
        var expected = [Int32]()
        for c in PreTokenizer.chunks(probe) {
            var w = c.map { Int32($0) }
            for (r, m) in t.merges.enumerated() {
                var o = [Int32](), i = 0
                while i < w.count {
                    if i + 1 < w.count && w[i] == m.left && w[i + 1] == m.right { o.append(Int32(256 + r)); i += 2 } else { o.append(w[i]); i += 1 }
                }
                w = o
            }
            expected += w
        }
        XCTAssertEqual(t.encode(probe), expected)
    }

    func testRoundTripOnGeneratedAndAdversarialInputs() throws {
        let trained = try BPETokenizer.train(text: sampleText(lines: 300, seed: 7) + "   \n\n\t\t 0000 1111 ééé", vocabSize: 512)
        let bytesOnly = try BPETokenizer.train(text: "whatever", vocabSize: 256)
        XCTAssertEqual(bytesOnly.vocabSize, 256)
        var cases: [[UInt8]] = [
            [], Array(0...255), Array((0...255).reversed()),
            Array(String(repeating: " ", count: 1000).utf8),
            Array(String(repeating: "\n", count: 50).utf8),
            Array("0123456789 3.14159 1,000,000 2024-01-01".utf8),
            Array("Ünïcödé — 日本語のテキスト 🎭🗡️ naïve café\u{0}\u{7f}".utf8),
            Array("the the the  the\t\tthe\r\nthe".utf8),
            [0xff, 0xfe, 0x80, 0xc3],  // invalid UTF-8 still round-trips byte for byte
        ]
        var rng = SplitMix64(42)
        for _ in 0..<100 {
            let n = Int(rng.next() % 200)
            cases.append(
                (0..<n).map { _ in
                    rng.next() % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : Array(" etaoin\n,".utf8)[Int(rng.next() % 9)]
                })
        }
        for t in [trained, bytesOnly] {
            for c in cases {
                let ids = t.encode(c)
                XCTAssertEqual(t.decode(ids), c)
                XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < t.vocabSize })
            }
        }
        let s = "To be, or not to be: that is the question.\n"
        XCTAssertEqual(trained.decodeText(trained.encode(s)), s)
        XCTAssertLessThan(trained.encode(s).count, s.utf8.count)
        XCTAssertEqual(bytesOnly.encode(s).count, s.utf8.count)
    }

    func testTokenBytesAndVocabSizeLimits() throws {
        let t = try BPETokenizer.train(text: sampleText(lines: 100), vocabSize: 300)
        XCTAssertEqual(t.tokenBytes.count, 300)
        for (i, m) in t.merges.enumerated() {
            XCTAssertEqual(t.tokenBytes[256 + i], t.tokenBytes[Int(m.left)] + t.tokenBytes[Int(m.right)])
        }
        XCTAssertEqual(t.tokenBytes[65], [65])
        XCTAssertThrowsDatasetError(try BPETokenizer.train(text: "x", vocabSize: 255)) { $0 == .invalidVocabSize(255) }
        XCTAssertThrowsDatasetError(try BPETokenizer.train(text: "x", vocabSize: 32_769)) { $0 == .invalidVocabSize(32_769) }
    }

    func testJSONSaveLoadAndCorruption() throws {
        let tmp = try makeTempDir(self)
        let t = try BPETokenizer.train(text: sampleText(lines: 100) + "\u{1}\"\\ é", vocabSize: 320)
        let url = tmp.appendingPathComponent("tok/tokenizer.json")
        try t.save(to: url)
        let u = try BPETokenizer.load(from: url)
        XCTAssertTrue(u.loadedFromCache)
        XCTAssertEqual(u.merges, t.merges)
        XCTAssertEqual(u.tokenBytes, t.tokenBytes)
        XCTAssertEqual(u.corpusSHA256, t.corpusSHA256)
        XCTAssertEqual(u.sha256, t.sha256)
        XCTAssertEqual(t.sha256, SHA256.hex(try Data(contentsOf: url)))
        // Readable: it is JSON with the documented keys.
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        XCTAssertEqual(obj["vocabSize"] as? Int, 320)
        XCTAssertEqual(obj["algorithmVersion"] as? Int, BPETokenizer.algorithmVersion)
        XCTAssertEqual((obj["vocab"] as? [Any])?.count, 320)
        // A tampered vocabulary is caught.
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: "{\"id\": 65, \"hex\": \"41\"", with: "{\"id\": 65, \"hex\": \"42\"")
        try text.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsDatasetError(try BPETokenizer.load(from: url)) {
            if case .corruptCache(let p, _) = $0 { return p == url.path }
            return false
        }
        try "{".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsDatasetError(try BPETokenizer.load(from: url)) {
            if case .corruptCache = $0 { return true }
            return false
        }
    }
}
