/// The scale of an input table: the element standard deviation it starts from (`init_std`) and the constant the model
/// multiplies the embedding output by (`input_multiplier`). The one place that declares the defaults per
/// parametrization; every table strategy (learned, frozen-random, hashed, lowrank, and `mup`) reads them from here.
///
/// - SP: GPT-2/nanoGPT, σ = 0.02 and no multiplier.
/// - μP: the input embedding is vector-like (only its output dimension grows with width), so it keeps a constant
///   init σ_base and is multiplied by a constant α_in at every width (Yang et al., "Tensor Programs V", 2022,
///   table 3). The numbers are the Cerebras-GPT μP recipe (Dey et al. 2023, base width 256): σ_base = 0.08,
///   α_in = 10, so the first block sees an embedding of std 0.8 at init. The same numbers apply whether the table
///   trains or not: a frozen table under μP is scaled like a trained one, so the two differ only in training.
public struct TableScale: Sendable, Equatable {
    public var initStd: Double
    public var inputMultiplier: Double

    public init(initStd: Double, inputMultiplier: Double) {
        self.initStd = initStd; self.inputMultiplier = inputMultiplier
    }

    /// GPT-2/nanoGPT: N(0, 0.02²), output unscaled.
    public static let standard = TableScale(initStd: 0.02, inputMultiplier: 1)
    /// μP (Cerebras-GPT recipe): σ_base = 0.08, α_in = 10.
    public static let muP = TableScale(initStd: 0.08, inputMultiplier: 10)

    /// The defaults of a table strategy's `init_std` and `input_multiplier` under `parametrization`.
    public static func defaults(for parametrization: Parametrization) -> TableScale {
        parametrization.isMuP ? muP : standard
    }

    /// Checks that both are finite and > 0, naming the option that is not.
    public func validate(strategy: String) throws {
        for (key, value) in [("init_std", initStd), ("input_multiplier", inputMultiplier)] {
            guard value > 0, value.isFinite else {
                throw StrategyError.invalidOption(strategy: strategy, key: key, message: "must be a finite number > 0, got \(value)")
            }
        }
    }
}

/// Options of a strategy whose table follows `TableScale`: `init_std` and `input_multiplier`, defaulting per
/// parametrization. Conforming gives the context's defaults and `outputMultiplier` = `input_multiplier`.
public protocol TableScaleOptions: StrategyOptions {
    var initStd: Double { get set }
    var inputMultiplier: Double { get set }
}

extension TableScaleOptions {
    public var tableScale: TableScale { TableScale(initStd: initStd, inputMultiplier: inputMultiplier) }

    public init(defaultsFor context: EmbeddingContext) {
        self.init()
        let scale = TableScale.defaults(for: context.parametrization)
        initStd = scale.initStd
        inputMultiplier = scale.inputMultiplier
    }
}

extension EmbeddingStrategy where Options: TableScaleOptions {
    /// α_in: the model multiplies the table's output by `input_multiplier`.
    public var outputMultiplier: Float { Float(options.inputMultiplier) }
}
