import Foundation

/// status.json: where the run stands. Rewritten (atomically) on every change of state.
public struct RunStatus: RunFormatFile, Sendable, Equatable {
    public static let fileName = RunFiles.status
    public static let formatVersion = 1

    public enum State: String, Codable, Sendable { case running, finished, diverged, failed }
    public var format: FormatVersion?
    public var state: State
    public var step: Int
    public var totalSteps: Int
    public var reason: String?
    public var updatedAt: String

    public init(state: State, step: Int, totalSteps: Int, reason: String? = nil) {
        self.format = FormatVersion(Self.formatVersion)
        self.state = state; self.step = step; self.totalSteps = totalSteps; self.reason = reason
        self.updatedAt = ISO8601DateFormatter().string(from: Date())
    }
    enum CodingKeys: String, CodingKey { case format, state, step, totalSteps = "total_steps", reason, updatedAt = "updated_at" }
}

/// summary.json: the final numbers, written once when the run finishes.
public struct RunSummary: RunFormatFile, Sendable, Equatable {
    public static let fileName = RunFiles.summary
    public static let formatVersion = 1

    public var format: FormatVersion?
    public var finalValLoss: Double
    public var steps: Int
    public var tokens: Int
    /// Seconds of the training loop, summed over the processes that trained the run (a resumed run adds the time of
    /// each attempt up to its last checkpoint). Counted from just before the first step (after start-up, config.json,
    /// status.json and the step-0 snapshot) to the summary: training steps, evaluations (periodic and final),
    /// checkpoints (the final one too), snapshots after step 0 and metrics writes. It leaves out process start,
    /// data and tokenizer loading, model init and resume: `timing` has those. `grid plan` calibrates its
    /// efficiency on it.
    public var elapsed: Double
    public var trainableParameters: Int
    public var totalParameters: Int
    public var nonEmbeddingParameters: Int
    /// Bits per UTF-8 byte of the final evaluation (absent in runs written before it existed).
    public var finalValBpb: Double?
    /// UTF-8 bytes of the target tokens trained on, and the training FLOPs (the model `grid plan` estimates with).
    public var trainBytes: Int?
    public var trainFlops: Double?
    /// Where the wall time of the process that finished the run went (absent in runs written before it existed).
    public var timing: RunTiming?

    public init(
        finalValLoss: Double, steps: Int, tokens: Int, elapsed: Double, trainableParameters: Int,
        totalParameters: Int, nonEmbeddingParameters: Int
    ) {
        format = FormatVersion(Self.formatVersion)
        self.finalValLoss = finalValLoss; self.steps = steps; self.tokens = tokens; self.elapsed = elapsed
        self.trainableParameters = trainableParameters; self.totalParameters = totalParameters
        self.nonEmbeddingParameters = nonEmbeddingParameters
    }
    enum CodingKeys: String, CodingKey {
        case format, finalValLoss = "final_val_loss", steps, tokens, elapsed = "elapsed_s"
        case trainableParameters = "trainable_parameters", totalParameters = "total_parameters"
        case nonEmbeddingParameters = "non_embedding_parameters"
        case finalValBpb = "final_val_bpb", trainBytes = "train_bytes", trainFlops = "train_flops", timing
    }
}

/// summary.json's `timing`: the wall time of the process that finished the run, in seconds, split into disjoint
/// categories. Every category is measured on one monotonic clock over intervals inside [process start, `wall`], so
/// they sum to at most `wall`; `other` is the rest (loop bookkeeping, stop checks, counting the trained bytes). A
/// resumed run's timing covers its last process only, which started at `fromStep`.
public struct RunTiming: Codable, Sendable, Equatable {
    /// Process start (the kernel's start time of the process: before the binary is loaded, and before `ablate`
    /// re-executes itself) to just before summary.json is written. When the start time cannot be read (no /proc),
    /// from the creation of the trainer (`origin` says which).
    public var wall: Double
    /// Process start to the first training step, less the writes counted below: loading the binary, the config
    /// or grid file, the tokenizer and token streams, model init, resume from a checkpoint, provenance.
    public var startup: Double
    /// Training steps: batch, forward, backward, clipping, AdamW (with evaluation, what `grid plan` models).
    public var training: Double
    /// The first step's part of `training` (the first touch of the activation and gradient arenas).
    public var firstStep: Double
    /// Evaluations on the validation set: periodic and final.
    public var evaluation: Double
    /// Checkpoint writes (the final one too).
    public var checkpoints: Double
    /// Embedding-snapshot writes (step 0's too).
    public var snapshots: Double
    /// metrics.jsonl appends, progress output, config.json and status.json writes.
    public var records: Double
    /// `wall` less every category above (never negative).
    public var other: Double
    /// CPU time (user + system) of the process over `wall`: below `wall` × its threads, the process waited for a core
    /// (a loaded machine); nil where the platform does not report it.
    public var cpu: Double?
    /// The step this process started from: 0, or the checkpoint it resumed from.
    public var fromStep: Int
    /// Where `wall` starts: "process" (the kernel's start time) or "trainer" (the trainer's creation).
    public var origin: String

    public init(
        wall: Double, startup: Double, training: Double, firstStep: Double, evaluation: Double, checkpoints: Double,
        snapshots: Double, records: Double, fromStep: Int, origin: String, cpu: Double? = nil
    ) {
        self.wall = wall; self.startup = startup; self.training = training; self.firstStep = firstStep
        self.evaluation = evaluation; self.checkpoints = checkpoints; self.snapshots = snapshots; self.records = records
        self.fromStep = fromStep; self.origin = origin; self.cpu = cpu
        other = max(0, wall - (startup + training + evaluation + checkpoints + snapshots + records))
    }

    /// The categories in report order, with their names (`firstStep` is part of `training`, not a category).
    public var categories: [(name: String, seconds: Double)] {
        [
            ("training", training), ("evaluation", evaluation), ("start-up", startup), ("checkpoints", checkpoints),
            ("snapshots", snapshots), ("records", records), ("other", other),
        ]
    }

    enum CodingKeys: String, CodingKey {
        case wall = "wall_s", startup = "startup_s", training = "training_s", firstStep = "first_step_s"
        case evaluation = "evaluation_s", checkpoints = "checkpoints_s", snapshots = "snapshots_s", records = "records_s"
        case other = "other_s", fromStep = "from_step", origin, cpu = "cpu_s"
    }
}
