import Kernels

/// A learned V×D table under μP (maximal update parametrization; Yang et al., "Tensor Programs V", 2022).
///
/// The input embedding is *vector-like* (only its output dimension grows with width), so under μP with Adam it keeps
/// its init σ_base and its learning rate η at every width, and its output is multiplied by a constant α_in.
/// Defaults follow the Cerebras-GPT μP recipe (Dey et al. 2023; base width 256): σ_base = 0.08 (option `init_std`)
/// and α_in = 10 (option `input_multiplier`), so at init the embedding the first block sees has std 0.8.
/// Choice: `init_std` defaults to the recipe's σ_base (0.08), not nanoGPT's 0.02, because under μP it is the same
/// σ_base the model uses for every other tensor; if the trainer's σ_base is changed, change this option with it.
///
/// μP is a property of the whole network: this strategy only supplies the embedding's part (init, LR multiplier 1,
/// α_in through `outputMultiplier`). The rest — hidden matrices σ/√m and η/m, the readout's α_out/m, attention
/// q·k/d_head — is applied by the model, so the strategy **requires** `context.parametrization == .mup`.
public final class MuPEmbedding: TableLookupStrategy {
    public static let name = "mup"
    public static let summary = "Trainable V×D table under μP: σ_base 0.08 init, output × α_in = 10 (Cerebras recipe); needs parametrization: mup."
    public static let tensorNames = ["wte"]

    public struct Options: StrategyOptions {
        /// σ_base: init standard deviation, constant in width.
        public var initStd: Double = 0.08
        /// α_in: the embedding output is multiplied by this (by the model, via `outputMultiplier`).
        public var inputMultiplier: Double = 10
        public init() {}
        enum CodingKeys: String, CodingKey { case initStd = "init_std", inputMultiplier = "input_multiplier" }
    }

    public let options: Options
    public let tensors: [TensorSpec]
    private let dModel: Int
    public var tableWidth: Int { dModel }
    private let seed: UInt64

    public init(options: Options, context: EmbeddingContext) throws {
        guard context.parametrization.isMuP else {
            throw StrategyError.incompatible(
                strategy: Self.name,
                message:
                    "requires the μP parametrization (the model must apply μP to the hidden matrices, readout and attention); "
                    + "set `parametrization: mup` and `base_width` (e.g. 256) in the run config, or use strategy 'learned' for SP")
        }
        guard options.initStd > 0, options.initStd.isFinite else {
            throw StrategyError.invalidOption(strategy: Self.name, key: "init_std", message: "must be > 0, got \(options.initStd)")
        }
        guard options.inputMultiplier > 0, options.inputMultiplier.isFinite else {
            throw StrategyError.invalidOption(
                strategy: Self.name, key: "input_multiplier",
                message: "must be > 0, got \(options.inputMultiplier)")
        }
        self.options = options
        dModel = context.dModel
        seed = context.seed
        // Vector-like: init σ_base and Adam LR η at every width (Tensor Programs V, table 3); no weight decay, like `learned`.
        tensors = [
            TensorSpec(
                name: Self.tensorNames[0], shape: [context.vocabulary.count, context.dModel],
                trainable: true, lrMultiplier: 1)
        ]
    }

    public var outputMultiplier: Float { Float(options.inputMultiplier) }

    public func initialize(_ values: [UnsafeMutableBufferPointer<Float>]) {
        var rng = Xoshiro256(seed: seed, stream: EmbeddingStreams.table)
        for i in values[0].indices { values[0][i] = Float(rng.nextNormal() * options.initStd) }
    }
}
