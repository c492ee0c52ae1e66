import Embeddings

/// Where a run's batches come from. Batches are a pure function of (seed, step) — not of how many were drawn
/// before — so a resumed run sees exactly the batches an uninterrupted one would.
public protocol BatchSource: Sendable {
    /// Fills inputs and targets (batch × context, row-major) for optimizer step `step`.
    func trainBatch(step: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>)
    /// Fills batch `index` of the fixed validation set of `count` batches (windows evenly spaced over the
    /// validation stream, so a set of any size covers all of it).
    func validationBatch(index: Int, of count: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>)
}

/// What a run trains on, with the hashes that make it reproducible.
public struct RunData: Sendable {
    public var vocabulary: Vocabulary
    public var batches: any BatchSource
    public var corpusSHA256: String
    public var tokenizerSHA256: String
    public var trainTokens: Int
    public var validationTokens: Int
    /// UTF-8 bytes of the training split's text (nil for synthetic token sources): with `trainTokens` it turns a
    /// byte budget into steps.
    public var trainBytes: Int?

    public init(
        vocabulary: Vocabulary, batches: any BatchSource, corpusSHA256: String, tokenizerSHA256: String,
        trainTokens: Int, validationTokens: Int, trainBytes: Int? = nil
    ) {
        self.vocabulary = vocabulary; self.batches = batches; self.corpusSHA256 = corpusSHA256
        self.tokenizerSHA256 = tokenizerSHA256; self.trainTokens = trainTokens; self.validationTokens = validationTokens
        self.trainBytes = trainBytes
    }

    /// The training split's tokens and bytes, when its bytes are known.
    public var trainSplit: TrainSplit? { trainBytes.map { TrainSplit(tokens: trainTokens, bytes: $0) } }
}
