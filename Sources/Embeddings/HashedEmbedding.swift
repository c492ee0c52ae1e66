import Kernels

// Hashed n-gram embeddings after EELBERT: G. Cohn, R. Agarwal, D. Gupta, S. Patwardhan, "EELBERT: Tiny Models through
// Dynamic Embeddings", EMNLP 2023 Industry Track, arXiv:2310.20144. The embedding is a fixed function of the token's
// characters, computed once per vocabulary entry: no trainable embedding parameters at all.
// The algorithm below is reconstructed from the paper's description; the choices it leaves open are marked
// "choice:".

/// EELBERT-style embedding: each token's vector is built from hashes of its character 1-, 2- and 3-grams.
///
/// For a token with bytes b (GPT-2 byte-level BPE, `Vocabulary.tokenBytes`):
/// 1. Units: a begin marker, the bytes, an end marker `>`. Choice: the begin marker is the *word-start* marker `▁`
///    when the token begins with a space (the space itself is dropped: "▁the" vs "<the"), otherwise the
///    *continuation* marker `<`. Units are 0…255 for bytes and 256 `<`, 257 `▁`, 258 `>` for markers, so a marker
///    never collides with a byte (byte-level tokens may hold any byte).
/// 2. n-grams of size n: every window of n consecutive units that holds at least one unit other than `<`/`>` (so
///    1-grams are the bytes plus `▁`; boundary markers only give context to longer n-grams). Choice: a token too
///    short to have any n-gram of size n uses its whole unit sequence as its single n-gram of that size.
/// 3. h = FNV-1a 64 over the n-gram's units (two bytes each, little-endian): stable on every machine and run
///    (Swift's `hashValue` is randomised per process and must never be used here).
/// 4. Block n has k_n dimensions, each with a fixed random integer s_i ∈ [1, P−1] (drawn from the project RNG, stream
///    `EmbeddingStreams.hashing`, seed `hash_seed`); coordinate i of an n-gram is ((h mod P)·s_i) mod P, mapped
///    linearly from [0, P−1] to [−1, 1].
/// 5. Coordinates are averaged over the token's n-grams of size n; the blocks are concatenated in the order of
///    `ngram_sizes`. k_n = D / (number of sizes); choice: the **first** block (1-grams by default) gets the remainder.
/// 6. The table is scaled (not shifted) so its standard deviation over all V×D entries equals `init_std`
///    (raw values are ~30× larger than a 0.02 init). The model multiplies the output by `input_multiplier`.
///    Both follow `TableScale`, like a trained table's init: 0.02 and 1 under SP, σ_base 0.08 and α_in 10 under μP.
///    (`init_std` was once called `target_std`; that name is still read.)
///
/// Storage: one **frozen tensor** `wte_hashed` (V×D) computed in `initialize`, rather than an internal buffer or
/// on-the-fly hashing: the forward pass is a plain gather, the model allocates no gradient or optimizer state for it,
/// and checkpoints stay self-describing (the table a run actually used is saved with it, so a checkpoint can be
/// evaluated or probed without re-running this code).
///
/// Seed: the table does not depend on the run seed (`dependsOnRunSeed` is false): it is a function of the text, and of
/// `hash_seed`, which picks the hash family.
///
/// At character level (the 256-byte vocabulary) this is nearly useless: each byte is one n-gram, so every token's
/// vector is just a random vector, i.e. a frozen random table. It needs multi-byte BPE tokens to share n-grams.
public final class HashedEmbedding: TableLookupStrategy {
    public static let name = "hashed"
    public static let summary =
        "EELBERT-style (arXiv:2310.20144): vectors from hashed character 1/2/3-grams of the token text; no trainable parameters."
    public static let tensorNames = ["wte_hashed"]

    public struct Options: TableScaleOptions {
        /// Standard deviation of the final table: the learned table's init (SP 0.02, μP σ_base).
        public var initStd: Double = TableScale.standard.initStd
        /// The model multiplies the output by this (SP: 1; μP: α_in).
        public var inputMultiplier: Double = TableScale.standard.inputMultiplier
        /// n-gram sizes, one block of dimensions each, in this order.
        public var ngramSizes: [Int] = [1, 2, 3]
        /// The modulus P of (h · s_i) mod P: a prime < 2^32, so that the product fits in 64 bits.
        public var prime: UInt64 = 1_000_000_007
        /// Picks the hash family (the seeds s_i). Independent of the run seed by design.
        public var hashSeed: UInt64 = 0
        public init() {}
        enum CodingKeys: String, CodingKey {
            case initStd = "init_std", inputMultiplier = "input_multiplier", ngramSizes = "ngram_sizes", prime, hashSeed = "hash_seed"
        }
        public static var renamedKeys: [String: String] { ["target_std": "init_std"] }
    }

    static let continuationMarker: UInt16 = 256, wordStartMarker: UInt16 = 257, endMarker: UInt16 = 258

    public let options: Options
    public let tensors: [TensorSpec]
    private let vocabulary: Vocabulary
    private let dModel: Int
    public var tableWidth: Int { dModel }
    /// Dimensions per block, in the order of `ngramSizes`.
    public let blockWidths: [Int]

    public init(options: Options, context: EmbeddingContext) throws {
        try options.tableScale.validate(strategy: Self.name)
        guard !options.ngramSizes.isEmpty, options.ngramSizes.allSatisfy({ $0 >= 1 }),
            Set(options.ngramSizes).count == options.ngramSizes.count
        else {
            throw StrategyError.invalidOption(
                strategy: Self.name, key: "ngram_sizes",
                message: "must be a non-empty list of distinct sizes ≥ 1, got \(options.ngramSizes)")
        }
        guard options.prime >= 3, options.prime < 1 << 32, Self.isPrime(options.prime) else {
            throw StrategyError.invalidOption(
                strategy: Self.name, key: "prime",
                message: "must be a prime in 3 ..< 2^32 (so (h mod P)·s fits in 64 bits), got \(options.prime)")
        }
        guard context.dModel >= options.ngramSizes.count else {
            throw StrategyError.incompatible(
                strategy: Self.name,
                message: "d_model \(context.dModel) is smaller than the number of n-gram blocks (\(options.ngramSizes.count))")
        }
        self.options = options
        vocabulary = context.vocabulary
        dModel = context.dModel
        let m = options.ngramSizes.count
        blockWidths = (0..<m).map { $0 == 0 ? context.dModel / m + context.dModel % m : context.dModel / m }
        tensors = [TensorSpec(name: Self.tensorNames[0], shape: [context.vocabulary.count, context.dModel], trainable: false)]
    }

    public var dependsOnRunSeed: Bool { false }

    static func isPrime(_ p: UInt64) -> Bool {
        if p < 2 { return false }
        var d: UInt64 = 2
        while d * d <= p { if p % d == 0 { return false }; d += 1 }
        return true
    }

    /// FNV-1a, 64 bit, over bytes (`FNV1a`).
    public static func fnv1a64<C: Sequence>(bytes: C) -> UInt64 where C.Element == UInt8 { FNV1a.hash(bytes) }

    /// FNV-1a 64 over units, each as two bytes, little-endian (markers are > 255).
    public static func fnv1a64<C: Collection>(_ units: C) -> UInt64 where C.Element == UInt16 {
        fnv1a64(bytes: units.lazy.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
    }

    /// The unit sequence of a token: begin marker (`▁` if it starts with a space, else `<`), bytes, `>`.
    public static func units(of bytes: [UInt8]) -> [UInt16] {
        let wordStart = bytes.first == 0x20
        let body = wordStart ? bytes.dropFirst() : bytes[...]
        return [wordStart ? wordStartMarker : continuationMarker] + body.map { UInt16($0) } + [endMarker]
    }

    /// Hashes of the token's n-grams of size n (see the type's documentation, step 2).
    static func ngramHashes(units: [UInt16], n: Int) -> [UInt64] {
        var hashes: [UInt64] = []
        if units.count >= n {
            for start in 0...(units.count - n) {
                let gram = units[start..<(start + n)]
                if gram.allSatisfy({ $0 == continuationMarker || $0 == endMarker }) { continue }
                hashes.append(fnv1a64(gram))
            }
        }
        return hashes.isEmpty ? [fnv1a64(units)] : hashes
    }

    /// The raw (unscaled) vector of one token, in Double: D values in [−1, 1].
    public func rawVector(bytes: [UInt8], seeds: [[UInt64]]) -> [Double] {
        let units = Self.units(of: bytes)
        let p = options.prime
        var out: [Double] = []
        out.reserveCapacity(dModel)
        for (b, n) in options.ngramSizes.enumerated() {
            let hashes = Self.ngramHashes(units: units, n: n).map { $0 % p }
            for s in seeds[b] {
                var sum = 0.0
                for h in hashes { sum += 2 * Double((h &* s) % p) / Double(p - 1) - 1 }
                out.append(sum / Double(hashes.count))
            }
        }
        return out
    }

    /// The fixed integer seeds s_i, one list per block.
    public func blockSeeds() -> [[UInt64]] {
        var rng = Xoshiro256(seed: options.hashSeed, stream: EmbeddingStreams.hashing)
        return blockWidths.map { k in (0..<k).map { _ in UInt64(rng.nextInt(below: Int(options.prime - 1))) + 1 } }
    }

    public func initialize(_ values: [UnsafeMutableBufferPointer<Float>]) {
        let table = values[0]  // (V, D) row-major
        let seeds = blockSeeds()
        var raw = [Double](); raw.reserveCapacity(vocabulary.count * dModel)
        for id in 0..<vocabulary.count { raw += rawVector(bytes: vocabulary.tokenBytes[id], seeds: seeds) }
        let mean = raw.reduce(0, +) / Double(raw.count)
        let variance = raw.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(raw.count)
        let scale = variance > 0 ? options.initStd / variance.squareRoot() : 0
        for i in raw.indices { table[i] = Float(raw[i] * scale) }
    }
}
