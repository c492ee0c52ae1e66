import Kernels

/// The baseline: a V×D table initialised N(0, init_std²) and trained with the rest of the model. Under SP: 0.02 and no
/// multiplier (GPT-2/nanoGPT); under μP: σ_base 0.08 and output × α_in 10 (`TableScale`), the table `mup` names.
public final class LearnedEmbedding: TableLookupStrategy {
    public static let name = "learned"
    public static let summary = "Trainable V×D table: N(0, 0.02) init under SP (GPT-2/nanoGPT; the baseline), σ 0.08 and output × 10 under μP."
    public static let tensorNames = ["wte"]

    public struct Options: TableScaleOptions {
        /// Init standard deviation (SP: nanoGPT's 0.02; μP: σ_base, constant in width).
        public var initStd: Double = TableScale.standard.initStd
        /// The model multiplies the output by this (SP: 1; μP: α_in).
        public var inputMultiplier: Double = TableScale.standard.inputMultiplier
        public init() {}
        enum CodingKeys: String, CodingKey { case initStd = "init_std", inputMultiplier = "input_multiplier" }
    }

    public let options: Options
    public let tensors: [TensorSpec]
    private let dModel: Int
    public var tableWidth: Int { dModel }
    private let seed: UInt64

    public convenience init(options: Options, context: EmbeddingContext) throws {
        try self.init(options: options, context: context, strategy: Self.name)
    }

    /// `strategy`: the name errors report (`mup` builds its table through this one).
    init(options: Options, context: EmbeddingContext, strategy: String) throws {
        try options.tableScale.validate(strategy: strategy)
        self.options = options
        self.dModel = context.dModel
        self.seed = context.seed
        // A vector-like tensor under μP: only its output dimension grows with width, so it keeps its init and Adam LR
        // at every width (Tensor Programs V, table 3).
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
