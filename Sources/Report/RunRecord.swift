import Foundation

/// One run folder as the report sees it, decoded from the files the trainer writes (see `Trainer/RunFolder.swift`):
/// `config.json`, `status.json`, `summary.json`, `metrics.jsonl`. The report does not import the trainer; these
/// small structs read only the keys it needs and ignore the rest.
public struct RunRecord: Sendable {
    public enum State: String, Sendable, Comparable {
        case finished, running, diverged, failed
        /// A folder without a readable config.json or status.json.
        case unreadable
        public static func < (a: State, b: State) -> Bool { a.order < b.order }
        private var order: Int { [.finished, .running, .diverged, .failed, .unreadable].firstIndex(of: self)! }
    }

    /// The folder name (e.g. `hashed-d256-L4-v2048-s1`).
    public var id: String
    public var state: State
    /// Why the run stopped (status.json `reason`), or why the folder could not be read.
    public var reason: String?
    public var step: Int?
    public var totalSteps: Int?

    public var strategy: String
    /// The user-given strategy options as canonical JSON (sorted keys), "" when none.
    public var strategyOptions: String
    public var seed: UInt64
    public var shape: ModelShape
    public var parameters: ParameterCounts?
    public var provenance: RunProvenance?
    /// `summary.json` `final_val_loss` (finished runs only).
    public var finalValLoss: Double?
    /// `summary.json` `tokens` (or the last metrics line).
    public var tokens: Int?
    /// The validation curve: (tokens, val_loss) of every metrics line with a finite val_loss, in file order.
    public var curve: [CurvePoint]
    /// `probes.json` (written by `ablate probe`); nil when the folder has none or it cannot be read.
    public var probes: ProbeRecord? = nil
    /// Why an existing probes.json was not used (nil when it was read, or when there is none).
    public var probesProblem: String? = nil
    /// `samples.json` (written by `ablate sample --save`); nil when the folder has none or it cannot be read.
    public var samples: RunSamples? = nil
}

public struct CurvePoint: Sendable, Equatable {
    public var tokens: Double
    public var loss: Double
}

/// The model shape that defines a "size" in the report.
public struct ModelShape: Sendable, Hashable, Comparable {
    public var dModel: Int
    public var nLayer: Int
    public var nHead: Int
    public var vocabSize: Int
    public var contextLength: Int
    /// Non-embedding parameters N (the x axis of scaling plots); 0 when unknown.
    public var nonEmbedding: Int

    /// Short label: `d256-L4` (vocabulary and context appended by `ReportData` only when they vary).
    public var label: String { "d\(dModel)-L\(nLayer)" }

    public static func < (a: ModelShape, b: ModelShape) -> Bool {
        (a.nonEmbedding, a.dModel, a.nLayer, a.nHead, a.vocabSize, a.contextLength)
            < (b.nonEmbedding, b.dModel, b.nLayer, b.nHead, b.vocabSize, b.contextLength)
    }
}

public struct ParameterCounts: Sendable, Equatable {
    public var total: Int
    public var trainable: Int
    public var embedding: Int
    public var nonEmbedding: Int
    public var optimizerStateBytes: Int?
}

public struct RunProvenance: Sendable, Equatable {
    public var packageVersion: String?
    public var gitCommit: String?
    public var corpusSHA256: String?
    public var tokenizerSHA256: String?
    public var corpus: String?
    /// The OpenBLAS kernel and the CPU the run was trained on ("unrecorded" CPU for runs older than the field).
    public var blasCore: String?
    public var cpu: String?
    /// "kernel on CPU": runs that differ here are comparable to rounding, not bit for bit.
    public var machine: String? {
        guard blasCore != nil || cpu != nil else { return nil }
        return "OpenBLAS \(blasCore ?? "unknown kernel") on \(cpu ?? "an unrecorded CPU")"
    }
}

// MARK: - Reading

enum RunReader {
    /// Reads every sub-folder of `grid` that looks like a run (holds config.json, status.json or metrics.jsonl),
    /// sorted by folder name.
    static func readGrid(_ grid: URL) throws -> [RunRecord] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: grid.path, isDirectory: &isDir), isDir.boolValue else {
            throw ReportError("\(grid.path): no such grid folder. Fix: run the grid first (ablate grid run), or pass runs/<grid>.")
        }
        let names = try fm.contentsOfDirectory(atPath: grid.path).sorted()
        var runs = [RunRecord]()
        for name in names where !name.hasPrefix(".") {
            let url = grid.appendingPathComponent(name)
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else { continue }
            let marker = ["config.json", "status.json", "metrics.jsonl", "summary.json"]
            guard marker.contains(where: { fm.fileExists(atPath: url.appendingPathComponent($0).path) }) else { continue }
            runs.append(read(url))
        }
        return runs
    }

    /// The run ids in `grid/grid.json` (written by `ablate grid run`), or nil when there is none or it cannot be read
    /// (the report then infers the grid from the runs present).
    static func listedRuns(_ grid: URL) -> [String]? {
        struct Index: Decodable { struct Entry: Decodable { let id: String }; let runs: [Entry] }
        guard let data = try? Data(contentsOf: grid.appendingPathComponent("grid.json")),
              let index = try? JSONDecoder().decode(Index.self, from: data) else { return nil }
        return index.runs.map(\.id)
    }

    /// Reads one run folder; never throws — an unreadable folder becomes a record in state `.unreadable`.
    static func read(_ url: URL) -> RunRecord {
        let id = url.lastPathComponent
        var record = RunRecord(id: id, state: .unreadable, reason: nil, step: nil, totalSteps: nil, strategy: "?",
                               strategyOptions: "", seed: 0,
                               shape: ModelShape(dModel: 0, nLayer: 0, nHead: 0, vocabSize: 0, contextLength: 0,
                                                 nonEmbedding: 0),
                               parameters: nil, provenance: nil, finalValLoss: nil, tokens: nil, curve: [])
        guard let configData = FileManager.default.contents(atPath: url.appendingPathComponent("config.json").path)
        else {
            record.reason = "no config.json"
            return record
        }
        let config: ConfigFile
        do {
            config = try decoder.decode(ConfigFile.self, from: configData)
        } catch {
            record.reason = "config.json cannot be read (\(describe(error)))"
            return record
        }
        record.strategy = config.config.strategy
        record.strategyOptions = canonical(config.config.strategyOptions)
        record.seed = config.config.seed ?? config.provenance?.seed ?? 0
        let m = config.model
        record.shape = ModelShape(dModel: m.dModel, nLayer: m.nLayer, nHead: m.nHead, vocabSize: m.vocabSize,
                                  contextLength: m.contextLength ?? config.config.contextLength ?? 0,
                                  nonEmbedding: config.parameters?.nonEmbedding ?? 0)
        if let p = config.parameters {
            record.parameters = ParameterCounts(total: p.total, trainable: p.trainable, embedding: p.embedding ?? 0,
                                                nonEmbedding: p.nonEmbedding, optimizerStateBytes: p.optimizerStateBytes)
        }
        if let p = config.provenance {
            record.provenance = RunProvenance(packageVersion: p.packageVersion, gitCommit: p.gitCommit,
                                              corpusSHA256: p.corpusSHA256, tokenizerSHA256: p.tokenizerSHA256,
                                              corpus: config.config.corpus, blasCore: p.blasCore, cpu: p.cpu)
        }

        if let data = FileManager.default.contents(atPath: url.appendingPathComponent("metrics.jsonl").path) {
            let lines = MetricsScanner.scan(data)
            record.curve = lines.compactMap { line in
                guard let v = line.valLoss, v.isFinite, let t = line.tokens else { return nil }
                return CurvePoint(tokens: t, loss: v)
            }
            record.tokens = lines.last?.tokens.map { Int($0) }
        }

        guard let statusData = FileManager.default.contents(atPath: url.appendingPathComponent("status.json").path),
              let status = try? decoder.decode(StatusFile.self, from: statusData)
        else {
            record.reason = "no readable status.json"
            return record
        }
        record.step = status.step
        record.totalSteps = status.totalSteps
        record.reason = status.reason
        switch status.state {
        case "finished": record.state = .finished
        case "running": record.state = .running
        case "diverged": record.state = .diverged
        case "failed": record.state = .failed
        default:
            record.reason = "unknown state '\(status.state)' in status.json"
            return record
        }
        do {
            record.probes = try ProbeRecord.read(url)
        } catch {
            record.probesProblem = "\(error)"
        }
        record.samples = try? RunSamples.read(fromRun: url)
        if record.state == .finished {
            if let data = FileManager.default.contents(atPath: url.appendingPathComponent("summary.json").path),
               let summary = try? decoder.decode(SummaryFile.self, from: data), summary.finalValLoss.isFinite {
                record.finalValLoss = summary.finalValLoss
                record.tokens = summary.tokens
                if record.shape.nonEmbedding == 0, let n = summary.nonEmbeddingParameters {
                    record.shape.nonEmbedding = n
                }
            } else if let last = record.curve.last {
                // The last metrics line holds the final evaluation; use it when summary.json is missing.
                record.finalValLoss = last.loss
            } else {
                record.state = .unreadable
                record.reason = "finished, but neither summary.json nor a final val_loss can be read"
            }
        }
        return record
    }

    private static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                  nan: "nan")
        return d
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "bad value at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }

    /// Canonical text of a JSON value with sorted keys (for grouping runs by strategy options).
    static func canonical(_ value: AnyJSON?) -> String {
        guard let value else { return "" }
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x):
            return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map { canonical($0) }.joined(separator: ",") + "]"
        case .object(let o):
            if o.isEmpty { return "" }
            return o.keys.sorted().map { "\($0)=\(canonical(o[$0]))" }.joined(separator: ",")
        }
    }
}

// MARK: - File formats (lenient: unknown keys are ignored, optional keys may be missing)

struct ConfigFile: Decodable {
    struct Config: Decodable {
        var strategy: String
        var strategyOptions: AnyJSON?
        var seed: UInt64?
        var corpus: String?
        var contextLength: Int?
        enum CodingKeys: String, CodingKey {
            case strategy, strategyOptions = "strategy_options", seed, corpus, contextLength = "context_length"
        }
    }
    struct Model: Decodable {
        var dModel: Int, nLayer: Int, nHead: Int, vocabSize: Int, contextLength: Int?
        enum CodingKeys: String, CodingKey {
            case dModel = "d_model", nLayer = "n_layer", nHead = "n_head", vocabSize = "vocab_size"
            case contextLength = "context_length"
        }
    }
    struct Parameters: Decodable {
        var total: Int, trainable: Int, embedding: Int?, nonEmbedding: Int, optimizerStateBytes: Int?
        enum CodingKeys: String, CodingKey {
            case total, trainable, embedding, nonEmbedding = "non_embedding", optimizerStateBytes = "optimizer_state_bytes"
        }
    }
    struct Provenance: Decodable {
        var packageVersion: String?, gitCommit: String?, corpusSHA256: String?, tokenizerSHA256: String?, seed: UInt64?
        var blasCore: String?, cpu: String?
        enum CodingKeys: String, CodingKey {
            case packageVersion = "package_version", gitCommit = "git_commit", corpusSHA256 = "corpus_sha256"
            case tokenizerSHA256 = "tokenizer_sha256", seed, blasCore = "blas_core", cpu
        }
    }
    var config: Config
    var model: Model
    var parameters: Parameters?
    var provenance: Provenance?
}

struct StatusFile: Decodable {
    var state: String
    var step: Int?
    var totalSteps: Int?
    var reason: String?
    enum CodingKeys: String, CodingKey { case state, step, totalSteps = "total_steps", reason }
}

struct SummaryFile: Decodable {
    var finalValLoss: Double
    var tokens: Int?
    var nonEmbeddingParameters: Int?
    enum CodingKeys: String, CodingKey {
        case finalValLoss = "final_val_loss", tokens, nonEmbeddingParameters = "non_embedding_parameters"
    }
}

/// Any JSON value (strategy options are free-form).
enum AnyJSON: Decodable {
    case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let x = try? c.decode(Double.self) { self = .number(x) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }
}

// MARK: - metrics.jsonl

/// A fast, lenient reader of metrics.jsonl: each line is a flat JSON object; only `tokens`, `step` and `val_loss`
/// are extracted. A line that does not parse (e.g. a partial last line after a kill) is skipped. Hand-written
/// because `JSONDecoder` on 100 k lines takes seconds; this takes milliseconds.
public enum MetricsScanner {
    public struct Line { public var step: Double?; public var tokens: Double?; public var valLoss: Double? }

    public static func scan(_ data: Data) -> [Line] {
        data.withUnsafeBytes { raw -> [Line] in
            let bytes = raw.bindMemory(to: UInt8.self)
            var out = [Line]()
            var start = 0
            let n = bytes.count
            while start < n {
                var end = start
                while end < n && bytes[end] != 0x0A { end += 1 }
                if let line = parseLine(bytes, start, end) { out.append(line) }
                start = end + 1
            }
            return out
        }
    }

    /// Parses `{"key":value,...}` with number, string, null, true/false values (no nesting).
    private static func parseLine(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Line? {
        var i = start
        func skipSpace() { while i < end && (b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D) { i += 1 } }
        skipSpace()
        guard i < end, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var line = Line()
        var closed = false
        while i < end {
            skipSpace()
            if b[i] == UInt8(ascii: "}") { closed = true; i += 1; break }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            guard b[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i + 1
            i = keyStart
            while i < end && b[i] != UInt8(ascii: "\"") { i += 1 }
            guard i < end else { return nil }
            let key = Key(b, keyStart, i)
            i += 1
            skipSpace()
            guard i < end, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            guard i < end else { return nil }
            var value: Double? = nil
            switch b[i] {
            case UInt8(ascii: "\""):  // a string: "nan", "inf", "-inf" or anything else (ignored)
                let s = i + 1
                i = s
                while i < end && b[i] != UInt8(ascii: "\"") { if b[i] == UInt8(ascii: "\\") { i += 1 }; i += 1 }
                guard i < end else { return nil }
                let text = String(decoding: UnsafeBufferPointer(rebasing: b[s..<i]), as: UTF8.self)
                value = text == "nan" ? .nan : text == "inf" ? .infinity : text == "-inf" ? -.infinity : nil
                i += 1
            case UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "f"):
                while i < end && b[i] >= UInt8(ascii: "a") && b[i] <= UInt8(ascii: "z") { i += 1 }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return nil  // nested values are not part of the format
            default:
                let s = i
                while i < end, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != 0x20 { i += 1 }
                value = parseNumber(b, s, i)
                if value == nil { return nil }
            }
            switch key {
            case .step: line.step = value
            case .tokens: line.tokens = value
            case .valLoss: line.valLoss = value
            case .other: break
            }
        }
        return closed ? line : nil
    }

    private enum Key {
        case step, tokens, valLoss, other
        init(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) {
            func equals(_ literal: StaticString) -> Bool {
                guard literal.utf8CodeUnitCount == e - s else { return false }
                let p = literal.utf8Start
                for k in 0..<(e - s) where p[k] != b[s + k] { return false }
                return true
            }
            self = equals("step") ? .step : equals("tokens") ? .tokens : equals("val_loss") ? .valLoss : .other
        }
    }

    /// A JSON number; integers without a fraction or exponent are converted exactly, others via `strtod`.
    private static func parseNumber(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Double? {
        guard s < e else { return nil }
        var simple = true
        var value: Int64 = 0
        var k = s
        let negative = b[k] == UInt8(ascii: "-")
        if negative { k += 1 }
        guard k < e else { return nil }
        while k < e {
            let c = b[k]
            guard c >= 0x30 && c <= 0x39, value < 100_000_000_000_000 else { simple = false; break }
            value = value * 10 + Int64(c - 0x30)
            k += 1
        }
        if simple { return Double(negative ? -value : value) }
        var buffer = [CChar](repeating: 0, count: e - s + 1)
        for j in 0..<(e - s) { buffer[j] = CChar(bitPattern: b[s + j]) }
        return buffer.withUnsafeBufferPointer { p -> Double? in
            var endPtr: UnsafeMutablePointer<CChar>? = nil
            let x = strtod(p.baseAddress!, &endPtr)
            guard let endPtr, endPtr - UnsafeMutablePointer(mutating: p.baseAddress!) == e - s else { return nil }
            return x
        }
    }
}

/// A report error with one clear message (what is wrong and how to fix it).
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
