import Foundation

/// `runs/<grid>/grid.json`: every run of the grid with its axis labels, config hash and state — what the report
/// and humans read to see which runs exist and how they ended. Written by `ablate grid`.
public struct GridIndex: RunFormatFile, Sendable {
    public static let fileName = RunFiles.gridIndex
    public static let formatVersion = 1

    public struct Entry: Codable, Sendable {
        public var index: Int
        public var id: String
        public var axes: [String: String]
        public var configHash: String
        /// pending | partial | finished | diverged | failed | changed
        public var state: String
        public var reason: String?
        public var finalValLoss: Double?
        public var nonEmbeddingParameters: Int
        public var tokens: Int
        public init(
            index: Int, id: String, axes: [String: String], configHash: String, state: String, reason: String?,
            finalValLoss: Double?, nonEmbeddingParameters: Int, tokens: Int
        ) {
            self.index = index; self.id = id; self.axes = axes; self.configHash = configHash; self.state = state
            self.reason = reason; self.finalValLoss = finalValLoss; self.nonEmbeddingParameters = nonEmbeddingParameters
            self.tokens = tokens
        }
        enum CodingKeys: String, CodingKey {
            case index, id, axes, configHash = "config_hash", state, reason, finalValLoss = "final_val_loss"
            case nonEmbeddingParameters = "non_embedding_parameters", tokens
        }
    }
    public var format: FormatVersion?
    public var name: String
    public var file: String
    public var axes: [String]
    public var runs: [Entry]
    public var updatedAt: String
    public init(name: String, file: String, axes: [String], runs: [Entry], updatedAt: String) {
        format = FormatVersion(Self.formatVersion)
        self.name = name; self.file = file; self.axes = axes; self.runs = runs; self.updatedAt = updatedAt
    }
    enum CodingKeys: String, CodingKey { case format, name, file, axes, runs, updatedAt = "updated_at" }

    /// The run ids of `grid/grid.json`. Only compared with folder names and listed, never joined to a path, so ids
    /// from grids written before `PathName` (which allowed `+` and non-ASCII letters) still read.
    public static func runIDs(inGrid grid: URL) throws -> [String] {
        try RunJSON.read(GridIndex.self, from: grid.appendingPathComponent(fileName)).runs.map(\.id)
    }
}

/// `grid-run.json` in a run folder: which grid run this folder holds and the hash of its config, written before
/// training starts, so a later invocation can tell "same run, resume" from "the file changed under this id".
/// `Config` is the trainer's config type (the grid reads and writes it; nothing else does).
public struct GridRunFile<Config: Codable & Sendable & Equatable>: RunFormatFile, Sendable, Equatable {
    public static var fileName: String { RunFiles.gridRun }
    public static var formatVersion: Int { 1 }

    public var format: FormatVersion?
    public var grid: String
    public var runID: String
    public var configHash: String
    public var blasKernel: String?
    public var axes: [String: String]
    public var config: Config
    public init(grid: String, runID: String, configHash: String, blasKernel: String?, axes: [String: String], config: Config) {
        format = FormatVersion(Self.formatVersion)
        self.grid = grid; self.runID = runID; self.configHash = configHash; self.blasKernel = blasKernel
        self.axes = axes; self.config = config
    }
    enum CodingKeys: String, CodingKey {
        case format, grid, runID = "run_id", configHash = "config_hash", blasKernel = "blas_kernel", axes, config
    }
}

/// Run ids: `<arm>-d<d_model>-L<n_layer>[-<size label>]-v<vocab>[-<other axes>]-s<seed>`, made only here so the
/// grid, `ablate train`'s default folder and the report's list of missing runs spell them the same way.
public enum RunID {
    public static func compose(
        arm: String, dModel: Int, nLayer: Int, sizeLabel: String? = nil, vocabSize: Int,
        extra: [String] = [], seed: UInt64
    ) -> String {
        let parts = [arm, "d\(dModel)", "L\(nLayer)"] + (sizeLabel.map { [$0] } ?? []) + ["v\(vocabSize)"] + extra + ["s\(seed)"]
        return sanitize(parts.joined(separator: "-"))
    }

    /// Characters outside `PathName`'s rule (letters, digits, `._-`) become `_`.
    public static func sanitize(_ s: String) -> String {
        String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }
}

/// The name of a grid (its folder `runs/<name>/` and report `reports/<name>/`), read from a grid file without a YAML
/// parser so the report (which does not import the grid module) reads it the same way `ablate grid` does: the
/// value of the top-level `name:` line (quotes and a trailing comment allowed), else the file's name without its
/// extension; either way checked by `PathName`. The grid parser requires its YAML `name:` to agree with this.
public enum GridName {
    public static func of(gridFile path: String, text: String) throws -> String {
        if let declared = declared(in: text) {
            return try PathName.validate(declared, what: "the grid's `name:`", source: path)
        }
        let fromFile = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try PathName.validate(fromFile, what: "the grid name taken from the file name (no `name:`)", source: path)
    }

    /// The value of the first top-level `name:` line, or nil when there is none (or it is empty).
    public static func declared(in text: String) -> String? {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard raw.hasPrefix("name:") else { continue }
            var v = raw.dropFirst(5)
            if let hash = v.range(of: " #") { v = v[..<hash.lowerBound] }
            let value = v.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
