import Foundation
import RunFormat

/// A run's folder on disk, as the trainer writes it. Every file's name, type and encoding is declared in
/// `RunFormat` (see `RunFiles`); this is the trainer's handle on one folder. Every file is written atomically
/// (`AtomicWrite`: temp + fsync + rename + fsync of the folder), checkpoints as a whole folder, so a crash or kill
/// never leaves a half-written result.
public struct RunFolder: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    public var configURL: URL { url.appendingPathComponent(RunFiles.config) }
    public var metricsURL: URL { url.appendingPathComponent(RunFiles.metrics) }
    public var statusURL: URL { url.appendingPathComponent(RunFiles.status) }
    public var summaryURL: URL { url.appendingPathComponent(RunFiles.summary) }
    public var checkpointsURL: URL { url.appendingPathComponent(RunFiles.checkpoints) }

    public func create() throws {
        try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
    }

    public func write<T: RunFormatFile>(_ value: T) throws { try RunJSON.write(value, to: url.appendingPathComponent(T.fileName)) }
    public func read<T: RunFormatFile>(_ type: T.Type) throws -> T { try RunJSON.read(T.self, from: url.appendingPathComponent(T.fileName)) }

    // MARK: status

    public func writeStatus(_ status: RunStatus) throws { try write(status) }
    /// nil when there is no status.json yet (or it cannot be read).
    public func readStatus() -> RunStatus? { try? read(RunStatus.self) }

    // MARK: metrics

    /// Appends one line; a kill can at worst leave a partial last line, which `truncateMetrics` drops on resume.
    public func appendMetrics(_ record: MetricsRecord) throws { try MetricsFile.append(record, to: metricsURL) }

    /// Every complete record; an error naming the file and line for a malformed one.
    public func readMetrics() throws -> [MetricsRecord] { try MetricsFile.records(at: metricsURL) }

    /// Keeps only complete records with step ≤ `step` (used when resuming from the checkpoint at `step`).
    public func truncateMetrics(toStep step: Int) throws { try MetricsFile.truncate(at: metricsURL, toStep: step) }
}
