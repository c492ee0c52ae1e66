import Foundation
import Model
import RunFormat
import TensorFile

/// Snapshots of the embedding tables during training, for the drift and stability probes (`ablate probe`).
///
///     snapshots/manifest.json               the plan: steps, total steps, dtype, tensor names (written at the start)
///     snapshots/step-NNNNNNN.safetensors    every `embedding.*` tensor of the strategy (trainable or frozen: the
///                                           frozen-random and hashed tables are stored too, so every run has the
///                                           same layout) and `lm_head.weight` (absent when tied), as F16 under
///                                           the checkpoint names; metadata: format, step, total_steps
///
/// Snapshot `s` holds the weights after `s` optimizer steps: step 0 is the initialisation, the last is the
/// final table. The steps are log-spaced: 0, then `count − 1` steps from ⌈0.5 % of training⌉ to the last step
/// (`steps(total:count:)`), so early training is sampled finely and ~10 % of training falls between two
/// snapshots. Each file is written atomically right after its step (before that step's checkpoint), so a run
/// killed and resumed from a checkpoint ends with exactly the snapshots of an uninterrupted run: snapshots after
/// the resumed step are deleted and written again, bit-identically.
public enum EmbeddingSnapshots {
    public static let defaultCount = 12
    public static let folderName = SnapshotFiles.folder
    public static let manifestFile = SnapshotFiles.manifest
    public static let format = "ablate-snapshot-1"
    /// The first snapshot after step 0 is at this fraction of training (at least step 1).
    public static let firstFraction = SnapshotFiles.firstSnapshotFraction

    public typealias Manifest = SnapshotManifest

    /// The planned snapshot steps (`SnapshotFiles.plannedSteps`).
    public static func steps(total: Int, count: Int) -> [Int] { SnapshotFiles.plannedSteps(total: total, count: count) }

    public static func fileName(step: Int) -> String { SnapshotFiles.fileName(step: step) }
    public static func step(ofFile name: String) -> Int? { SnapshotFiles.step(ofFile: name) }

    /// The tensors a snapshot stores: the strategy's tables and the output head.
    public static func tensorNames(_ store: ParameterStore) -> [String] {
        store.parameters.map(\.name).filter { $0.hasPrefix("embedding.") || $0 == "lm_head.weight" }
    }

    public static func folder(_ run: RunFolder) -> URL { run.url.appendingPathComponent(folderName) }

    /// Writes the manifest and removes snapshot files past `currentStep` (left by a run killed after them).
    public static func prepare(store: ParameterStore, totalSteps: Int, count: Int, currentStep: Int, in run: RunFolder) throws {
        let dir = folder(run)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let manifest = Manifest(
            format: format, dtype: Safetensors.DType.f16.rawValue, totalSteps: totalSteps,
            steps: steps(total: totalSteps, count: count), tensors: tensorNames(store))
        try AtomicWrite.write(RunJSON.encode(manifest), to: dir.appendingPathComponent(manifestFile))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
            if let s = step(ofFile: name), s > currentStep { try FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
        }
    }

    /// Writes the snapshot of `step` (atomically).
    public static func write(store: ParameterStore, step: Int, totalSteps: Int, in run: RunFolder) throws {
        let names = Set(tensorNames(store))
        let tensors = Checkpoint.modelTensors(store).filter { names.contains($0.name) }
        let data = Safetensors.encode(
            tensors, metadata: ["format": format, "step": String(step), "total_steps": String(totalSteps)],
            dtype: .f16)
        try AtomicWrite.write(data, to: folder(run).appendingPathComponent(fileName(step: step)))
    }
}
