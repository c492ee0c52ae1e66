import Embeddings

/// The shape of a GPT (nanoGPT's `GPTConfig`): sizes, and the few architectural switches the ablations need.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var dModel: Int
    public var nLayer: Int
    public var nHead: Int
    /// Context length T (also the size of the learned positional table).
    public var contextLength: Int
    /// Biases in Linear and LayerNorm layers (nanoGPT: off).
    public var bias: Bool = false
    /// Share the input table with the output head. Only for a strategy whose single trainable tensor is the V×D table.
    public var tieEmbeddings: Bool = false
    /// `sp` (GPT-2 standard parametrization) or `mup` (maximal update parametrization, relative to `baseWidth`).
    public var parametrization: String = "sp"
    /// μP base width d_base: at d_model = base_width, μP and SP coincide in init and LR.
    public var baseWidth: Int = 128
    /// σ: the init std of matrices and tables (nanoGPT 0.02). Under μP this is σ_base.
    public var initStd: Double = 0.02
    /// μP's output multiplier α_out (logits × α_out / m). Ignored under SP.
    public var outputMultiplier: Double = 1.0

    public init(
        vocabSize: Int, dModel: Int, nLayer: Int, nHead: Int, contextLength: Int,
        bias: Bool = false, tieEmbeddings: Bool = false, parametrization: String = "sp",
        baseWidth: Int = 128, initStd: Double = 0.02, outputMultiplier: Double = 1.0
    ) {
        self.vocabSize = vocabSize; self.dModel = dModel; self.nLayer = nLayer; self.nHead = nHead
        self.contextLength = contextLength; self.bias = bias; self.tieEmbeddings = tieEmbeddings
        self.parametrization = parametrization; self.baseWidth = baseWidth; self.initStd = initStd
        self.outputMultiplier = outputMultiplier
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", dModel = "d_model", nLayer = "n_layer", nHead = "n_head"
        case contextLength = "context_length", bias, tieEmbeddings = "tie_embeddings"
        case parametrization, baseWidth = "base_width", initStd = "init_std", outputMultiplier = "output_multiplier"
    }

    public var headSize: Int { dModel / nHead }

    public var resolvedParametrization: Parametrization {
        parametrization == "mup" ? .mup(baseWidth: baseWidth) : .sp
    }

    /// Named shapes (d_model, n_layer, n_head); any consistent combination works too.
    public static let presets: [String: (dModel: Int, nLayer: Int, nHead: Int)] = [
        "tiny": (64, 2, 2),
        "small": (128, 4, 4),
        "base": (256, 4, 4),
        "medium": (384, 6, 6),
        "large": (512, 6, 8),
    ]

    /// The longest context a model may have (far above any CPU-trainable one; sizes derived from it never overflow).
    public static let maxContextLength = 1 << 16

    /// Rejects impossible shapes with the key at fault and how to fix it.
    public func validate() throws(ConfigError) {
        func positive(_ v: Int, _ key: String) throws(ConfigError) {
            guard v > 0 else { throw ConfigError(key: key, message: "must be a positive integer, got \(v)", fix: "set \(key) to a value ≥ 1") }
        }
        try positive(vocabSize, "vocab_size"); try positive(dModel, "d_model"); try positive(nLayer, "n_layer")
        try positive(nHead, "n_head"); try positive(contextLength, "context_length")
        // Upper bounds far above any CPU-trainable model, so that sizes derived from these never overflow.
        func atMost(_ v: Int, _ limit: Int, _ key: String) throws(ConfigError) {
            guard v <= limit else { throw ConfigError(key: key, message: "must be at most \(limit), got \(v)", fix: "set \(key) to a smaller value") }
        }
        try atMost(vocabSize, 1 << 20, "vocab_size"); try atMost(dModel, 1 << 16, "d_model"); try atMost(nLayer, 1 << 10, "n_layer")
        try atMost(contextLength, Self.maxContextLength, "context_length")
        guard dModel % nHead == 0 else {
            // Only head counts up to 64 are suggested, so only those are tried (d_model may be huge).
            let divisors = (1...min(dModel, 64)).filter { dModel % $0 == 0 }.suffix(4).map(String.init).joined(separator: ", ")
            throw ConfigError(
                key: "n_head", message: "d_model \(dModel) is not divisible by n_head \(nHead)",
                fix: "choose n_head dividing d_model (e.g. \(divisors)) or change d_model")
        }
        guard parametrization == "sp" || parametrization == "mup" else {
            throw ConfigError(key: "parametrization", message: "unknown value '\(parametrization)'", fix: "use 'sp' or 'mup'")
        }
        try positive(baseWidth, "base_width"); try atMost(baseWidth, 1 << 16, "base_width")
        guard initStd > 0, initStd.isFinite else {
            throw ConfigError(key: "init_std", message: "must be a positive number, got \(initStd)", fix: "use e.g. 0.02")
        }
        guard outputMultiplier > 0, outputMultiplier.isFinite else {
            throw ConfigError(key: "output_multiplier", message: "must be a positive number, got \(outputMultiplier)", fix: "use e.g. 1.0")
        }
    }

    /// Non-embedding parameters N (Kaplan et al. 2020 convention, but counting the untied output head, so that
    /// FLOP/token = 6·N + 12·L·d·T): attention + MLP matrices, LayerNorms, and the head.
    public var nonEmbeddingParameters: Int {
        let d = dModel
        let perLayer = 3 * d * d + d * d + 4 * d * d + 4 * d * d + (bias ? (3 * d + d + 4 * d + d) : 0) + 2 * d * (bias ? 2 : 1)
        let head = tieEmbeddings ? 0 : vocabSize * d
        return nLayer * perLayer + d * (bias ? 2 : 1) + head
    }

    /// Training FLOPs per token: 6·N for the matrix products (forward 2N, backward 4N) plus attention's
    /// 12·L·d·T (QKᵀ and att·V, forward and backward), as in PaLM's MFU definition. A tied head is not in N (its
    /// parameters are the input table's) but its V·d product runs all the same, so it is counted here.
    public var trainingFLOPsPerToken: Double {
        let tiedHead = tieEmbeddings ? vocabSize * dModel : 0
        return 6 * Double(nonEmbeddingParameters + tiedHead) + 12 * Double(nLayer * dModel * contextLength)
    }

    /// `trainingFLOPsPerToken` by the matrix products that do it: the blocks' Linear layers (6 · 12·d²·L), the output
    /// head (6·V·d, tied or not) and attention's QKᵀ and att·V (12·L·d·T). They add up to it but for 6 × the LayerNorm
    /// and bias parameters, which N counts although no product multiplies them.
    public var trainingFLOPsPerTokenByProduct: (blockLinear: Double, head: Double, attention: Double) {
        let d = Double(dModel), layers = Double(nLayer)
        return (6 * 12 * d * d * layers, 6 * Double(vocabSize) * d, 12 * layers * d * Double(contextLength))
    }
}

/// A configuration error: which key, what is wrong, and how to fix it.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var message: String
    public var fix: String
    public var file: String?
    public init(key: String, message: String, fix: String, file: String? = nil) {
        self.key = key; self.message = message; self.fix = fix; self.file = file
    }
    public var description: String {
        // A message or fix that is a sentence of its own ends in "." already: never "..".
        func clause(_ s: String) -> Substring { s.hasSuffix(".") ? s.dropLast() : Substring(s) }
        return (file.map { "\($0): " } ?? "") + "'\(key)': \(clause(message)). Fix: \(clause(fix))."
    }
}
