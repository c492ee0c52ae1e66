import Embeddings

/// What a model tensor is for; it decides init, learning rate, weight decay and μP treatment.
public enum TensorKind: String, Sendable {
    case embedding  // owned by the embedding strategy
    case positional  // learned positional table wpe [T, D]
    case normGain  // LayerNorm weight
    case bias  // Linear / LayerNorm bias
    case hiddenMatrix  // QKV and MLP up-projection
    case residualProjection  // attention out and MLP down-projection (feed the residual stream)
    case readout  // output head (lm_head)
}

/// Init std, LR multiplier and weight decay of one tensor.
public struct ParameterRule: Sendable, Equatable {
    /// nil = constant init (`constant`).
    public var initStd: Double?
    public var constant: Float
    public var lrMultiplier: Float
    public var weightDecay: Bool
}

/// All init / LR / decay / forward-multiplier rules in one place (SP as nanoGPT, μP as Tensor Programs V).
///
/// With width multiplier m = d_model / base_width:
///
/// | tensor                     | SP init          | μP init              | μP Adam LR | decay |
/// |----------------------------|------------------|----------------------|------------|-------|
/// | positional table           | σ                | σ                    | η          | no    |
/// | hidden matrices            | σ                | σ / √m               | η / m      | yes   |
/// | residual projections       | σ / √(2L)        | σ / √(2·L·m)         | η / m      | yes   |
/// | readout (lm_head)          | σ                | σ                    | η          | yes   |
/// | LayerNorm gains / biases   | 1 / 0            | 1 / 0                | η          | no    |
///
/// Forward multipliers under μP: embedding × α_in (from the strategy), logits × α_out / m, attention q·k / d_head.
/// Weight decay is decoupled (AdamW: θ ← θ − lr·λ·θ), so under μP it scales with each tensor's LR
/// (as microsoft/mup's MuAdam without `decoupled_wd`).
public enum ParameterRules {
    public static func widthMultiplier(_ config: ModelConfig) -> Double {
        config.resolvedParametrization.isMuP ? Double(config.dModel) / Double(config.baseWidth) : 1
    }

    public static func rule(for kind: TensorKind, config: ModelConfig) -> ParameterRule {
        let sigma = config.initStd
        let m = widthMultiplier(config)
        let layers = Double(config.nLayer)
        switch kind {
        case .embedding, .positional:
            return ParameterRule(initStd: sigma, constant: 0, lrMultiplier: 1, weightDecay: false)
        case .normGain:
            return ParameterRule(initStd: nil, constant: 1, lrMultiplier: 1, weightDecay: false)
        case .bias:
            return ParameterRule(initStd: nil, constant: 0, lrMultiplier: 1, weightDecay: false)
        case .hiddenMatrix:
            return ParameterRule(
                initStd: sigma / m.squareRoot(), constant: 0, lrMultiplier: Float(1 / m),
                weightDecay: true)
        case .residualProjection:
            return ParameterRule(
                initStd: sigma / (2 * layers * m).squareRoot(), constant: 0, lrMultiplier: Float(1 / m),
                weightDecay: true)
        case .readout:
            // One infinite dimension (fan-in): vector-like for Adam's LR; its 1/m lives in the forward multiplier.
            return ParameterRule(initStd: sigma, constant: 0, lrMultiplier: 1, weightDecay: true)
        }
    }

    /// Logits multiplier: α_out / m under μP, 1 under SP.
    public static func logitMultiplier(_ config: ModelConfig) -> Float {
        config.resolvedParametrization.isMuP ? Float(config.outputMultiplier / widthMultiplier(config)) : 1
    }

    /// Attention score scale: 1/√d_head under SP, 1/d_head under μP (keys and queries become correlated in training).
    public static func attentionScale(_ config: ModelConfig) -> Float {
        let hs = Float(config.headSize)
        return config.resolvedParametrization.isMuP ? 1 / hs : 1 / hs.squareRoot()
    }
}
