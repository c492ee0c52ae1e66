import Embeddings
import Foundation
import Kernels
import Model
import RunFormat

/// Receives progress of one run (the CLI draws it; grids aggregate it).
public protocol TrainingObserver: AnyObject {
    func trainer(didLog record: MetricsRecord, totalSteps: Int)
}

/// How a run ended.
public struct RunResult: Sendable {
    public var status: RunStatus
    public var finalValLoss: Double?
    public var steps: Int
    public var tokens: Int
    public var elapsed: Double
    /// Bits per UTF-8 byte of the final evaluation.
    public var finalValBpb: Double? = nil
    /// Where this process's wall time went (finished runs only; summary.json's `timing`).
    public var timing: RunTiming? = nil
}

/// What one training step did (`Trainer.takeStep`).
public struct StepOutcome: Sendable {
    /// Whether the step updated the weights.
    public enum Update: Sendable {
        /// It did, after clipping the global gradient norm `gradNorm` (measured before clipping).
        case applied(gradNorm: Double)
        /// It stopped first, because the loss or a gradient was not finite (`divergence` says which, where).
        case refused(divergence: String)
    }
    public var loss: Double
    public var update: Update
    /// Wall time of the forward pass, the backward pass (with the zeroing of gradients) and the update (gradient norm
    /// and AdamW), nanoseconds; the batch's loading is in none of them.
    public var forward: UInt64, backward: UInt64, optimizer: UInt64
}

/// The training loop: batches → forward → backward → clip → AdamW, with evaluation, metrics, checkpoints, resume.
public final class Trainer {
    public let config: TrainConfig
    public let model: GPT
    public let optimizer: AdamW
    public let schedule: LRSchedule
    public let data: RunData
    public let folder: RunFolder?
    public weak var observer: TrainingObserver?
    public private(set) var step = 0
    private var elapsedBefore = 0.0
    public let configJSON: String
    public let configHash: String
    /// Set when the model's vocabulary is smaller than the config asked for (BPE ran out of merges).
    public private(set) var vocabularyNote: String?
    /// Optimizer steps of the budget (a byte budget resolved with the training split's bytes per token).
    public let totalSteps: Int
    /// Byte length of each token id, for bits per byte.
    public let tokenByteLengths: TokenByteLengths
    private let timer: RunTimer

    /// `timingFromProcessStart`: summary.json's `timing` counts from the start of this process (the CLI, where the
    /// process is the run's); otherwise from the trainer's creation.
    public init(config: TrainConfig, data: RunData, folder: RunFolder?, timingFromProcessStart: Bool = false) throws {
        timer = RunTimer(processStart: timingFromProcessStart)
        try config.validate()
        var modelConfig = try config.modelConfig()
        if data.vocabulary.count != modelConfig.vocabSize {
            // BPE stops early on a small corpus (no pair left to merge): size the model by the real vocabulary.
            guard data.vocabulary.count < modelConfig.vocabSize else {
                throw ConfigError(
                    key: "vocab_size", message: "the tokenizer has \(data.vocabulary.count) tokens but vocab_size is \(modelConfig.vocabSize)",
                    fix: "set vocab_size to \(data.vocabulary.count) or retrain the tokenizer")
            }
            vocabularyNote =
                "the tokenizer stopped at \(data.vocabulary.count) tokens (no pair left to merge in this corpus), below vocab_size \(modelConfig.vocabSize); the model uses \(data.vocabulary.count)"
            modelConfig.vocabSize = data.vocabulary.count
        }
        let needed = config.contextLength + 1
        guard data.trainTokens >= needed, data.validationTokens >= needed else {
            throw ConfigError(
                key: "context_length",
                message:
                    "the corpus '\(config.corpus)' has \(min(data.trainTokens, data.validationTokens)) tokens in its smaller split, fewer than one window of context_length + 1 = \(needed)",
                fix: "lower context_length or use a larger corpus")
        }
        if config.maxTrainBytes != nil && data.trainSplit == nil {
            throw ConfigError(
                key: "max_train_bytes", message: "this run's data does not say how many bytes its training split holds",
                fix: "use max_steps or max_tokens with this data source")
        }
        let steps = try config.checkedSteps(trainSplit: data.trainSplit)
        totalSteps = steps
        tokenByteLengths = TokenByteLengths(data.vocabulary)
        let context = EmbeddingContext(
            vocabulary: data.vocabulary, dModel: modelConfig.dModel, seed: config.seed,
            parametrization: modelConfig.resolvedParametrization)
        let strategy = try StrategyRegistry.make(name: config.strategy, options: config.strategyOptionsObject, context: context)
        self.config = config
        self.data = data
        self.folder = folder
        model = try GPT(
            config: modelConfig, strategy: strategy, batchSize: config.batchSize,
            shards: config.resolvedBatchShards, seed: config.seed)
        optimizer = AdamW(
            store: model.store, beta1: config.beta1, beta2: config.beta2, eps: config.adamEps,
            weightDecay: config.weightDecay)
        schedule = config.learningRateSchedule(totalSteps: steps)
        configJSON = String(decoding: try RunJSON.encode(config, pretty: false), as: UTF8.self)
        configHash = try ConfigHash.of(config)
    }

    /// The resolved config written to config.json: the config, the model shape, the strategy's full options,
    /// parameter counts and provenance.
    public func resolvedConfig() throws -> ResolvedRunConfig {
        let store = model.store
        let embeddingCount = store.parameters.filter { $0.kind == .embedding }.reduce(0) { $0 + $1.count }
        return ResolvedRunConfig(
            config: config, model: model.config,
            strategyOptions: try JSONValue(any: StrategyRegistry.encodeToObject(model.strategy.options)),
            parameters: ParameterCounts(
                total: store.totalCount, trainable: store.trainableCount, embedding: embeddingCount,
                nonEmbedding: model.config.nonEmbeddingParameters,
                optimizerStateBytes: optimizer.stateBytes),
            provenance: Provenance(
                packageVersion: AblateVersion.string, gitCommit: Provenance.gitCommit(),
                corpusSHA256: data.corpusSHA256, tokenizerSHA256: data.tokenizerSHA256,
                seed: config.seed, blasCore: BLAS.coreName, cpu: CPUInfo.summary, threads: config.threads,
                createdAt: ISO8601DateFormatter().string(from: Date())),
            configHash: configHash, batchShards: model.shardCount,
            schedule: ScheduleRecord(
                kind: schedule.kind.rawValue, warmupSteps: schedule.warmupSteps, decayStartStep: schedule.decayStart,
                totalSteps: schedule.totalSteps, decayStartTokens: schedule.decayStart * config.batchSize * config.contextLength))
    }

    /// Set by `resumeIfPossible` when the resumed run cannot continue bit-identically, or resumed from an older
    /// checkpoint than `checkpoints/latest` names (for the caller to print).
    public private(set) var resumeNote: String?

    /// Restores the newest checkpoint of the run folder, if any, and returns the step resumed from. Without a
    /// checkpoint the run starts from step 0 and metrics of an earlier, lost attempt are dropped.
    @discardableResult
    public func resumeIfPossible() throws -> Int? {
        resumeNote = nil
        guard let folder else { return nil }
        // Temporary files of a writer killed mid-write would otherwise stay for good (and make the folder look foreign).
        // probes.json and samples.json are written without the run's lock, perhaps from another machine: left alone.
        AtomicWrite.removeStaleTemporaries(in: folder.url, sparing: [RunFiles.probes, RunFiles.samples])
        guard let resolved = CheckpointFiles.newest(inRun: folder.url) else {
            // Killed before its first checkpoint: start over, dropping the metrics of the lost steps.
            try folder.truncateMetrics(toStep: 0)
            return nil
        }
        let ckpt = resolved.folder
        let stateURL = ckpt.appendingPathComponent(Checkpoint.stateFile)
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL)) } catch {
            throw CheckpointError(
                path: stateURL.path, message: "cannot be read as a checkpoint state (\(FileProblem.describe(error)))",
                fix: "delete the checkpoint folder \(ckpt.path) to resume from an earlier checkpoint, or pass --force to start over")
        }
        guard state.configHash == configHash else {
            throw ConfigError(
                key: "config",
                message: "the run folder \(folder.url.path) holds a checkpoint of a different config"
                    + ((try? folder.read(ResolvedRunConfig.self).config.differences(to: config)) ?? ""),
                fix:
                    "resume with the run's own settings (`ablate train --resume --out \(folder.url.path)` alone reuses them), use a new --out, or pass --force to discard the run and start over"
            )
        }
        let metadata = try Checkpoint.loadModel(from: ckpt.appendingPathComponent(Checkpoint.modelFile), into: model)
        let trainedWith = Checkpoint.configRebuilding(config, metadata: metadata)
        guard trainedWith.strategyOptions == config.strategyOptions else {
            let given = trainedWith.strategyOptions.filter { config.strategyOptions[$0.key] == nil }
            throw ConfigError(
                key: "strategy_options",
                message:
                    "the run folder \(folder.url.path) holds a checkpoint trained before table strategies followed μP's table scale: its \(config.strategy) table ran with \(given.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), which this version would change to μP's defaults (init_std \(TableScale.muP.initStd), input_multiplier \(TableScale.muP.inputMultiplier)) mid-run",
                fix:
                    "pass --force to retrain it with μP's table scale, or train it anew with those options set explicitly (the μP network with a plain table)"
            )
        }
        try Checkpoint.loadOptimizer(from: ckpt.appendingPathComponent(Checkpoint.optimizerFile), into: optimizer, store: model.store)
        step = state.step
        elapsedBefore = state.elapsed
        let shardsBefore = state.batchShards ?? 1
        resumeNote = resolved.note
        if shardsBefore != model.shardCount {
            resumeNote =
                (resumeNote.map { $0 + "; " } ?? "")
                + "the checkpoint was trained with \(shardsBefore) batch shard(s), this resume uses \(model.shardCount): "
                + "the remaining steps round differently from an uninterrupted run (set batch_shards to keep them equal)"
        }
        try folder.truncateMetrics(toStep: step)
        return step
    }

    /// The factor that scales the gradients to global norm `grad_clip` when their norm exceeds it (1 otherwise).
    public func clipScale(gradNorm: Double) -> Float {
        config.gradClip > 0 && gradNorm > config.gradClip ? Float(config.gradClip / gradNorm) : 1
    }

    /// Training step `step` — batch, forward, zeroed gradients, backward, global gradient norm, AdamW at `lr` with
    /// the norm clipped to `grad_clip` — with each operation timed into `profile` when one is given (the model must
    /// carry the same profile for its own operations to be timed). The one step body of the training loop and the
    /// benchmark. Stops after the forward pass when the loss is not finite, and before the update when a gradient is not.
    public func takeStep(_ step: Int, lr: Double, profile: StepProfile? = nil) -> StepOutcome {
        profile.measure(.data) { data.batches.trainBatch(step: step, inputs: model.inputs, targets: model.targets) }
        let t0 = StepProfile.now()
        let loss = model.forward(batch: config.batchSize)
        let t1 = StepProfile.now()
        // Messages number steps as metrics.jsonl does: `step` (from 0) is the (step + 1)-th, logged as step + 1.
        guard loss.isFinite else {
            return StepOutcome(
                loss: loss, update: .refused(divergence: "non-finite training loss (\(loss.isNaN ? "nan" : "\(loss)")) at step \(step + 1)"),
                forward: t1 - t0, backward: 0, optimizer: 0)
        }
        profile.measure(.parameterGradientZeroingAndNorm) { model.store.zeroGradients() }
        model.backward()
        let t2 = StepProfile.now()
        let sumSquares = profile.measure(.parameterGradientZeroingAndNorm) {
            Elementwise.sumOfSquares(model.store.gradients, count: model.store.gradientCount)
        }
        guard sumSquares.isFinite else {
            return StepOutcome(
                loss: loss, update: .refused(divergence: "non-finite gradient at step \(step + 1) in tensor '\(firstNonFiniteGradient() ?? "?")'"),
                forward: t1 - t0, backward: t2 - t1, optimizer: 0)
        }
        let gradNorm = sumSquares.squareRoot()
        profile.measure(.adamW) { optimizer.step(lr: lr, gradScale: clipScale(gradNorm: gradNorm)) }
        let t3 = StepProfile.now()
        return StepOutcome(loss: loss, update: .applied(gradNorm: gradNorm), forward: t1 - t0, backward: t2 - t1, optimizer: t3 - t2)
    }

    /// Mean loss over the fixed validation set of `batches` batches, with the bytes of its predicted tokens.
    public func evaluate(batches: Int) -> Evaluation {
        var total = 0.0, bytes = 0
        let perBatch = config.batchSize * config.contextLength
        for i in 0..<batches {
            data.batches.validationBatch(index: i, of: batches, inputs: model.inputs, targets: model.targets)
            bytes += tokenByteLengths.bytes(of: model.targets, count: perBatch)
            total += model.forward(batch: config.batchSize, forBackward: false)
        }
        return Evaluation(loss: total / Double(batches), tokens: batches * perBatch, bytes: bytes)
    }

    /// UTF-8 bytes of the target tokens of training steps 0..<steps, exactly: batches are a pure function of the
    /// step, so they are drawn again (one copy and look-up per token, negligible beside a step's forward pass).
    public func trainedBytes(steps: Int) -> Int {
        let count = config.batchSize * config.contextLength
        let inputs = UnsafeMutablePointer<Int32>.allocate(capacity: count), targets = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        defer { inputs.deallocate(); targets.deallocate() }
        var bytes = 0
        for s in 0..<steps {
            data.batches.trainBatch(step: s, inputs: inputs, targets: targets)
            bytes += tokenByteLengths.bytes(of: targets, count: count)
        }
        return bytes
    }

    /// Trains to the end of the budget (or until `shouldStop` says so, after writing a checkpoint). An error (a
    /// failed write: disk full, …) marks the run `failed` with the reason before it is thrown.
    public func run(shouldStop: () -> Bool = { false }) throws -> RunResult {
        do { return try train(shouldStop: shouldStop) } catch {
            try? folder?.writeStatus(RunStatus(state: .failed, step: step, totalSteps: totalSteps, reason: "\(error)"))
            throw error
        }
    }

    private func train(shouldStop: () -> Bool) throws -> RunResult {
        BLAS.setThreads(config.threads)
        let total = totalSteps
        let tokensPerStep = config.batchSize * config.contextLength
        if let folder {
            try folder.create()
            let resolved = try resolvedConfig()
            try timer.time(.records) {
                try folder.write(resolved)
                try folder.writeStatus(RunStatus(state: .running, step: step, totalSteps: total))
            }
        }
        let snapshotSteps = Set(
            folder != nil && config.snapshotsEnabled
                ? EmbeddingSnapshots.steps(total: total, count: config.resolvedSnapshotCount) : [])
        if let folder, config.snapshotsEnabled {
            try timer.time(.snapshots) {
                try EmbeddingSnapshots.prepare(
                    store: model.store, totalSteps: total, count: config.resolvedSnapshotCount,
                    currentStep: step, in: folder)
                if snapshotSteps.contains(step) { try EmbeddingSnapshots.write(store: model.store, step: step, totalSteps: total, in: folder) }
            }
        }
        timer.trainingBegins(atStep: step)
        let firstStep = step  // this process's first step (a resumed run's too): its time is recorded apart
        let clock = timer.clock
        let start = clock.now
        var windowStart = start
        var windowTokens = 0
        func elapsed() -> Double { elapsedBefore + (clock.now - start).seconds }

        while step < total {
            if shouldStop() {
                try saveCheckpoint(elapsed: elapsed())
                let status = RunStatus(state: .running, step: step, totalSteps: total, reason: "interrupted; resume to continue")
                try folder?.writeStatus(status)
                return RunResult(status: status, finalValLoss: nil, steps: step, tokens: step * tokensPerStep, elapsed: elapsed())
            }
            let lr = schedule.lr(at: step)
            let stepStart = clock.now
            let outcome = takeStep(step, lr: lr)
            let loss = outcome.loss, gradNorm: Double
            switch outcome.update {
            case .refused(let reason): return try diverged(reason, elapsed: elapsed())
            case .applied(let norm): gradNorm = norm
            }
            let stepTime = clock.now - stepStart
            timer.add(.training, stepTime)
            if step == firstStep { timer.recordFirstStep(stepTime) }
            step += 1
            windowTokens += tokensPerStep

            let isLast = step == total
            let evalNow = step % config.evalInterval == 0 || isLast
            if step % config.logInterval == 0 || evalNow || step == 1 {
                let now = clock.now
                let rate = Double(windowTokens) / max((now - windowStart).seconds, 1e-9)
                // Every point of the curve is on the same `eval_batches` set (a curve that switched sets at its last
                // point would show a drop or rise that is only the change of set); the last step also evaluates the
                // larger final set, which summary.json reports.
                let evaluation = evalNow ? timer.time(.evaluation) { evaluate(batches: config.evalBatches) } : nil
                let final =
                    isLast
                    ? (config.finalEvalBatches == config.evalBatches
                        ? evaluation : timer.time(.evaluation) { evaluate(batches: config.finalEvalBatches) })
                    : nil
                let record = MetricsRecord(
                    step: step, tokens: step * tokensPerStep, trainLoss: loss, valLoss: evaluation?.loss,
                    lr: lr, gradNorm: gradNorm, tokensPerSecond: rate, elapsed: elapsed(), valBpb: evaluation?.bitsPerByte,
                    finalValLoss: final?.loss, finalValBpb: final?.bitsPerByte)
                try timer.time(.records) {
                    try folder?.appendMetrics(record)
                    observer?.trainer(didLog: record, totalSteps: total)
                }
                windowStart = clock.now; windowTokens = 0
                if let v = evaluation?.loss, !v.isFinite { return try diverged("non-finite validation loss at step \(step)", elapsed: elapsed()) }
                if let v = final?.loss, !v.isFinite { return try diverged("non-finite final validation loss at step \(step)", elapsed: elapsed()) }
            }
            if let folder, snapshotSteps.contains(step) {
                try timer.time(.snapshots) { try EmbeddingSnapshots.write(store: model.store, step: step, totalSteps: total, in: folder) }
            }
            if step % config.checkpointInterval == 0 && !isLast {
                try saveCheckpoint(elapsed: elapsed())
                // A killed run leaves status.json at its last checkpoint, where a resume continues (`grid plan` shows it).
                try timer.time(.records) { try folder?.writeStatus(RunStatus(state: .running, step: step, totalSteps: total)) }
            }
        }

        // The last metrics line holds the final evaluation (on `final_eval_batches`): `final_val_loss`, or `val_loss`
        // in a line written before the two were recorded separately (a run resumed across that change).
        let lastLine = try timer.time(.records) { try folder.flatMap { try MetricsFile.lines(at: $0.metricsURL).last } }
        let recorded = lastLine.flatMap { l in l.finalValLoss.map { ($0, l.finalValBpb) } ?? l.valLoss.map { ($0, l.valBpb) } }
        let finalEvaluation = recorded == nil ? timer.time(.evaluation) { evaluate(batches: config.finalEvalBatches) } : nil
        let finalVal = recorded?.0 ?? finalEvaluation!.loss
        let finalBpb = recorded != nil ? recorded?.1 : finalEvaluation?.bitsPerByte
        try saveCheckpoint(elapsed: elapsed())
        let status = RunStatus(state: .finished, step: step, totalSteps: total)
        var timing: RunTiming?
        if let folder {
            var summary = RunSummary(
                finalValLoss: finalVal, steps: step, tokens: step * tokensPerStep,
                elapsed: elapsed(), trainableParameters: model.store.trainableCount,
                totalParameters: model.store.totalCount,
                nonEmbeddingParameters: model.config.nonEmbeddingParameters)
            summary.finalValBpb = finalBpb
            summary.trainBytes = trainedBytes(steps: step)
            summary.trainFlops = TrainingCost.flops(config: config, model: model.config, steps: step)
            timing = timer.timing()
            summary.timing = timing
            try folder.write(summary)
            try folder.writeStatus(status)
        }
        return RunResult(
            status: status, finalValLoss: finalVal, steps: step, tokens: step * tokensPerStep, elapsed: elapsed(), finalValBpb: finalBpb,
            timing: timing ?? timer.timing())
    }

    private func saveCheckpoint(elapsed: Double) throws {
        try timer.time(.checkpoints) { try writeCheckpoint(elapsed: elapsed) }
    }

    private func writeCheckpoint(elapsed: Double) throws {
        guard let folder else { return }
        let state = TrainerState(
            step: step, tokens: step * config.batchSize * config.contextLength,
            adamStep: optimizer.stepCount, elapsed: elapsed, configHash: configHash,
            batchShards: model.shardCount)
        do {
            try Checkpoint.save(
                model: model, optimizer: optimizer, state: state, configJSON: configJSON,
                vocabularyFingerprint: data.vocabulary.fingerprint, in: folder)
        } catch {
            // Leave no half-written step-N.tmp behind; earlier checkpoints are untouched.
            let tmp = folder.checkpointsURL.appendingPathComponent(Checkpoint.name(step: step) + ".tmp")
            try? FileManager.default.removeItem(at: tmp)
            throw CheckpointError(
                path: tmp.path, message: "the checkpoint of step \(step) could not be written (\(FileProblem.describe(error)))",
                fix: "free disk space (or fix the folder's permissions), then continue with `ablate train --resume --out \(folder.url.path)`")
        }
    }

    private func diverged(_ reason: String, elapsed: Double) throws -> RunResult {
        let status = RunStatus(state: .diverged, step: step, totalSteps: totalSteps, reason: reason)
        try folder?.writeStatus(status)
        return RunResult(
            status: status, finalValLoss: nil, steps: step, tokens: step * config.batchSize * config.contextLength,
            elapsed: elapsed)
    }

    private func firstNonFiniteGradient() -> String? {
        for p in model.store.parameters {
            guard let g = model.store.gradient(p) else { continue }
            if !Elementwise.allFinite(g, count: p.count) { return p.name }
        }
        return nil
    }
}

/// config.json as the trainer writes it: its own config and model types in the `config` and `model` sections.
public typealias ResolvedRunConfig = RunConfigFile<TrainConfig, ModelConfig>

/// A stable hash of a canonical config (FNV-1a 64, hex): identifies "the same run" across invocations.
public enum ConfigHash {
    /// The hash of a config's experiment: `threads` is a resource setting (the grid runner picks it from --jobs),
    /// so it does not enter the hash; everything else does.
    public static func of(_ config: TrainConfig) throws -> String {
        var c = config
        c.threads = 1
        return hex(try RunJSON.encode(c, pretty: false))
    }
    public static func hex(_ data: Data) -> String { String(format: "%016llx", FNV1a.hash(data)) }
}
