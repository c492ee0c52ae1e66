import Foundation

/// One line of metrics.jsonl. `valLoss` (nats per token) and `valBpb` (bits per UTF-8 byte of the predicted tokens,
/// comparable across tokenizers) only on evaluation steps, always on the same `eval_batches` validation batches, so the
/// curve compares like with like; the last line also holds `finalValLoss`/`finalValBpb`, the final evaluation on the
/// larger `final_eval_batches` set (the number summary.json reports). Runs written before these existed lack `valBpb`,
/// and their last line's `valLoss` is the final evaluation (on the other set).
public struct MetricsRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var tokens: Int
    public var trainLoss: Double?
    public var valLoss: Double?
    public var valBpb: Double?
    public var finalValLoss: Double?
    public var finalValBpb: Double?
    public var lr: Double
    public var gradNorm: Double?
    public var tokensPerSecond: Double
    public var elapsed: Double

    public init(
        step: Int, tokens: Int, trainLoss: Double?, valLoss: Double?, lr: Double, gradNorm: Double?,
        tokensPerSecond: Double, elapsed: Double, valBpb: Double? = nil, finalValLoss: Double? = nil, finalValBpb: Double? = nil
    ) {
        self.finalValLoss = finalValLoss; self.finalValBpb = finalValBpb
        self.step = step; self.tokens = tokens; self.trainLoss = trainLoss; self.valLoss = valLoss; self.valBpb = valBpb; self.lr = lr
        self.gradNorm = gradNorm; self.tokensPerSecond = tokensPerSecond; self.elapsed = elapsed
    }
    enum CodingKeys: String, CodingKey {
        case step, tokens, trainLoss = "train_loss", valLoss = "val_loss", valBpb = "val_bpb", lr, gradNorm = "grad_norm"
        case finalValLoss = "final_val_loss", finalValBpb = "final_val_bpb"
        case tokensPerSecond = "tokens_per_s", elapsed = "elapsed_s"
    }
}

/// metrics.jsonl: one flat JSON object per logged step, appended as training goes. The one reader is strict: a
/// kill mid-append can leave only a partial *last* line (no trailing newline), which is dropped; any other line
/// that is not valid UTF-8 or not a flat JSON object with a numeric `step` is an error naming the file and line,
/// and nothing is rewritten. Hand-written because `JSONDecoder` on 100 k lines takes seconds; this takes milliseconds.
public enum MetricsFile {
    public static let fileName = RunFiles.metrics

    /// The fields every reader needs, and where the line ends in the file (after its newline).
    public struct Line: Sendable, Equatable {
        public var step: Int
        public var tokens: Double?
        public var trainLoss: Double?
        public var valLoss: Double?
        public var valBpb: Double?
        /// The final evaluation (last line only; nil in runs written before it was recorded separately).
        public var finalValLoss: Double? = nil
        public var finalValBpb: Double? = nil
        public var end: Int
    }

    /// Appends one record as one line (one write(2) of the line and its newline).
    public static func append(_ record: MetricsRecord, to url: URL) throws {
        var line = try RunJSON.encode(record, pretty: false)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: url.path) { try AtomicWrite.write(Data(), to: url) }
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: line)
    }

    /// The complete lines of the file at `url`; [] when there is no file.
    public static func lines(at url: URL) throws -> [Line] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RunFormatError(
                path: url.path, message: "cannot be read (\((error as NSError).localizedDescription))", fix: "check the file's permissions")
        }
        return try scan(data, path: url.path)
    }

    /// Every complete record, decoded in full (for the trainer and tests; the report needs only `lines`).
    public static func records(at url: URL) throws -> [MetricsRecord] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        var start = 0
        return try scan(data, path: url.path).enumerated().map { n, line in
            defer { start = line.end }
            do { return try RunJSON.decoder.decode(MetricsRecord.self, from: data[start..<(line.end - 1)]) } catch {
                throw malformed(url.path, n + 1, RunJSON.describe(error))
            }
        }
    }

    /// Keeps the lines with step ≤ `step` (resuming from the checkpoint at `step`), byte for byte, and drops a partial
    /// last line. Lines are in step order, so what is kept is a prefix of the file. Throws, changing nothing, on a
    /// malformed line.
    public static func truncate(at url: URL, toStep step: Int) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let data = try Data(contentsOf: url)
        let lines = try scan(data, path: url.path)
        let keep = lines.prefix { $0.step <= step }.last?.end ?? 0
        if keep != data.count { try AtomicWrite.write(data.prefix(keep), to: url) }
    }

    /// Strict scan (see the type's documentation).
    public static func scan(_ data: Data, path: String) throws -> [Line] {
        try data.withUnsafeBytes { raw -> [Line] in
            let bytes = raw.bindMemory(to: UInt8.self)
            var out = [Line]()
            var start = 0, number = 0
            let n = bytes.count
            while start < n {
                var end = start
                while end < n && bytes[end] != 0x0A { end += 1 }
                number += 1
                if end == n { break }  // no newline: a partial last line from a kill mid-append
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
                guard isValidUTF8(slice) else { throw malformed(path, number, "not valid UTF-8") }
                guard let line = parseLine(bytes, start, end), let step = line.step, step == step.rounded(), step >= 0, step < 1e15 else {
                    throw malformed(path, number, "not a JSON object with a numeric step")
                }
                out.append(
                    Line(
                        step: Int(step), tokens: line.tokens, trainLoss: line.trainLoss, valLoss: line.valLoss, valBpb: line.valBpb,
                        finalValLoss: line.finalValLoss, finalValBpb: line.finalValBpb, end: end + 1))
                start = end + 1
            }
            return out
        }
    }

    static func malformed(_ path: String, _ line: Int, _ why: String) -> RunFormatError {
        RunFormatError(
            path: path, message: "line \(line) is malformed (\(why)); nothing was changed",
            fix: "repair or delete that line (only a partial last line, from a kill mid-write, is dropped automatically)")
    }

    private static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        return Array(String(decoding: bytes, as: UTF8.self).utf8).elementsEqual(bytes)
    }

    private struct Parsed {
        var step: Double?, tokens: Double?, trainLoss: Double?, valLoss: Double?, valBpb: Double?
        var finalValLoss: Double?, finalValBpb: Double?
    }

    /// Parses `{"key":value,...}` with number, string, null, true/false values (no nesting).
    private static func parseLine(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Parsed? {
        var i = start
        func skipSpace() { while i < end && (b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D) { i += 1 } }
        skipSpace()
        guard i < end, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var line = Parsed()
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
            case .trainLoss: line.trainLoss = value
            case .valLoss: line.valLoss = value
            case .valBpb: line.valBpb = value
            case .finalValLoss: line.finalValLoss = value
            case .finalValBpb: line.finalValBpb = value
            case .other: break
            }
        }
        return closed ? line : nil
    }

    private enum Key {
        case step, tokens, trainLoss, valLoss, valBpb, finalValLoss, finalValBpb, other
        static let names: [(StaticString, Key)] = [
            ("step", .step), ("tokens", .tokens), ("train_loss", .trainLoss), ("val_loss", .valLoss), ("val_bpb", .valBpb),
            ("final_val_loss", .finalValLoss), ("final_val_bpb", .finalValBpb),
        ]
        init(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) {
            func equals(_ literal: StaticString) -> Bool {
                guard literal.utf8CodeUnitCount == e - s else { return false }
                let p = literal.utf8Start
                for k in 0..<(e - s) where p[k] != b[s + k] { return false }
                return true
            }
            self = Key.names.first { equals($0.0) }?.1 ?? .other
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
