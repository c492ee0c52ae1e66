import Dataset
import Kernels
import XCTest

final class PreparedDataTests: XCTestCase {
    private func preparedHome() throws -> AblateHome {
        let tmp = try makeTempDir(self)
        let src = tmp.appendingPathComponent("src")
        try write(sampleText(lines: 300, seed: 1), to: src.appendingPathComponent("a.txt"))
        try write(sampleText(lines: 200, seed: 2), to: src.appendingPathComponent("b.txt"))
        let home = AblateHome(tmp.appendingPathComponent("home"))
        try Corpus.prepare(corpusAt: src, name: "toy", home: home)
        return home
    }

    func testTokenizerCacheIsReusedNotRetrained() throws {
        let home = try preparedHome()
        let first = try TokenizerCache.loadOrTrain(corpus: "toy", vocabSize: 300, home: home)
        XCTAssertFalse(first.loadedFromCache)
        let m = try Corpus.manifest(name: "toy", home: home)
        let url = home.tokenizerURL(corpusSHA256: m.corpusSHA256, vocabSize: 300).appendingPathComponent("tokenizer.json")
        XCTAssertTrue(url.path.contains("cache/tokenizers/\(m.corpusSHA256.prefix(16))-v300/"))
        let mtime = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date
        var trained = false
        let second = try TokenizerCache.loadOrTrain(corpusSHA256: m.corpusSHA256, vocabSize: 300, home: home) {
            trained = true; return []
        }
        XCTAssertFalse(trained, "the cached tokenizer must be reloaded, not retrained")
        XCTAssertTrue(second.loadedFromCache)
        XCTAssertEqual(second.merges, first.merges)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date, mtime)
        // It was trained on the train split only.
        XCTAssertEqual(first.merges, try BPETokenizer.train(bytes: Corpus.splitBytes("train", name: "toy", home: home), vocabSize: 300).merges)
        // A different size is a different cache entry.
        XCTAssertFalse(try TokenizerCache.loadOrTrain(corpus: "toy", vocabSize: 290, home: home).loadedFromCache)
        // A corrupt cache file is rebuilt.
        try "garbage".write(to: url, atomically: true, encoding: .utf8)
        let rebuilt = try TokenizerCache.loadOrTrain(corpus: "toy", vocabSize: 300, home: home)
        XCTAssertFalse(rebuilt.loadedFromCache)
        XCTAssertEqual(rebuilt.merges, first.merges)
    }

    func testPreparedDataLoadsAndCachesStreams() throws {
        let home = try preparedHome()
        let a = try PreparedData.load(corpus: "toy", vocabSize: 320, home: home)
        XCTAssertFalse(a.tokenizerWasCached); XCTAssertFalse(a.streamsWereCached)
        let b = try PreparedData.load(corpus: "toy", vocabSize: 320, home: home)
        XCTAssertTrue(b.tokenizerWasCached); XCTAssertTrue(b.streamsWereCached)
        XCTAssertEqual(a.train, b.train); XCTAssertEqual(a.val, b.val)
        XCTAssertEqual(a.tokenizerSHA256, b.tokenizerSHA256)
        let m = try Corpus.manifest(name: "toy", home: home)
        XCTAssertEqual(a.corpusSHA256, m.corpusSHA256)
        XCTAssertEqual(a.tokenizer.decode(a.train), try Corpus.splitBytes("train", name: "toy", home: home))
        XCTAssertEqual(a.tokenizer.decode(a.val), try Corpus.splitBytes("val", name: "toy", home: home))
        let bin = a.cacheURL!.appendingPathComponent("train.bin")
        XCTAssertEqual(try Data(contentsOf: bin).count, 2 * a.train.count)  // uint16 per token
        XCTAssertEqual(try TokenStream.read(from: bin, vocabSize: 320), a.train)
        XCTAssertEqual(a.tokenBytes.count, 320)
    }

    func testPreparedDataFromPathAndInMemory() throws {
        let tmp = try makeTempDir(self)
        let file = tmp.appendingPathComponent("play.txt")
        let text = sampleText(lines: 200, seed: 8)
        try write(text, to: file)
        let home = AblateHome(tmp.appendingPathComponent("home"))
        let d = try PreparedData.load(corpusAt: file, vocabSize: 300, home: home)
        XCTAssertEqual(d.corpusName, "play")
        let mem = try PreparedData.inMemory(text: text, vocabSize: 300, name: "play.txt")
        XCTAssertNil(mem.cacheURL)
        XCTAssertEqual(mem.corpusSHA256, d.corpusSHA256)
        XCTAssertEqual(mem.tokenizer.merges, d.tokenizer.merges)
        XCTAssertEqual(mem.train, d.train)
        XCTAssertEqual(mem.val, d.val)
        XCTAssertEqual(mem.tokenizerSHA256, d.tokenizerSHA256)
    }

    func testTokenStreamFormat() throws {
        let tokens: [Int32] = [0, 1, 255, 256, 4095, 32_767]
        let data = TokenStream.encode(tokens, vocabSize: 32_768)
        XCTAssertEqual([UInt8](data.prefix(8)), [0, 0, 1, 0, 255, 0, 0, 1])  // little-endian uint16
        XCTAssertEqual(try TokenStream.decode(data, vocabSize: 32_768), tokens)
        XCTAssertEqual(TokenStream.width(vocabSize: 65_536), 2)
        XCTAssertEqual(TokenStream.width(vocabSize: 65_537), 4)
        XCTAssertEqual(try TokenStream.decode(TokenStream.encode([70_000, 3], vocabSize: 100_000), vocabSize: 100_000), [70_000, 3])
        XCTAssertThrowsDatasetError(try TokenStream.decode(Data([1, 2, 3]), vocabSize: 300)) {
            if case .corruptCache = $0 { return true }
            return false
        }
        XCTAssertThrowsDatasetError(try TokenStream.decode(TokenStream.encode([400], vocabSize: 1000), vocabSize: 300)) {
            if case .corruptCache = $0 { return true }
            return false
        }
    }

    func testLoadingAnUnpreparedCorpusSaysWhatToDo() throws {
        let home = AblateHome(try makeTempDir(self))
        XCTAssertThrowsDatasetError(try PreparedData.load(corpus: "shakespeare", vocabSize: 4096, home: home)) {
            $0.description.contains("make data") && $0.description.contains("shakespeare")
        }
    }
}

final class BatchLoaderTests: XCTestCase {
    private let stream: [Int32] = (0..<1000).map { Int32($0) }

    func testSeedAndStepFixTheBatchWhateverCameBefore() throws {
        let a = try BatchLoader(tokens: stream, context: 16, batchSize: 4, seed: 1234)
        let b = try BatchLoader(tokens: stream, context: 16, batchSize: 4, seed: 1234)
        // b draws steps in another order and more of them before step 7.
        let inOrder = (0..<10).map { a.batch(step: $0) }
        for s in [9, 3, 3, 0, 8] { _ = b.batch(step: s) }
        XCTAssertEqual(b.batch(step: 7), inOrder[7])
        XCTAssertEqual(a.batch(step: 7), inOrder[7])
        XCTAssertNotEqual(inOrder[0].starts, inOrder[1].starts)
        XCTAssertNotEqual(try BatchLoader(tokens: stream, context: 16, batchSize: 4, seed: 1235).batch(step: 7).starts, inOrder[7].starts)
        // The pinned definition: window b of step s starts at Xoshiro256(seed, stream: s).nextInt(below: N - T), in order.
        var rng = Xoshiro256ForTest.make(seed: 1234, step: 7)
        XCTAssertEqual(inOrder[7].starts, (0..<4).map { _ in rng.nextInt(below: 1000 - 16) })
    }

    func testWindowsAreContiguousAndTargetsShiftByOne() throws {
        let l = try BatchLoader(tokens: stream, context: 8, batchSize: 3, seed: 5)
        var x = [Int32](repeating: -1, count: 24), y = x
        for step in 0..<50 {
            l.fill(step: step, inputs: &x, targets: &y)
            for b in 0..<3 {
                let s = Int(x[b * 8])
                XCTAssertLessThanOrEqual(s + 8, 999)
                for t in 0..<8 {
                    XCTAssertEqual(x[b * 8 + t], Int32(s + t))
                    XCTAssertEqual(y[b * 8 + t], Int32(s + t + 1))
                }
            }
        }
    }

    func testEveryWindowStartIsReachableIncludingTheLast() throws {
        let l = try BatchLoader(tokens: Array(stream.prefix(12)), context: 10, batchSize: 8, seed: 0)
        let seen = Set((0..<20).flatMap { l.starts(step: $0) })
        XCTAssertEqual(seen, [0, 1])  // N - T = 2 windows: [0, 10) and [1, 11)
    }

    func testValidationBatchesAreFixedAndEvenlySpaced() throws {
        let l = try BatchLoader(tokens: stream, context: 10, batchSize: 2, seed: 1)
        let v = l.validationBatches(count: 3)
        XCTAssertEqual(v.count, 3)
        XCTAssertEqual(v.flatMap(\.starts), [0, 197, 395, 593, 791, 989])  // ⌊k·989/5⌋
        XCTAssertEqual(v[2].targets.last, 999)  // the last window ends at the last token
        XCTAssertEqual(v, try BatchLoader(tokens: stream, context: 10, batchSize: 2, seed: 99).validationBatches(count: 3))
        XCTAssertEqual(v[1].inputs[0...2], [395, 396, 397])
        XCTAssertEqual(v[1].targets[0...2], [396, 397, 398])
    }

    func testStreamTooShortForOneWindow() {
        XCTAssertThrowsDatasetError(try BatchLoader(tokens: [1, 2, 3], context: 3, batchSize: 1, seed: 0, name: "tiny (validation split)")) {
            $0 == .corpusTooSmall(corpus: "tiny (validation split)", have: 3, need: 4, unit: "tokens", context: 3)
                && $0.description.contains("corpus too small for one window of context 3")
        }
        XCTAssertNoThrow(try BatchLoader(tokens: [1, 2, 3, 4], context: 3, batchSize: 1, seed: 0))
    }

    func testPreparedDataBatches() throws {
        let d = try PreparedData.inMemory(text: sampleText(lines: 400), vocabSize: 300, name: "mem")
        let l = try d.trainBatches(context: 32, batchSize: 4, seed: 7)
        XCTAssertEqual(l.batch(step: 3), try d.trainBatches(context: 32, batchSize: 4, seed: 7).batch(step: 3))
        XCTAssertThrowsDatasetError(try d.valBatches(context: d.val.count, batchSize: 1)) {
            $0.description.contains("mem (validation split)")
        }
    }
}

enum Xoshiro256ForTest {
    static func make(seed: UInt64, step: Int) -> Xoshiro256 { Xoshiro256(seed: seed, stream: UInt64(step)) }
}
