/// Forward activations for a fixed (batch B, context T) in one allocation; everything backward needs is kept.
/// Shapes use n = B·T rows, C = d_model, V = vocab, NH = heads.
///
/// Every buffer is laid out sequence-major, so the activations of a contiguous range of sequences are a view: the
/// same pointers advanced by the range's start times each buffer's per-sequence size (`view(sequences:)`). The
/// model's shards (one per thread) each work on such a view, and together they fill the whole buffers.
final class Activations {
    struct Layer {
        let ln1: UnsafeMutablePointer<Float>  // (n, C)
        let ln1Mean: UnsafeMutablePointer<Float>  // (n)
        let ln1Rstd: UnsafeMutablePointer<Float>  // (n)
        let qkv: UnsafeMutablePointer<Float>  // (n, 3C)
        let att: UnsafeMutablePointer<Float>  // (B, NH, T, T) softmax probabilities
        let attY: UnsafeMutablePointer<Float>  // (n, C) heads concatenated
        let attProj: UnsafeMutablePointer<Float>  // (n, C)
        let residual2: UnsafeMutablePointer<Float>  // (n, C)
        let ln2: UnsafeMutablePointer<Float>  // (n, C)
        let ln2Mean: UnsafeMutablePointer<Float>  // (n)
        let ln2Rstd: UnsafeMutablePointer<Float>  // (n)
        let fc: UnsafeMutablePointer<Float>  // (n, 4C)
        let fcGelu: UnsafeMutablePointer<Float>  // (n, 4C)
        let fcProj: UnsafeMutablePointer<Float>  // (n, C)
        let residual3: UnsafeMutablePointer<Float>  // (n, C) block output
    }

    let embedded: UnsafeMutablePointer<Float>  // (n, C) x₀
    let lnF: UnsafeMutablePointer<Float>  // (n, C)
    let lnFMean: UnsafeMutablePointer<Float>  // (n)
    let lnFRstd: UnsafeMutablePointer<Float>  // (n)
    let logits: UnsafeMutablePointer<Float>  // (n, V): logits (evaluation) or dLoss/dlogits (training)
    let losses: UnsafeMutablePointer<Float>  // (n)
    private let layers: [Layer]
    private let storage: SequenceArena
    private let config: ModelConfig

    convenience init(config: ModelConfig, batchSize: Int) {
        self.init(
            config: config, storage: SequenceArena(floatsPerSequence: Self.floatsPerSequence(config), sequences: batchSize),
            first: 0)
    }

    private init(config: ModelConfig, storage: SequenceArena, first: Int) {
        let T = config.contextLength, C = config.dModel, V = config.vocabSize, att = config.nHead * T * T
        self.storage = storage
        self.config = config
        var cursor = storage.cursor(first: first)
        embedded = cursor.take(T * C); lnF = cursor.take(T * C); lnFMean = cursor.take(T); lnFRstd = cursor.take(T)
        logits = cursor.take(T * V); losses = cursor.take(T)
        layers = (0..<config.nLayer).map { _ in
            Layer(
                ln1: cursor.take(T * C), ln1Mean: cursor.take(T), ln1Rstd: cursor.take(T), qkv: cursor.take(T * 3 * C),
                att: cursor.take(att), attY: cursor.take(T * C), attProj: cursor.take(T * C), residual2: cursor.take(T * C),
                ln2: cursor.take(T * C), ln2Mean: cursor.take(T), ln2Rstd: cursor.take(T), fc: cursor.take(T * 4 * C),
                fcGelu: cursor.take(T * 4 * C), fcProj: cursor.take(T * C), residual3: cursor.take(T * C))
        }
        cursor.finish()
    }

    /// The activations of sequences `range` (indices into the batch), sharing this object's memory.
    func view(sequences range: Range<Int>) -> Activations {
        Activations(config: config, storage: storage, first: range.lowerBound)
    }

    @inline(__always) func layer(_ l: Int) -> Layer { layers[l] }

    static func floatsPerSequence(_ config: ModelConfig) -> Int {
        let T = config.contextLength, C = config.dModel, V = config.vocabSize
        let perLayer = T * C * 7 + T * 4 + T * 3 * C + config.nHead * T * T + T * 4 * C * 2
        return T * C * 2 + T * 3 + T * V + perLayer * config.nLayer
    }
}

/// Gradient buffers for activations, reused by every block during backward (one block's worth, not L).
/// Sequence-major like `Activations`, with views for the shards.
final class ActivationGradients {
    let dresidual: UnsafeMutablePointer<Float>  // (n, C) running gradient of the residual stream
    let dln: UnsafeMutablePointer<Float>  // (n, C)
    let dqkv: UnsafeMutablePointer<Float>  // (n, 3C)
    let datt: UnsafeMutablePointer<Float>  // (B, NH, T, T) scratch
    let dattY: UnsafeMutablePointer<Float>  // (n, C)
    let dfc: UnsafeMutablePointer<Float>  // (n, 4C)
    let dfcGelu: UnsafeMutablePointer<Float>  // (n, 4C)
    private let storage: SequenceArena
    private let config: ModelConfig

    convenience init(config: ModelConfig, batchSize: Int) {
        let T = config.contextLength, C = config.dModel
        let perSequence = T * C * 3 + T * 3 * C + config.nHead * T * T + T * 4 * C * 2
        self.init(config: config, storage: SequenceArena(floatsPerSequence: perSequence, sequences: batchSize), first: 0)
    }

    private init(config: ModelConfig, storage: SequenceArena, first: Int) {
        let T = config.contextLength, C = config.dModel
        self.storage = storage
        self.config = config
        var cursor = storage.cursor(first: first)
        dresidual = cursor.take(T * C); dln = cursor.take(T * C); dqkv = cursor.take(T * 3 * C)
        datt = cursor.take(config.nHead * T * T); dattY = cursor.take(T * C)
        dfc = cursor.take(T * 4 * C); dfcGelu = cursor.take(T * 4 * C)
        cursor.finish()
    }

    func view(sequences range: Range<Int>) -> ActivationGradients {
        ActivationGradients(config: config, storage: storage, first: range.lowerBound)
    }
}

/// One zero-initialised allocation holding buffers of `sequences` × (per-sequence size) floats, one after another.
final class SequenceArena {
    let base: UnsafeMutablePointer<Float>
    let floatsPerSequence: Int, sequences: Int

    init(floatsPerSequence: Int, sequences: Int) {
        self.floatsPerSequence = floatsPerSequence
        self.sequences = sequences
        base = .allocate(capacity: floatsPerSequence * sequences)
        base.initialize(repeating: 0, count: floatsPerSequence * sequences)
    }

    deinit { base.deallocate() }

    /// Hands out the buffers in layout order, each already advanced to sequence `first`.
    struct Cursor {
        let arena: SequenceArena, first: Int
        var offset = 0, perSequence = 0
        mutating func take(_ floatsPerSequence: Int) -> UnsafeMutablePointer<Float> {
            defer { offset += floatsPerSequence * arena.sequences; perSequence += floatsPerSequence }
            return arena.base + offset + floatsPerSequence * first
        }
        func finish() { precondition(perSequence == arena.floatsPerSequence, "activation layout out of sync") }
    }

    func cursor(first: Int) -> Cursor { Cursor(arena: self, first: first) }
}
