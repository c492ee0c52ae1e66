import Kernels

/// The baseline: a V×D table initialised N(0, std) as in GPT-2/nanoGPT and trained with the rest of the model.
public final class LearnedEmbedding: TableLookupStrategy {
    public static let name = "learned"
    public static let summary = "Trainable V×D table, N(0, 0.02) init (GPT-2/nanoGPT); the baseline."
    public static let tensorNames = ["wte"]

    public struct Options: StrategyOptions {
        /// Init standard deviation (nanoGPT: 0.02). Under μP this is σ_base, kept constant in width.
        public var initStd: Double = 0.02
        public init() {}
        enum CodingKeys: String, CodingKey { case initStd = "init_std" }
    }

    public let options: Options
    public let tensors: [TensorSpec]
    private let dModel: Int
    public var tableWidth: Int { dModel }
    private let seed: UInt64

    public init(options: Options, context: EmbeddingContext) throws {
        guard options.initStd > 0 else {
            throw StrategyError.invalidOption(strategy: Self.name, key: "init_std", message: "must be > 0, got \(options.initStd)")
        }
        self.options = options
        self.dModel = context.dModel
        self.seed = context.seed
        // A vector-like tensor under μP: only its output dimension grows with width (Tensor Programs V, table 3).
        tensors = [
            TensorSpec(
                name: Self.tensorNames[0], shape: [context.vocabulary.count, context.dModel],
                trainable: true)
        ]
    }

    public func initialize(_ values: [UnsafeMutableBufferPointer<Float>]) {
        var rng = Xoshiro256(seed: seed, stream: EmbeddingStreams.table)
        for i in values[0].indices { values[0][i] = Float(rng.nextNormal() * options.initStd) }
    }
}
