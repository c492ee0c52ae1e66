import Dataset
import Foundation
import Model
import RunFormat
import TensorFile
import Trainer

/// Everything the sample and export commands read from a run folder or a checkpoint, in one place: the model
/// rebuilt from a checkpoint (with the run's config and tokenizer), and a run's config, summary, status and metrics
/// as plain values.
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
    static func loadModel(
        at path: String, batchSize: Int? = nil,
        adjust: (inout RunData, _ vocabSize: Int, TrainConfig) throws -> Void = { _, _, _ in }
    ) throws -> LoadedModel {
        let file = try CheckpointLocator.modelFile(at: path)
        let data = try Data(contentsOf: file)
        let (_, meta) = try Safetensors.decode(data, path: file.path)
        guard let json = meta["config"] else {
            throw CLIError("\(file.path): has no embedded config (not written by `ablate train`).")
        }
        var config: TrainConfig
        do { config = try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8)) } catch {
            throw CLIError("\(file.path): its embedded config cannot be read (\(error)). Fix: use a checkpoint written by `ablate train`.")
        }
        if let batchSize {
            config.batchSize = batchSize
            config.batchShards = min(config.resolvedBatchShards, batchSize)
        }
        do { try config.validate() } catch var e as ConfigError {
            e.file = "\(file.path) (embedded config)"
            throw e
        }
        // The checkpoint names its corpus (perhaps a path on another machine): this reads a corpus prepared before
        // (by the training run) and never prepares one, so nothing is written for a name found in a file.
        let home = AblateHome.fromEnvironment()
        let corpusName = CorpusReference.preparedName(config.corpus)
        guard PathName.problem(corpusName) == nil,
            FileManager.default.fileExists(atPath: home.corpusURL(corpusName).appendingPathComponent("manifest.json").path)
        else {
            throw CLIError(
                "\(file.path): its config's corpus '\(config.corpus)' is not prepared in \(home.url.path) (reading a checkpoint "
                    + "never prepares a corpus). Fix: point ABLATE_HOME at the folder the run was trained with, or prepare it: "
                    + "ablate data prepare --corpus PATH --name \(corpusName).")
        }
        let prepared = try PreparedData.load(corpus: corpusName, vocabSize: config.vocabSize, home: home)
        var runData = try RunData(prepared: prepared, config: config)
        if let recorded = meta["vocabulary_fnv64"], recorded != runData.vocabulary.fingerprint {
            throw CLIError(
                "\(file.path): was trained with another vocabulary (fingerprint \(recorded)) than corpus '\(corpusName)' at vocab_size "
                    + "\(config.vocabSize) gives (\(runData.vocabulary.fingerprint)). Fix: use the ABLATE_HOME the run was trained with.")
        }
        try adjust(&runData, prepared.vocabSize, config)
        // A checkpoint from before tables followed μP's table scale is rebuilt with the scale it was trained with.
        config = Checkpoint.configRebuilding(config, metadata: meta)
        let trainer = try Trainer(config: config, data: runData, folder: nil)
        _ = try Checkpoint.loadModel(from: file, into: trainer.model)
        return LoadedModel(config: config, trainer: trainer, tokenizer: prepared.tokenizer, file: file)
    }

    static func hasCheckpoint(_ run: URL) -> Bool { CheckpointLocator.latestCheckpoint(inRun: run) != nil }

    /// Run folders at or below `root` (folders holding a config.json).
    static func runFolders(_ root: URL) throws -> [URL] { try ProbeCommand.runFolders(root) }

    /// A JSON object file of a run folder (config.json, summary.json, status.json), nil when absent.
    static func object(_ name: String, in run: URL) throws -> [String: JSONValue]? {
        let url = run.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let value: JSONValue
        do {
            value = try RunJSON.decoder.decode(JSONValue.self, from: data)
        } catch {
            throw CLIError(
                "\(url.path): is not valid JSON (\(data.isEmpty ? "empty" : "truncated or corrupt")). Fix: re-run the run (`ablate grid run` "
                    + "or `ablate train --resume` continues it), or move its folder out of the way.")
        }
        guard case let .object(o) = value else {
            throw CLIError("\(url.path): is not a JSON object. Fix: re-run the run, or move its folder out of the way.")
        }
        return o
    }

    /// One row per run: the resolved config (config.json, flattened as `config.seed`, `model.d_model`,
    /// `parameters.total`, `provenance.git_commit`, …), `summary.*` (final nats, tokens, elapsed) and `status.*`.
    static func runRow(_ run: URL, id: String) throws -> [String: CSVValue] {
        var row: [String: CSVValue] = ["run_id": .text(id)]
        for (file, prefix) in [("config.json", ""), ("summary.json", "summary"), ("status.json", "status")] {
            if let o = try object(file, in: run) { row.merge(CSVTable.flatten(o, prefix: prefix)) { a, _ in a } }
        }
        return row
    }

    /// metrics.jsonl in long format: one row per (step, split) with the step's learning rate; grad norm and
    /// throughput on train rows.
    static func metricRows(_ run: URL, id: String) throws -> [[String: CSVValue]] {
        func value(_ x: Double?) -> CSVValue { x.map { .number($0) } ?? .missing }
        var rows: [[String: CSVValue]] = []
        for m in try RunFolder(run).readMetrics() {
            let common: [String: CSVValue] = [
                "run_id": .text(id), "step": .integer(m.step), "tokens": .integer(m.tokens),
                "lr": .number(m.lr), "elapsed_s": .number(m.elapsed),
            ]
            if let loss = m.trainLoss {
                rows.append(
                    common.merging([
                        "split": .text("train"), "loss": .number(loss), "grad_norm": value(m.gradNorm),
                        "tokens_per_s": .number(m.tokensPerSecond),
                    ]) { a, _ in a })
            }
            if let loss = m.valLoss {
                rows.append(common.merging(["split": .text("val"), "loss": .number(loss), "bpb": value(m.valBpb)]) { a, _ in a })
            }
        }
        return rows
    }
    static let metricColumns = ["run_id", "step", "tokens", "split", "loss", "bpb", "lr", "grad_norm", "tokens_per_s", "elapsed_s"]
}
