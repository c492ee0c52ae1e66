import Kernels

/// A V×D table initialised at random and never updated: the tensor is declared `trainable: false`, so the model
/// allocates no gradient and no optimizer state for it (saving 3 × 4 bytes × V × D under AdamW).
///
/// Welch et al. (EMNLP 2020) found frozen random *input* embeddings cost little (frozen *output* embeddings are
/// harmful — hence the untied head); Bochkov (2025) trained with fixed binary codes. Options:
/// - `distribution`: `normal` (N(0,1)), `uniform` (U(−√3, √3): unit variance), `sign` (±1 codes, each ±1 with
///   probability ½), `orthogonal` (modified Gram–Schmidt in Double on a seeded N(0,1) matrix: orthonormal **rows**
///   when V ≤ D; when V > D the rows cannot be orthogonal, so the D **columns** are orthonormal, i.e. the rows form
///   a tight frame with mean squared norm D/V, which the scale below brings to the target).
/// - `scale`: `match-init` — the table's element standard deviation equals `init_std` (in distribution for
///   normal/uniform, exactly for sign; for orthogonal the table's RMS is exactly `init_std`), so it is directly
///   comparable with `learned`; `unit-norm` — every row rescaled to L2 norm 1 (orthogonal rows with V ≤ D already
///   are).
/// - `seed`: `run` (default: derived from the run seed, like every other random draw) or a fixed integer, which makes
///   the table identical across model seeds.
/// - `init_std`, `input_multiplier`: the table's scale (`TableScale`): 0.02 and 1 under SP; under μP σ_base 0.08 and
///   α_in 10, exactly as a trained table, so frozen and learned differ only in whether the table trains. `unit-norm`
///   ignores `init_std` but not the multiplier.
///
/// With the defaults (normal, match-init 0.02, seed run) the table is bit-for-bit the initial table of `learned` for
/// the same run seed (same RNG stream): the two runs differ only in whether the table trains.
public final class FrozenRandomEmbedding: TableLookupStrategy {
    public static let name = "frozen-random"
    public static let summary = "Random V×D table, never trained (no gradient, no Adam state); normal/uniform/±1/orthogonal."
    public static let tensorNames = ["wte_frozen"]

    public enum Distribution: String, OptionEnum { case normal, uniform, sign, orthogonal }
    public enum Scale: String, OptionEnum { case matchInit = "match-init", unitNorm = "unit-norm" }

    public struct Options: TableScaleOptions {
        public var distribution: Distribution = .normal
        public var scale: Scale = .matchInit
        /// Element standard deviation under `match-init` (SP: nanoGPT's 0.02; μP: σ_base); ignored by `unit-norm`.
        public var initStd: Double = TableScale.standard.initStd
        /// The model multiplies the output by this (SP: 1; μP: α_in).
        public var inputMultiplier: Double = TableScale.standard.inputMultiplier
        public var seed: SeedOption = .run
        public init() {}
        enum CodingKeys: String, CodingKey {
            case distribution, scale, initStd = "init_std", inputMultiplier = "input_multiplier", seed
        }
    }

    public let options: Options
    public let tensors: [TensorSpec]
    private let vocabSize: Int
    private let dModel: Int
    public var tableWidth: Int { dModel }
    private let seed: UInt64

    public init(options: Options, context: EmbeddingContext) throws {
        try options.tableScale.validate(strategy: Self.name)
        self.options = options
        vocabSize = context.vocabulary.count
        dModel = context.dModel
        seed = options.seed.resolve(runSeed: context.seed)
        tensors = [TensorSpec(name: Self.tensorNames[0], shape: [vocabSize, dModel], trainable: false)]
    }

    public var dependsOnRunSeed: Bool { options.seed == .run }

    public func initialize(_ values: [UnsafeMutableBufferPointer<Float>]) {
        let table = values[0]  // (V, D) row-major
        let (v, d) = (vocabSize, dModel)
        var rng = Xoshiro256(seed: seed, stream: EmbeddingStreams.table)
        // Unit-variance draws in Double (orthogonal: orthonormalised, then scaled to unit RMS).
        var raw = [Double](repeating: 0, count: v * d)
        switch options.distribution {
        case .normal: for i in raw.indices { raw[i] = rng.nextNormal() }
        case .uniform: for i in raw.indices { raw[i] = (2 * rng.nextDouble() - 1) * 3.0.squareRoot() }
        case .sign: for i in raw.indices { raw[i] = rng.next() >> 63 == 0 ? 1 : -1 }
        case .orthogonal:
            for i in raw.indices { raw[i] = rng.nextNormal() }
            Self.orthonormalize(&raw, rows: v, cols: d)
            // Orthonormal rows have squared norm 1 (V ≤ D); orthonormal columns give rows of mean squared norm D/V.
            // Either way the table's mean square is min(V, D) / (V·D): rescale to unit RMS.
            let rms = (Double(min(v, d)) / Double(v * d)).squareRoot()
            for i in raw.indices { raw[i] /= rms }
        }
        switch options.scale {
        case .matchInit:
            for i in raw.indices { table[i] = Float(raw[i] * options.initStd) }
        case .unitNorm:
            for r in 0..<v {
                var s = 0.0
                for j in 0..<d { s += raw[r * d + j] * raw[r * d + j] }
                let inv = s > 0 ? 1 / s.squareRoot() : 0
                for j in 0..<d { table[r * d + j] = Float(raw[r * d + j] * inv) }
            }
        }
    }

    /// Modified Gram–Schmidt on a row-major `rows × cols` matrix, in place, in Double: orthonormalises the rows when
    /// rows ≤ cols, otherwise the columns. MGS loses orthogonality in proportion to ε·κ; a Gaussian matrix has
    /// κ ≈ (√rows + √cols)/|√rows − √cols| (≈ 2.3 for 300 × 48), growing to O(n) only when square, so one pass
    /// in Double stays orthonormal to ≲ 1e-12, far below Float resolution. Cost: 2·n²·len flops (n = min(V, D),
    /// len = max(V, D)): ~0.5 GFLOP at V = 4096, D = 256 (2.8 s in a debug build, a fraction of that in release).
    static func orthonormalize(_ m: inout [Double], rows: Int, cols: Int) {
        // Work on vectors stored contiguously: the rows, or the transposed matrix's rows (= the columns).
        let byRows = rows <= cols
        let (n, len) = byRows ? (rows, cols) : (cols, rows)
        var vecs = byRows ? m : [Double](repeating: 0, count: rows * cols)
        if !byRows { for r in 0..<rows { for c in 0..<cols { vecs[c * rows + r] = m[r * cols + c] } } }
        vecs.withUnsafeMutableBufferPointer { q in
            for i in 0..<n {
                let qi = q.baseAddress! + i * len
                for j in 0..<i {
                    let qj = q.baseAddress! + j * len
                    var dot = 0.0
                    for t in 0..<len { dot += qi[t] * qj[t] }
                    for t in 0..<len { qi[t] -= dot * qj[t] }
                }
                var norm = 0.0
                for t in 0..<len { norm += qi[t] * qi[t] }
                norm = norm.squareRoot()
                // A Gaussian matrix is rank-deficient with probability 0; guard anyway.
                let inv = norm > 1e-300 ? 1 / norm : 0
                for t in 0..<len { qi[t] *= inv }
            }
        }
        if byRows { m = vecs } else { for r in 0..<rows { for c in 0..<cols { m[r * cols + c] = vecs[c * rows + r] } } }
    }
}
