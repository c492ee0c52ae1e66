import Foundation

/// The files of a run folder and a grid folder, declared once: their names, their Codable types, one JSON
/// configuration, a `format` version in each file, and the one atomic write. Every module that writes or reads
/// these files (Trainer, Grid, Probes, Report) imports this leaf module; none re-declares a file.
///
///     runs/<grid>/grid.json                    GridIndex: every run of the grid, its axes and state
///     runs/<grid>/<run id>/config.json         RunConfigFile: resolved config + provenance + parameter counts
///                         metrics.jsonl        MetricsRecord per logged step (MetricsFile reads it, strictly)
///                         status.json          RunStatus: running | finished | diverged | failed, with the reason
///                         summary.json         RunSummary: final numbers, written once when the run finishes
///                         grid-run.json        GridRunRecord: which grid run this folder holds
///                         train.log            a grid worker's output
///                         checkpoints/step-NNNNNNN/{model.safetensors, optimizer.safetensors,
///                                              state.json (CheckpointState)}
///                         checkpoints/latest   the name of the newest complete checkpoint (CheckpointFiles)
///                         snapshots/step-NNNNNNN.safetensors, snapshots/manifest.json (SnapshotManifest)
///                         probes.json          ProbeReport, written by `ablate probe`
///                         samples.json         RunSamples, written by `ablate sample --save`
public enum RunFiles {
    public static let config = "config.json"
    public static let metrics = "metrics.jsonl"
    public static let status = "status.json"
    public static let summary = "summary.json"
    public static let probes = "probes.json"
    public static let samples = "samples.json"
    public static let gridRun = "grid-run.json"
    /// The output of a grid worker's training process (plain text, appended).
    public static let trainLog = "train.log"
    public static let gridIndex = "grid.json"
    public static let checkpoints = "checkpoints"
    public static let latest = "latest"
    public static let snapshots = "snapshots"
    /// Files whose presence marks a folder as a run folder.
    public static let markers = [config, status, metrics, summary]
}

/// A file of the run format: its name and the major version this build writes and reads.
public protocol RunFormatFile: Codable {
    static var fileName: String { get }
    /// The `format` major version written; a reader rejects a file with a newer one. Files without the field
    /// (written before it existed) are version 1.
    static var formatVersion: Int { get }
}

/// One JSON configuration for every file: sorted keys, unescaped slashes, and non-finite numbers as the strings
/// "nan", "inf", "-inf" (a diverged run's loss is NaN; plain JSON has no spelling for it).
public enum RunJSON {
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    public static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> Data {
        try encoder(pretty: pretty).encode(value)
    }

    /// Decodes `data` read from `file`, first checking its `format` version; errors name the file.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String, supported: Int) throws -> T {
        if let header = try? decoder.decode(FormatHeader.self, from: data), let found = header.format?.major, found > supported {
            throw RunFormatError(
                path: file, message: "is format version \(found); this build reads up to version \(supported)",
                fix: "read it with a newer ablate (the one that wrote it)")
        }
        do { return try decoder.decode(T.self, from: data) } catch {
            throw RunFormatError(
                path: file, message: "cannot be read (\(describe(error)))",
                fix: "restore the file, or delete the run folder and train it again")
        }
    }

    /// Reads and decodes a file of the run format.
    public static func read<T: RunFormatFile>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RunFormatError(
                path: url.path, message: "cannot be read (\((error as NSError).localizedDescription))",
                fix: "check that the run folder is complete and readable")
        }
        return try decode(T.self, from: data, file: url.path, supported: T.formatVersion)
    }

    /// Writes `value` atomically as pretty JSON with a trailing newline.
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        var data = try encode(value)
        data.append(0x0A)
        try AtomicWrite.write(data, to: url)
    }

    /// One phrase for a decoding error: which key, and what is wrong with it.
    public static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing key '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "bad value at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "bad value at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "\(error)"
        }
    }
}

private struct FormatHeader: Decodable { var format: FormatVersion? }

/// The `format` field: an integer major version, or (files from before it was an integer) a string ending in
/// `-N` such as "ablate-probes-1".
public struct FormatVersion: Codable, Sendable, Equatable {
    public var major: Int
    public init(_ major: Int) { self.major = major }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { major = n; return }
        let s = try c.decode(String.self)
        guard let n = s.split(separator: "-").last.flatMap({ Int($0) }) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "format '\(s)' has no version number")
        }
        major = n
    }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(major) }
}

/// A file of the run format that cannot be read or written: the path, what is wrong, and the fix.
public struct RunFormatError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var message: String
    public var fix: String
    public init(path: String, message: String, fix: String) { self.path = path; self.message = message; self.fix = fix }
    public var description: String { "\(path): \(message). Fix: \(fix)." }
}
