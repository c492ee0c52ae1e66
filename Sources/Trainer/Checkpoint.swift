import Embeddings
import Foundation
import Model
import RunFormat
import TensorFile

/// state.json of a checkpoint (declared in RunFormat).
public typealias TrainerState = CheckpointState

/// Checkpoints: `model.safetensors` (every model tensor, frozen ones included, under its nanoGPT-style name,
/// row-major F32: Linear weights are [out, in] as in torch.nn.Linear), `optimizer.safetensors` (`exp_avg.<name>`,
/// `exp_avg_sq.<name>` for trainable tensors) and `state.json`. Written into `step-N.tmp/` and renamed, so a
/// checkpoint folder either exists whole or not at all.
public enum Checkpoint {
    public static let modelFile = CheckpointFiles.model
    public static let optimizerFile = CheckpointFiles.optimizer
    public static let stateFile = CheckpointFiles.state

    public static func name(step: Int) -> String { CheckpointFiles.name(step: step) }

    public static func modelTensors(_ store: ParameterStore) -> [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] {
        store.parameters.map { p in (p.name, p.spec.shape, UnsafeBufferPointer(start: store.value(p), count: p.count)) }
    }

    public static func save(
        model: GPT, optimizer: AdamW, state: TrainerState, configJSON: String,
        vocabularyFingerprint: String, in folder: RunFolder, keepLast: Int = 2
    ) throws {
        let fm = FileManager.default
        let final = folder.checkpointsURL.appendingPathComponent(name(step: state.step))
        let tmp = folder.checkpointsURL.appendingPathComponent(name(step: state.step) + ".tmp")
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        let store = model.store
        let meta = [
            "format": "ablate-checkpoint-1", "step": String(state.step), "config": configJSON,
            "vocabulary_fnv64": vocabularyFingerprint, strategyOptionsKey: try resolvedOptionsJSON(model.strategy),
        ]
        try AtomicWrite.write(Safetensors.encode(modelTensors(store), metadata: meta), to: tmp.appendingPathComponent(modelFile))
        var moments: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = []
        for p in store.parameters {
            guard let o = p.gradientOffset else { continue }
            moments.append(("exp_avg." + p.name, p.spec.shape, UnsafeBufferPointer(start: optimizer.m + o, count: p.count)))
            moments.append(("exp_avg_sq." + p.name, p.spec.shape, UnsafeBufferPointer(start: optimizer.v + o, count: p.count)))
        }
        try AtomicWrite.write(
            Safetensors.encode(moments, metadata: ["adam_step": String(optimizer.stepCount)]),
            to: tmp.appendingPathComponent(optimizerFile))
        try AtomicWrite.write(RunJSON.encode(state), to: tmp.appendingPathComponent(stateFile))
        try? fm.removeItem(at: final)
        try AtomicWrite.move(tmp, to: final)
        try AtomicWrite.write(Data(name(step: state.step).utf8), to: folder.checkpointsURL.appendingPathComponent(RunFiles.latest))
        // Keep the newest `keepLast` complete checkpoints.
        let all = (try? fm.contentsOfDirectory(atPath: folder.checkpointsURL.path)) ?? []
        let steps = all.filter { CheckpointFiles.step(ofName: $0) != nil }.sorted()
        for old in steps.dropLast(keepLast) { try? fm.removeItem(at: folder.checkpointsURL.appendingPathComponent(old)) }
    }

    /// Metadata key of the strategy's options as resolved (after the parametrization's defaults), as in config.json.
    public static let strategyOptionsKey = "strategy_options"

    static func resolvedOptionsJSON(_ strategy: any EmbeddingStrategy) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: StrategyRegistry.encodeToObject(strategy.options), options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The config that rebuilds the model a checkpoint was trained with. A checkpoint without `strategy_options` was
    /// written before a table's `init_std` and `input_multiplier` followed the parametrization (`TableScale`): then
    /// every table strategy but `mup` ran with SP's scale under μP too, so a μP run that left them unset gets SP's
    /// values back. Anything else is returned unchanged.
    public static func configRebuilding(_ config: TrainConfig, metadata: [String: String]) -> TrainConfig {
        guard metadata[strategyOptionsKey] == nil, config.parametrization == "mup", config.strategy != MuPEmbedding.name,
            let type = try? StrategyRegistry.type(named: config.strategy)
        else { return config }
        var rebuilt = config
        let keys = StrategyRegistry.defaultOptions(of: type).keys
        for (key, value) in [("init_std", TableScale.standard.initStd), ("input_multiplier", TableScale.standard.inputMultiplier)]
        where keys.contains(key) && config.strategyOptions[key] == nil {
            rebuilt.strategyOptions[key] = .double(value)
        }
        return rebuilt
    }

    /// The newest complete checkpoint folder of a run, if any.
    public static func latest(in folder: RunFolder) -> URL? { CheckpointFiles.newest(inRun: folder.url)?.folder }

    /// Loads weights into `model` by name; every tensor must be present with the same shape.
    public static func loadModel(from file: URL, into model: GPT) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw CheckpointError(path: file.path, message: "cannot be read (\(error.localizedDescription))")
        }
        let (tensors, meta) = try Safetensors.decode(data, path: file.path)
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for p in model.store.parameters {
            guard let t = byName[p.name] else {
                throw CheckpointError(path: file.path, message: "has no tensor '\(p.name)' (written for another model or strategy?)")
            }
            guard t.shape == p.spec.shape else {
                let hint =
                    p.name.hasPrefix("embedding.") || p.name == "lm_head.weight"
                    ? " — the checkpoint's vocabulary or width differs from the config" : ""
                throw CheckpointError(path: file.path, message: "tensor '\(p.name)' has shape \(t.shape), the model expects \(p.spec.shape)\(hint)")
            }
            t.values.withUnsafeBufferPointer { model.store.value(p).update(from: $0.baseAddress!, count: p.count) }
        }
        return meta
    }

    public static func loadOptimizer(from file: URL, into optimizer: AdamW, store: ParameterStore) throws {
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw CheckpointError(
                path: file.path, message: "cannot be read (\(FileProblem.describe(error)))",
                fix:
                    "delete the checkpoint folder \(file.deletingLastPathComponent().path) to resume from an earlier checkpoint, or pass --force to start over"
            )
        }
        let (tensors, meta) = try Safetensors.decode(data, path: file.path)
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for p in store.parameters {
            guard let o = p.gradientOffset else { continue }
            guard let m = byName["exp_avg." + p.name], let v = byName["exp_avg_sq." + p.name],
                m.values.count == p.count, v.values.count == p.count
            else {
                throw CheckpointError(path: file.path, message: "optimizer state for '\(p.name)' is missing or has the wrong size")
            }
            m.values.withUnsafeBufferPointer { (optimizer.m + o).update(from: $0.baseAddress!, count: p.count) }
            v.values.withUnsafeBufferPointer { (optimizer.v + o).update(from: $0.baseAddress!, count: p.count) }
        }
        optimizer.stepCount = Int(meta["adam_step"] ?? "") ?? 0
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var fix = "point at a checkpoint written for this config, or start the run afresh"
    public var description: String { "\(path): \(message). Fix: \(fix)." }
}
