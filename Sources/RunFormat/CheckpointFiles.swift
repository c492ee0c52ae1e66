import Foundation

/// `checkpoints/` of a run folder: `step-NNNNNNN/{model.safetensors, optimizer.safetensors, state.json}`, each
/// folder written as `step-NNNNNNN.tmp/` and renamed whole, and `latest`, the name of the newest one.
public enum CheckpointFiles {
    public static let model = "model.safetensors"
    public static let optimizer = "optimizer.safetensors"
    public static let state = "state.json"

    public static func name(step: Int) -> String { String(format: "step-%07d", step) }

    /// The step of a checkpoint folder name `step-N` (at least 7 digits), or nil.
    public static func step(ofName name: String) -> Int? {
        guard name.hasPrefix("step-"), name.count >= 12, name.count <= 24 else { return nil }
        let digits = name.dropFirst(5)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// A checkpoint folder holds all three files (a crash leaves only `.tmp` folders incomplete).
    public static func isComplete(_ folder: URL) -> Bool {
        [model, optimizer, state].allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }

    /// The one reader of `checkpoints/latest`: the name it holds, surrounding whitespace ignored; nil when there is
    /// no such file; an error when it is not a checkpoint name (it must never lead outside `checkpoints/`).
    public static func readLatest(_ checkpoints: URL) throws -> String? {
        let url = checkpoints.appendingPathComponent(RunFiles.latest)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        try PathName.validate(name, what: "the checkpoint name", source: url.path)
        guard step(ofName: name) != nil else {
            throw RunFormatError(
                path: url.path, message: "holds '\(name)', not a checkpoint name (step-NNNNNNN)",
                fix: "delete it: the newest complete checkpoint is then used")
        }
        return name
    }

    /// The checkpoint a run resumes from, or is evaluated or probed at.
    public struct Resolved: Sendable, Equatable {
        public var folder: URL
        public var step: Int
        /// Why this is not the checkpoint `latest` names (nil when it is).
        public var note: String?
    }

    /// The checkpoint `latest` names when it is complete; otherwise the newest complete `step-N` folder, with a
    /// note saying why; nil when the run has none.
    public static func newest(inRun run: URL) -> Resolved? {
        let checkpoints = run.appendingPathComponent(RunFiles.checkpoints)
        var problem: String
        do {
            if let name = try readLatest(checkpoints) {
                let folder = checkpoints.appendingPathComponent(name)
                if isComplete(folder) { return Resolved(folder: folder, step: step(ofName: name)!, note: nil) }
                problem = "checkpoints/latest names \(name), which is missing or incomplete"
            } else {
                problem = "there is no checkpoints/latest"
            }
        } catch {
            problem = "\(error)"
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []
        let candidates = names.compactMap { n in step(ofName: n).map { (n, $0) } }.sorted { $0.1 > $1.1 }
        for (name, s) in candidates {
            let folder = checkpoints.appendingPathComponent(name)
            if isComplete(folder) { return Resolved(folder: folder, step: s, note: "\(problem): using \(name), the newest complete checkpoint") }
        }
        return nil
    }
}

/// `snapshots/` of a run folder: `step-NNNNNNN.safetensors` and `manifest.json`.
public enum SnapshotFiles {
    public static let folder = RunFiles.snapshots
    public static let manifest = "manifest.json"
    public static func fileName(step: Int) -> String { CheckpointFiles.name(step: step) + ".safetensors" }

    /// The first snapshot after step 0 is at this fraction of training (at least step 1).
    public static let firstSnapshotFraction = 0.005

    /// The planned snapshot steps: 0, then log-spaced from max(1, round(0.5 % · total)) to `total`, rounded and
    /// de-duplicated (so short runs get fewer than `count`). Always starts at 0 and ends at `total`.
    public static func plannedSteps(total: Int, count: Int) -> [Int] {
        guard total > 0 else { return [0] }
        guard count > 2 else { return [0, total] }
        let lo = max(1.0, (firstSnapshotFraction * Double(total)).rounded())
        var out = [0]
        for i in 0..<(count - 1) {
            let t = Double(i) / Double(count - 2)
            let s = min(total, max(1, Int((lo * pow(Double(total) / lo, t)).rounded())))
            if s > out.last! { out.append(s) }
        }
        if out.last! != total { out.append(total) }
        return out
    }

    /// The step of a snapshot file name, or nil.
    public static func step(ofFile name: String) -> Int? {
        guard name.hasSuffix(".safetensors") else { return nil }
        return CheckpointFiles.step(ofName: String(name.dropLast(12)))
    }
    /// Snapshot files of a run by step, ascending.
    public static func files(inRun run: URL) -> [(step: Int, url: URL)] {
        let dir = run.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.compactMap { n in step(ofFile: n).map { ($0, dir.appendingPathComponent(n)) } }.sorted { $0.0 < $1.0 }
    }
}

/// Finds the weights file of a checkpoint given what a user naturally points at: a run folder (its newest
/// complete checkpoint), a checkpoint folder, or a `model.safetensors` file.
public enum CheckpointLocator {
    public static let modelFile = CheckpointFiles.model

    public enum Error: Swift.Error, CustomStringConvertible {
        case notFound(String), noCheckpoint(String)
        /// The run stopped (diverged or failed, by its status.json) before it wrote a checkpoint: training it "first"
        /// would not help, training it differently might.
        case stoppedBeforeCheckpoint(String, RunStatus.State, reason: String?)
        public var description: String {
            switch self {
            case let .notFound(p):
                return "\(p): no such checkpoint. Fix: give a run folder, a checkpoint folder or a model.safetensors file."
            case let .noCheckpoint(p):
                return "\(p): holds no checkpoint yet. Fix: train the run first (ablate train / ablate grid run)."
            case let .stoppedBeforeCheckpoint(p, state, reason):
                let why = reason.map { " (\($0))" } ?? ""
                let fix =
                    state == .diverged
                    ? "train it again with a lower learning_rate or more warmup_steps (ablate train --force, or grid run --force)"
                    : "mend what the reason names, then train it again"
                return "\(p): the run \(state.rawValue) before its first checkpoint\(why), so it has no weights. Fix: \(fix)."
            }
        }
    }

    /// Why the run folder `run` has no checkpoint to use: it stopped before its first one (status.json says diverged
    /// or failed), or it has not been trained that far yet.
    public static func missingCheckpoint(_ path: String, run: URL) -> Error {
        if let status = try? RunJSON.read(RunStatus.self, from: run.appendingPathComponent(RunStatus.fileName)),
            status.state == .diverged || status.state == .failed
        {
            return .stoppedBeforeCheckpoint(path, status.state, reason: status.reason)
        }
        return .noCheckpoint(path)
    }

    /// The newest complete checkpoint folder of a run folder, if any.
    public static func latestCheckpoint(inRun run: URL) -> URL? { CheckpointFiles.newest(inRun: run)?.folder }

    public static func modelFile(at path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw Error.notFound(path) }
        if !isDir.boolValue { return url }
        let direct = url.appendingPathComponent(modelFile)
        if FileManager.default.fileExists(atPath: direct.path) { return direct }
        if let latest = latestCheckpoint(inRun: url) { return latest.appendingPathComponent(modelFile) }
        throw missingCheckpoint(path, run: url)
    }
}

/// `checkpoints/step-N/state.json`: trainer state that is not a tensor. Batches are a function of (seed, step), so
/// `step` is the data position.
public struct CheckpointState: Codable, Sendable, Equatable {
    public var step: Int
    public var tokens: Int
    public var adamStep: Int
    public var elapsed: Double
    public var configHash: String
    /// The model's batch shards (absent in checkpoints written before the key existed: those ran as one shard).
    public var batchShards: Int?
    enum CodingKeys: String, CodingKey {
        case step, tokens, adamStep = "adam_step", elapsed = "elapsed_s", configHash = "config_hash", batchShards = "batch_shards"
    }
    public init(step: Int, tokens: Int, adamStep: Int, elapsed: Double, configHash: String, batchShards: Int?) {
        self.step = step; self.tokens = tokens; self.adamStep = adamStep; self.elapsed = elapsed; self.configHash = configHash
        self.batchShards = batchShards
    }
}

/// `snapshots/manifest.json`: the snapshot plan of a run (written at its start).
public struct SnapshotManifest: Codable, Sendable, Equatable {
    public var format: String
    public var dtype: String
    public var totalSteps: Int
    public var steps: [Int]
    public var tensors: [String]
    enum CodingKeys: String, CodingKey { case format, dtype, totalSteps = "total_steps", steps, tensors }
    public init(format: String, dtype: String, totalSteps: Int, steps: [Int], tensors: [String]) {
        self.format = format; self.dtype = dtype; self.totalSteps = totalSteps; self.steps = steps; self.tensors = tensors
    }
}
