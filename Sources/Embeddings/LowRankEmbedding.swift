import Kernels
import TensorFile

/// A factorised table: a trainable V×r table A times a trainable r×D projection P, so a token's vector is
/// out = A[token] · P. With r ≪ D it has V·r + r·D parameters instead of V·D (the ALBERT factorisation).
/// The worked example of `ADDING_A_STRATEGY.md`.
///
/// Init: A ~ N(0, init_std²) and P ~ N(0, 1/r), so an output element Σ_k A[t,k]·P[k,j] has variance
/// r · init_std² · (1/r) = init_std²: the same scale as the `learned` table. Under μP the product is an input table
/// like any other (neither A nor P has more than one dimension that grows with width), so `init_std` and
/// `input_multiplier` follow `TableScale` as for `learned`: 0.02 and 1 under SP, σ_base 0.08 and α_in 10 under μP.
public final class LowRankEmbedding: EmbeddingStrategy, @unchecked Sendable {
    public static let name = "lowrank"
    public static let summary = "Factorised table: trainable V×r A times trainable r×D projection P (rank r, default 32)."
    /// A (V×r), then P (r×D).
    public static let tensorNames = ["wte_a", "wte_p"]

    public struct Options: TableScaleOptions {
        /// r, the inner dimension: 1 ≤ r ≤ d_model.
        public var rank: Int = 32
        /// Standard deviation of the product A·P at init (the learned table's: SP 0.02, μP σ_base).
        public var initStd: Double = TableScale.standard.initStd
        /// The model multiplies the output by this (SP: 1; μP: α_in).
        public var inputMultiplier: Double = TableScale.standard.inputMultiplier
        public init() {}
        enum CodingKeys: String, CodingKey { case rank, initStd = "init_std", inputMultiplier = "input_multiplier" }
    }

    public let options: Options
    public let tensors: [TensorSpec]
    private let dModel: Int
    private let rank: Int
    private let seed: UInt64

    /// Gathered rows A[tokens[i], :] (count × r) for the backward pass. Owned by this instance and grown
    /// only when a call's `count` exceeds every count seen so far (after the first batch the steady state allocates
    /// nothing). This is why the class is `@unchecked Sendable`: one instance serves one model, and a model's
    /// forward/backward calls are never concurrent.
    private var scratch: UnsafeMutablePointer<Float>
    private var scratchRows = 0

    public init(options: Options, context: EmbeddingContext) throws {
        guard options.rank >= 1, options.rank <= context.dModel else {
            throw StrategyError.invalidOption(
                strategy: Self.name, key: "rank",
                message: "must be in 1...d_model (\(context.dModel)), got \(options.rank)")
        }
        try options.tableScale.validate(strategy: Self.name)
        self.options = options
        dModel = context.dModel
        rank = options.rank
        seed = context.seed
        scratch = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        // Under μP: A has no dimension that grows with width; P has one (D), like an embedding of r "tokens".
        // Both keep their init and Adam LR at every width (lrMultiplier 1).
        tensors = [
            TensorSpec(name: Self.tensorNames[0], shape: [context.vocabulary.count, options.rank], trainable: true),
            TensorSpec(name: Self.tensorNames[1], shape: [options.rank, context.dModel], trainable: true),
        ]
    }

    deinit { scratch.deallocate() }

    public func initialize(_ values: [UnsafeMutableBufferPointer<Float>]) {
        var rngA = Xoshiro256(seed: seed, stream: EmbeddingStreams.table)
        for i in values[0].indices { values[0][i] = Float(rngA.nextNormal() * options.initStd) }
        var rngP = Xoshiro256(seed: seed, stream: EmbeddingStreams.projection)
        let std = 1 / Double(rank).squareRoot()
        for i in values[1].indices { values[1][i] = Float(rngP.nextNormal() * std) }
    }

    /// Returns the scratch buffer holding A[tokens[i], :] for i < count (count × r), growing it if needed.
    private func gatherRows(_ a: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, count: Int) -> UnsafeMutablePointer<Float> {
        if count > scratchRows {
            scratch.deallocate()
            scratch = UnsafeMutablePointer<Float>.allocate(capacity: count * rank)
            scratchRows = count
        }
        EmbeddingTable.gather(into: scratch, table: a, tokens: tokens, count: count, width: rank)
        return scratch
    }

    public func forward(into out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, count: Int, tensors: TensorPointers) {
        guard count > 0 else { return }
        // out[i, :] = A[tokens[i], :] · P, row by row in a fixed order (not one sgemm over the batch: a BLAS kernel may
        // round a row differently by where it falls in its blocking, and a token's vector must not depend on its
        // position in the batch). As fast as the sgemm at these sizes (r·D multiply-adds per token, P in L1).
        RowProduct.forward(
            out: out, table: tensors.values[0], indices: tokens, count: count, inner: rank,
            matrix: tensors.values[1], width: dModel)
    }

    public func backward(dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, count: Int, tensors: TensorPointers) {
        guard count > 0 else { return }
        let g = gatherRows(tensors.values[0], tokens: tokens, count: count)  // (count, r)
        if let dP = tensors.gradients[1] {
            // dP (r, D) += Gᵀ (r, count) · dout (count, D)
            BLAS.sgemm(
                transA: true, transB: false, m: rank, n: dModel, k: count,
                alpha: 1, a: g, lda: rank, b: dout, ldb: dModel, beta: 1, c: dP, ldc: dModel)
        }
        if let dA = tensors.gradients[0] {
            // dG (count, r) = dout (count, D) · Pᵀ (D, r), written over G (no longer needed), then scattered:
            // dA[tokens[i], :] += dG[i, :] (repeated tokens accumulate).
            BLAS.sgemm(
                transA: false, transB: true, m: count, n: rank, k: dModel,
                alpha: 1, a: dout, lda: dModel, b: tensors.values[1], ldb: dModel, beta: 0, c: g, ldc: rank)
            EmbeddingTable.scatterAdd(into: dA, dout: g, tokens: tokens, count: count, width: rank)
        }
    }

    /// A·P, each row on its own: out[t, j] = Σ_k A[t, k]·P[k, j], summed over k in ascending order, so a row depends
    /// only on its token's row of A (and P), never on how many rows are computed together.
    public static func inputTable(from stored: [Safetensors.Tensor]) throws -> Safetensors.Tensor {
        guard stored.count == 2, stored[0].shape.count == 2, stored[1].shape.count == 2, stored[0].shape[1] == stored[1].shape[0],
            stored[0].values.count == stored[0].shape[0] * stored[0].shape[1],
            stored[1].values.count == stored[1].shape[0] * stored[1].shape[1]
        else {
            throw StrategyError.incompatible(
                strategy: name,
                message:
                    "the stored factors have shapes \(stored.map(\.shape)); expected A [V, r] and P [r, D]")
        }
        let (v, r, d) = (stored[0].shape[0], stored[0].shape[1], stored[1].shape[1])
        // The forward's own kernel over every token id, so the table is bit for bit what the model reads.
        var out = [Float](repeating: 0, count: v * d)
        let ids = (0..<v).map(Int32.init)
        RowProduct.forward(out: &out, table: stored[0].values, indices: ids, count: v, inner: r, matrix: stored[1].values, width: d)
        return Safetensors.Tensor(name: checkpointNames.joined(separator: "·"), shape: [v, d], values: out)
    }
}
