import Dataset
import Foundation
import Model
import TensorFile
import Trainer

/// Everything the CLI reads from a run folder or a checkpoint, in one place: the model rebuilt from a checkpoint
/// (with the run's config and tokenizer).
enum RunArtifacts {
    struct LoadedModel {
        let config: TrainConfig
        let trainer: Trainer
        let tokenizer: BPETokenizer
        /// The checkpoint's model.safetensors.
        let file: URL
        var model: GPT { trainer.model }
        /// The checkpoint folder's name (e.g. `step-0001000`), or the file name for a bare weights file.
        var checkpointName: String {
            file.lastPathComponent == CheckpointLocator.modelFile ? file.deletingLastPathComponent().lastPathComponent : file.lastPathComponent
        }
    }

    /// The model of a run folder's latest checkpoint, a checkpoint folder or a model.safetensors file, with the
    /// config embedded in the checkpoint and the tokenizer of its corpus. `batchSize` overrides the run's (the
    /// model's activations are sized for it); `adjust` may replace the run's data (e.g. `eval --tokens`), given the
    /// tokenizer's vocabulary size.
    static func loadModel(at path: String, batchSize: Int? = nil,
                          adjust: (inout RunData, _ vocabSize: Int, TrainConfig) throws -> Void = { _, _, _ in }) throws -> LoadedModel {
        let file = try CheckpointLocator.modelFile(at: path)
        let data = try Data(contentsOf: file)
        let (_, meta) = try Safetensors.decode(data, path: file.path)
        guard let json = meta["config"] else {
            throw CLIError("\(file.path): has no embedded config (not written by `ablate train`).")
        }
        var config = try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8))
        if let batchSize {
            config.batchSize = batchSize
            config.batchShards = min(config.resolvedBatchShards, batchSize)
        }
        let prepared = try DataLoading.prepare(config)
        var runData = try RunData(prepared: prepared, config: config)
        try adjust(&runData, prepared.vocabSize, config)
        let trainer = try Trainer(config: config, data: runData, folder: nil)
        _ = try Checkpoint.loadModel(from: file, into: trainer.model)
        return LoadedModel(config: config, trainer: trainer, tokenizer: prepared.tokenizer, file: file)
    }

    static func hasCheckpoint(_ run: URL) -> Bool { CheckpointLocator.latestCheckpoint(inRun: run) != nil }

    /// Run folders at or below `root` (folders holding a config.json).
    static func runFolders(_ root: URL) throws -> [URL] { try ProbeCommand.runFolders(root) }
}
