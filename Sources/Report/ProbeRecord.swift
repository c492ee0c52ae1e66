import Foundation
import RunFormat

/// A run's `probes.json` (written by `ablate probe`) as the report reads it: the one `ProbeReport` type of RunFormat,
/// which is lenient where files differ (settings, snapshots and notes may be absent; undefined numbers are nil).
public typealias ProbeRecord = ProbeReport

extension ProbeReport {
    public enum Kind: String, Sendable, CaseIterable {
        case input, output
        public var title: String { self == .input ? "input embedding" : "output head" }
    }

    public func table(_ kind: Kind) -> Table? { kind == .input ? tables.input : tables.output }
    public func drift(_ kind: Kind) -> Drift? { kind == .input ? drift.input : drift.output }

    /// Reads `folder/probes.json`: nil when there is none; a `ReportError` when it exists but cannot be read.
    static func read(_ folder: URL) throws -> ProbeReport? {
        let url = folder.appendingPathComponent(RunFiles.probes)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let record: ProbeReport
        do {
            record = try RunJSON.decode(ProbeReport.self, from: data, file: url.path, supported: ProbeReport.formatVersion)
        } catch let error as RunFormatError {
            throw ReportError("probes.json \(error.message)")
        }
        guard record.format.hasPrefix("ablate-probes-") else {
            throw ReportError("probes.json has format '\(record.format)', expected \(ProbeReport.formatName)")
        }
        return record
    }
}
