import Kernels
import TensorFile

/// One tensor a strategy owns. Storage lives in the model's parameter arena; the strategy only describes it.
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    /// Frozen tensors get no gradient buffer and no optimizer state.
    public var trainable: Bool
    /// Multiplies the trainer's learning rate for this tensor (μP and per-tensor tuning).
    public var lrMultiplier: Float
    /// Decoupled weight decay applies to this tensor (matrices only by default).
    public var weightDecay: Bool

    /// A strategy's tensors keep their init and Adam LR at every width under μP (they are vector-like in Tensor
    /// Programs V's sense: at most one dimension, D, grows with width); `lrMultiplier` is the per-tensor knob.
    public init(name: String, shape: [Int], trainable: Bool, lrMultiplier: Float = 1, weightDecay: Bool = false) {
        self.name = name; self.shape = shape; self.trainable = trainable
        self.lrMultiplier = lrMultiplier; self.weightDecay = weightDecay
    }
    public var count: Int { shape.reduce(1, *) }
}

/// The tokenizer's vocabulary as strategies see it: token id → its bytes (GPT-2 byte-level BPE), and whether
/// the token begins a word (its text starts with a space), so text-based strategies (hashed) can use it.
public struct Vocabulary: Sendable {
    public let tokenBytes: [[UInt8]]
    /// True for `standIn`: only the size is real, so checks against a real token list (fingerprints) do not apply.
    public let isStandIn: Bool
    public init(tokenBytes: [[UInt8]]) { self.init(tokenBytes: tokenBytes, isStandIn: false) }
    private init(tokenBytes: [[UInt8]], isStandIn: Bool) { self.tokenBytes = tokenBytes; self.isStandIn = isStandIn }
    public var count: Int { tokenBytes.count }
    /// The token's text, with invalid UTF-8 (a byte-level token may split a character) shown as U+FFFD.
    public func text(of id: Int) -> String { String(decoding: tokenBytes[id], as: UTF8.self) }
    /// A stable fingerprint of the token list (FNV-1a 64 over each token's length and bytes, hex): two runs can
    /// share an embedding table only if their vocabularies have the same fingerprint.
    public var fingerprint: String {
        let bytes = tokenBytes.lazy.flatMap { token in
            [UInt8(truncatingIfNeeded: token.count), UInt8(truncatingIfNeeded: token.count >> 8)] + token
        }
        return String(FNV1a.hash(bytes), radix: 16)
    }

    /// The 256 single-byte tokens: a vocabulary for tests and byte-level runs.
    public static let bytes = Vocabulary(tokenBytes: (0..<256).map { [UInt8($0)] })

    /// A stand-in vocabulary of `size` tokens for building strategies dry (grid validation, `ablate strategies`),
    /// when the real one would need the tokenizer: the 256 bytes, then three-letter tokens, alternately
    /// word-initial, so text-based strategies can be built. Only sizes matter where it is used.
    public static func standIn(size: Int) -> Vocabulary {
        let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        var tokens = (0..<min(size, 256)).map { [UInt8($0)] }
        var i = 0
        while tokens.count < size {
            let triple = [letters[i % 26], letters[(i / 26) % 26], letters[(i / 676) % 26]]
            tokens.append(i % 2 == 0 ? [0x20] + triple : triple)
            i += 1
        }
        return Vocabulary(tokenBytes: tokens, isStandIn: true)
    }
}

/// Everything a strategy may know about the model it serves; nothing about grids or reports.
public struct EmbeddingContext: Sendable {
    public var vocabulary: Vocabulary
    public var dModel: Int
    /// The run's seed; strategies derive their own streams from it (see `Xoshiro256(seed:stream:)`).
    public var seed: UInt64
    public var parametrization: Parametrization
    public init(vocabulary: Vocabulary, dModel: Int, seed: UInt64, parametrization: Parametrization = .sp) {
        self.vocabulary = vocabulary; self.dModel = dModel; self.seed = seed; self.parametrization = parametrization
    }
}

/// Trainer-wide parametrization. `sp` is GPT-2/nanoGPT standard parametrization; `mup` applies the μP table
/// (see `Parametrization.swift` in Model) relative to `baseWidth`.
public enum Parametrization: Sendable, Equatable {
    case sp
    case mup(baseWidth: Int)
    public var isMuP: Bool { if case .mup = self { return true } else { return false } }
}

/// Pointers to a strategy's tensors inside the model's arenas, in the order of `EmbeddingStrategy.tensors`.
/// Built once per model, so passing it in the training step allocates nothing.
public struct TensorPointers: @unchecked Sendable {
    public let values: [UnsafeMutablePointer<Float>]
    /// nil for frozen tensors: they have no gradient buffer.
    public let gradients: [UnsafeMutablePointer<Float>?]
    public init(values: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>?]) {
        self.values = values; self.gradients = gradients
    }
}

/// Typed options of a strategy. `init(defaultsFor:)` gives the defaults for a context (by default `init()`, the
/// same in every context); the registry decodes user keys over them, so every option has a default and an unknown
/// key is an error listing the valid keys. A default that depends on the context (a table's `init_std` and
/// `input_multiplier` under μP, see `TableScale`) is resolved there, so the built strategy's `options` are the values
/// actually used, and config.json records them.
public protocol StrategyOptions: Codable, Sendable {
    /// The defaults under SP (what `ablate strategies` lists).
    init()
    /// The defaults in `context`.
    init(defaultsFor context: EmbeddingContext)
    /// Keys an option was once spelled with → its key now. Configs written with the old key (old run folders, grid
    /// files) keep decoding; giving both is an error.
    static var renamedKeys: [String: String] { get }
}

extension StrategyOptions {
    public init(defaultsFor context: EmbeddingContext) { self.init() }
    public static var renamedKeys: [String: String] { [:] }
}

/// An input embedding strategy: token ids → vectors of width d_model. One file per strategy, one registry line.
public protocol EmbeddingStrategy: AnyObject, Sendable {
    associatedtype Options: StrategyOptions
    /// The name used in configs and on the command line, e.g. "frozen-random".
    static var name: String { get }
    /// One line for `ablate strategies`.
    static var summary: String { get }

    init(options: Options, context: EmbeddingContext) throws

    /// Options that make the strategy constructible out of the box for `context` (default: none). The conformance
    /// suite lays them under its own options; a strategy that needs an external input (transplant's checkpoint)
    /// prepares a small example of it.
    static func exampleOptions(for context: EmbeddingContext) throws -> [String: Any]

    /// The names of the tensors this strategy owns, in the order of `tensors` (checkpoints and snapshots store them
    /// as `embedding.<name>`, see `checkpointNames`). Declared once, in the strategy's file: every reader of a
    /// checkpoint (probes, transplant, exports) asks the strategy instead of knowing its layout.
    static var tensorNames: [String] { get }
    /// The effective input table the model sees — V×D, row `t` = the strategy's output for token `t`, before
    /// `outputMultiplier` — computed from the strategy's tensors as stored (in the order of `tensorNames`).
    /// Default (`TableLookupStrategy`): the first tensor itself. A strategy whose output is computed from several
    /// tensors overrides it (lowrank: A·P). Row `t` depends only on token `t`'s parameters.
    static func inputTable(from stored: [Safetensors.Tensor]) throws -> Safetensors.Tensor

    var options: Options { get }
    /// The tensors this strategy owns (possibly none), named by `tensorNames` in that order.
    var tensors: [TensorSpec] { get }
    /// Multiplies the embedding output (μP's α_in, or 1).
    var outputMultiplier: Float { get }
    /// Whether the initial tensors change with `EmbeddingContext.seed` (default true). False for functions of the
    /// token text (hashed) and for tables with a fixed seed of their own: their variance across model seeds is zero.
    var dependsOnRunSeed: Bool { get }

    /// Fills freshly allocated tensors with their initial values (same order as `tensors`).
    func initialize(_ values: [UnsafeMutableBufferPointer<Float>])
    /// out[i, :] = embedding of tokens[i] (before `outputMultiplier`, which the model applies), i < count.
    /// `out` is count × d_model and is overwritten.
    func forward(into out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, count: Int, tensors: TensorPointers)
    /// Accumulates (+=) dL/d(tensor) into the gradients of trainable tensors, given dL/d(out) (already scaled by
    /// `outputMultiplier` by the caller's chain rule: `dout` is the gradient w.r.t. this strategy's own output).
    func backward(dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, count: Int, tensors: TensorPointers)
}

extension EmbeddingStrategy {
    public static func exampleOptions(for context: EmbeddingContext) throws -> [String: Any] { [:] }
    public var outputMultiplier: Float { 1 }
    public var dependsOnRunSeed: Bool { true }
    public var name: String { Self.name }

    /// `tensorNames` as stored in checkpoints and snapshots: `embedding.<name>`.
    public static var checkpointNames: [String] { tensorNames.map { EmbeddingTensors.checkpointPrefix + $0 } }

    /// The effective input table from a checkpoint's or snapshot's tensors (by checkpoint name), and its label:
    /// the checkpoint names of the tensors it was computed from, joined by `·` (for lowrank, its A and P).
    public static func inputTable(
        checkpoint tensors: [String: Safetensors.Tensor], path: String
    ) throws
        -> (name: String, table: Safetensors.Tensor)
    {
        let names = checkpointNames
        let stored = names.compactMap { tensors[$0] }
        guard stored.count == names.count else {
            let found = tensors.keys.filter { $0.hasPrefix(EmbeddingTensors.checkpointPrefix) }.sorted()
            throw StrategyError.incompatible(
                strategy: Self.name,
                message:
                    "\(path) lacks the strategy's tensors \(names.filter { tensors[$0] == nil }.joined(separator: ", ")) (it holds \(found.isEmpty ? "none" : found.joined(separator: ", "))); was it written by another strategy?"
            )
        }
        let table = try inputTable(from: stored)
        return (names.joined(separator: "·"), table)
    }
}

/// How the model stores strategies' tensors: under `embedding.<tensor name>`.
public enum EmbeddingTensors {
    public static let checkpointPrefix = "embedding."
}
