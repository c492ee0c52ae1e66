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
    public var elapsed: Double
    public var trainableParameters: Int
    public var totalParameters: Int
    public var nonEmbeddingParameters: Int
    /// Bits per UTF-8 byte of the final evaluation (absent in runs written before it existed).
    public var finalValBpb: Double?
    /// UTF-8 bytes of the target tokens trained on, and the training FLOPs (the model `grid plan` estimates with).
    public var trainBytes: Int?
    public var trainFlops: Double?

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
        case finalValBpb = "final_val_bpb", trainBytes = "train_bytes", trainFlops = "train_flops"
    }
}
