import Foundation

/// A run's folder on disk:
///
///     config.json          resolved config + provenance (+ a hash of the config)
///     metrics.jsonl        one JSON object per logged step
///     status.json          running | finished | diverged | failed, with the reason
///     summary.json         final numbers, written once when the run finishes
///     checkpoints/step-NNNNNNN/{model.safetensors, optimizer.safetensors, state.json}
///     checkpoints/latest   the name of the newest complete checkpoint
///     snapshots/           embedding tables at log-spaced steps (`EmbeddingSnapshots`; `snapshots: false` disables)
///     probes.json          embedding probe results, written by `ablate probe` (Probes/README.md)
///
/// Every file is written atomically (temp file + rename), checkpoints as a whole folder, so a crash or kill
/// never leaves a half-written result.
public struct RunFolder: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    public var configURL: URL { url.appendingPathComponent("config.json") }
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var statusURL: URL { url.appendingPathComponent("status.json") }
    public var summaryURL: URL { url.appendingPathComponent("summary.json") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }

    public func create() throws {
        try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
    }

    /// Writes `data` to `target` through a temp file in the same folder and a rename.
    public static func writeAtomically(_ data: Data, to target: URL) throws {
        try data.write(to: target, options: .atomic)
    }

    public static func encodeJSON<T: Encodable>(_ value: T, pretty: Bool = true) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(value)
    }

    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        try Self.writeAtomically(Self.encodeJSON(value), to: url.appendingPathComponent(name))
    }

    public func readJSON<T: Decodable>(_ type: T.Type, from name: String) throws -> T {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try d.decode(T.self, from: Data(contentsOf: url.appendingPathComponent(name)))
    }

    // MARK: status

    public func writeStatus(_ status: RunStatus) throws { try writeJSON(status, to: "status.json") }
    public func readStatus() -> RunStatus? { try? readJSON(RunStatus.self, from: "status.json") }

    // MARK: metrics

    /// Appends one line; a kill can at worst leave a partial last line, which `truncateMetrics` drops on resume.
    public func appendMetrics(_ record: MetricsRecord) throws {
        var line = try Self.encodeJSON(record, pretty: false)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: metricsURL.path) {
            try Self.writeAtomically(Data(), to: metricsURL)
        }
        let h = try FileHandle(forWritingTo: metricsURL)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: line)
    }

    public func readMetrics() -> [MetricsRecord] {
        guard let text = try? String(contentsOf: metricsURL, encoding: .utf8) else { return [] }
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return text.split(separator: "\n").compactMap { try? d.decode(MetricsRecord.self, from: Data($0.utf8)) }
    }

    /// Keeps only complete records with step ≤ `step` (used when resuming from the checkpoint at `step`).
    public func truncateMetrics(toStep step: Int) throws {
        let kept = readMetrics().filter { $0.step <= step }
        var data = Data()
        for r in kept { data.append(try Self.encodeJSON(r, pretty: false)); data.append(0x0A) }
        try Self.writeAtomically(data, to: metricsURL)
    }
}

public struct RunStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case running, finished, diverged, failed }
    public var state: State
    public var step: Int
    public var totalSteps: Int
    public var reason: String?
    public var updatedAt: String

    public init(state: State, step: Int, totalSteps: Int, reason: String? = nil) {
        self.state = state; self.step = step; self.totalSteps = totalSteps; self.reason = reason
        self.updatedAt = ISO8601DateFormatter().string(from: Date())
    }
    enum CodingKeys: String, CodingKey { case state, step, totalSteps = "total_steps", reason, updatedAt = "updated_at" }
}

/// One line of metrics.jsonl. `valLoss` only on evaluation steps.
public struct MetricsRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var tokens: Int
    public var trainLoss: Double?
    public var valLoss: Double?
    public var lr: Double
    public var gradNorm: Double?
    public var tokensPerSecond: Double
    public var elapsed: Double

    public init(step: Int, tokens: Int, trainLoss: Double?, valLoss: Double?, lr: Double, gradNorm: Double?,
                tokensPerSecond: Double, elapsed: Double) {
        self.step = step; self.tokens = tokens; self.trainLoss = trainLoss; self.valLoss = valLoss; self.lr = lr
        self.gradNorm = gradNorm; self.tokensPerSecond = tokensPerSecond; self.elapsed = elapsed
    }
    enum CodingKeys: String, CodingKey {
        case step, tokens, trainLoss = "train_loss", valLoss = "val_loss", lr, gradNorm = "grad_norm"
        case tokensPerSecond = "tokens_per_s", elapsed = "elapsed_s"
    }
}
