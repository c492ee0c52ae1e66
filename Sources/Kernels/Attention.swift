/// Multi-head causal self-attention over a fused qkv buffer (the output of one Linear with 3C outputs).
/// Per (batch, head) the products are sgemm calls that read q, k, v in place through leading dimension 3C and write
/// the head's output columns in place through leading dimension C, so nothing is copied or transposed. The pairs are
/// split into contiguous ranges across `BLAS.threads` of our own threads, each sgemm running single-threaded (OpenBLAS
/// splitting a 128×128×32 product over 2 threads gained almost nothing); a head's arithmetic never depends on the
/// split, so results are bit-identical for any thread count (AttentionThreadsTests).
public enum CausalSelfAttention {
    /// Row blocks per head for skipping the masked half of the products. With T split into n blocks of tb = T/n rows,
    /// row block i attends to key blocks 0…i only, so the products do (n+1)/2n of the full work (5/8 for n = 4);
    /// more blocks mean more, smaller sgemm calls. tb must be a multiple of 16 (the softmax's lane blocks stay inside
    /// the computed columns), so T not a multiple of 32 runs as one block.
    static func causalBlocks(seq T: Int) -> Int { T % 64 == 0 ? 4 : (T % 32 == 0 ? 2 : 1) }

    /// qkv[B, T, 3C] → att[B, H, T, T] (softmax probabilities, upper triangle j > i exactly 0) and out[B, T, C].
    /// Per head: S = scale · Q·Kᵀ, P = softmax over j ≤ i of S[i, j], O = P·V.
    /// scale = 1/√hs (standard) or 1/hs (μP); hs = C / heads.
    public static func forward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
        batch: Int, seq: Int, channels: Int, heads: Int, scale: Float
    ) {
        let T = seq, C = channels, C3 = 3 * channels, hs = channels / heads
        let blocks = causalBlocks(seq: T), tb = T / blocks
        // The (batch, head) pairs are split into contiguous ranges, one per thread, and each head's products run
        // single-threaded with its softmax in between: every head's arithmetic is the same for any split.
        BLAS.forEachChunkSingleThreaded(count: batch * heads) { start, end in
            for bh in start..<end {
                let b = bh / heads, h = bh % heads
                let q = qkv + b * T * C3 + h * hs  // [T, hs], row stride 3C
                let k = q + C  // [T, hs], row stride 3C
                let v = q + 2 * C  // [T, hs], row stride 3C
                let p = att + bh * T * T  // [T, T]
                let o = out + b * T * C + h * hs  // [T, hs], row stride C
                // S[rows of block i, keys 0..<(i+1)·tb] = scale · Q_i · K_{0…i}ᵀ; the softmax zero-fills the rest.
                for i in 0..<blocks {
                    let r0 = i * tb, keys = (i + 1) * tb
                    BLAS.sgemm(
                        transA: false, transB: true, m: tb, n: keys, k: hs,
                        alpha: scale, a: q + r0 * C3, lda: C3, b: k, ldb: C3, beta: 0, c: p + r0 * T, ldc: T)
                }
                causalSoftmax(att, seq: T, rows: (bh * T)..<((bh + 1) * T))
                // O_i[tb, hs] = P[block i, keys 0..<(i+1)·tb] · V_{0…i}
                for i in 0..<blocks {
                    let r0 = i * tb, keys = (i + 1) * tb
                    BLAS.sgemm(
                        transA: false, transB: false, m: tb, n: hs, k: keys,
                        alpha: 1, a: p + r0 * T, lda: T, b: v, ldb: C3, beta: 0, c: o + r0 * C, ldc: C)
                }
            }
        }
    }

    /// Accumulates dqkv[B, T, 3C] from dout[B, T, C]. Per head, with dO the head's slice of dout:
    /// dP = dO·Vᵀ ; dV += Pᵀ·dO ; dS[i, j] = P[i, j]·(dP[i, j] − Σ_k P[i, k]·dP[i, k]) (softmax backward, 0 for j > i);
    /// dQ += scale · dS·K ; dK += scale · dSᵀ·Q. datt[B, H, T, T] is scratch holding dP then dS (overwritten).
    /// Blocked as in `forward`: row block i of dP and dQ needs key blocks 0…i; key block j of dV and dK needs rows
    /// from block j on (P and dS are 0 above the diagonal).
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>, datt: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
        batch: Int, seq: Int, channels: Int, heads: Int, scale: Float
    ) {
        let T = seq, C = channels, C3 = 3 * channels, hs = channels / heads
        let blocks = causalBlocks(seq: T), tb = T / blocks
        // As in forward: contiguous ranges of (batch, head) pairs per thread, single-threaded products per head.
        // Each head reads and writes only its own columns of dqkv and its own [T, T] block of datt.
        BLAS.forEachChunkSingleThreaded(count: batch * heads) { start, end in
            for bh in start..<end {
                let b = bh / heads, h = bh % heads
                let q = qkv + b * T * C3 + h * hs, k = q + C, v = q + 2 * C  // [T, hs], row stride 3C
                let dq = dqkv + b * T * C3 + h * hs, dk = dq + C, dv = dq + 2 * C  // [T, hs], row stride 3C
                let p = att + bh * T * T  // [T, T]
                let dp = datt + bh * T * T  // [T, T]
                let dO = dout + b * T * C + h * hs  // [T, hs], row stride C
                for i in 0..<blocks {
                    let r0 = i * tb, keys = (i + 1) * tb
                    // dP[block i, keys 0..<(i+1)·tb] = dO_i · V_{0…i}ᵀ
                    BLAS.sgemm(
                        transA: false, transB: true, m: tb, n: keys, k: hs,
                        alpha: 1, a: dO + r0 * C, lda: C, b: v, ldb: C3, beta: 0, c: dp + r0 * T, ldc: T)
                }
                for j in 0..<blocks {
                    let c0 = j * tb
                    // dV_j[tb, hs] += P[rows c0..<T, block j]ᵀ · dO[c0..<T]
                    BLAS.sgemm(
                        transA: true, transB: false, m: tb, n: hs, k: T - c0,
                        alpha: 1, a: p + c0 * T + c0, lda: T, b: dO + c0 * C, ldb: C, beta: 1, c: dv + c0 * C3, ldc: C3)
                }
                // dS = P ⊙ (dP − rowsum(P ⊙ dP)), in place over dP (reads dP up to each row's diagonal lane block,
                // writes every column of the row).
                causalSoftmaxBackward(datt, probs: att, seq: T, rows: (bh * T)..<((bh + 1) * T))
                for i in 0..<blocks {
                    let r0 = i * tb, keys = (i + 1) * tb
                    // dQ_i[tb, hs] += scale · dS[block i, keys 0..<(i+1)·tb] · K_{0…i}
                    BLAS.sgemm(
                        transA: false, transB: false, m: tb, n: hs, k: keys,
                        alpha: scale, a: dp + r0 * T, lda: T, b: k, ldb: C3, beta: 1, c: dq + r0 * C3, ldc: C3)
                }
                for j in 0..<blocks {
                    let c0 = j * tb
                    // dK_j[tb, hs] += scale · dS[rows c0..<T, block j]ᵀ · Q[c0..<T]
                    BLAS.sgemm(
                        transA: true, transB: false, m: tb, n: hs, k: T - c0,
                        alpha: scale, a: dp + c0 * T + c0, lda: T, b: q + c0 * C3, ldb: C3, beta: 1, c: dk + c0 * C3, ldc: C3)
                }
            }
        }
    }

    /// In place over one head's scores S[T, T]: row i becomes softmax(S[i, 0...i]) followed by zeros.
    /// Works in whole 16-lane blocks: the block holding the diagonal is loaded in full with the lanes past i set to
    /// −inf (exp gives exactly 0, which is also the causal mask), so there are no scalar tails; the blocks wholly
    /// above the diagonal are zero-filled. When T is not a multiple of 16 the last block of a row could run past the
    /// row's end; such rows take the generic tail-handling path.
    /// `rows` indexes rows of the whole [B·H·T, T] buffer (row r is row r mod T of its head).
    public static func causalSoftmax(_ s: UnsafeMutablePointer<Float>, seq T: Int, rows: Range<Int>) {
        let negInf = Vec(repeating: -.infinity)
        for r in rows {
            let i = r % T
            let row = s + r * T
            let last = (i / lanes) * lanes  // start of the block holding the diagonal
            guard last + lanes <= T else {
                softmaxInPlace(row, i + 1)
                (row + i + 1).update(repeating: 0, count: T - i - 1)
                continue
            }
            let tail = load(row + last).replacing(with: negInf, where: laneIndex .> Float(i - last))
            var mv = tail
            var j = 0
            while j < last { mv = lanewiseMax(mv, load(row + j)); j += lanes }
            let m = Vec(repeating: hmax(mv))
            var acc = vexp(tail - m)
            store(acc, row + last)
            j = 0
            while j < last { let e = vexp(load(row + j) - m); acc += e; store(e, row + j); j += lanes }
            let inv = Vec(repeating: 1 / hsum(acc))
            j = 0
            while j <= last { store(load(row + j) * inv, row + j); j += lanes }
            (row + last + lanes).update(repeating: 0, count: T - last - lanes)
        }
    }

    /// In place over one head's dP[T, T]: dS[i, j] = P[i, j]·(dP[i, j] − Σ_k P[i, k]·dP[i, k]) for j ≤ i, else 0.
    /// Relies on P being exactly 0 above the diagonal (as `forward` writes it): then whole blocks can be processed,
    /// the lanes past the diagonal giving 0·(…) = 0, and only the blocks wholly above it need zero-filling.
    public static func causalSoftmaxBackward(_ d: UnsafeMutablePointer<Float>, probs p: UnsafePointer<Float>, seq T: Int, rows: Range<Int>) {
        for r in rows {
            let i = r % T
            let pr = p + r * T, dr = d + r * T
            let n = min(T, (i / lanes + 1) * lanes)  // whole blocks covering 0...i, clipped to the row
            let dot = Vec(repeating: vdot(pr, dr, n))
            var j = 0
            while j + lanes <= n { store(load(pr + j) * (load(dr + j) - dot), dr + j); j += lanes }
            while j < n { dr[j] = pr[j] * (dr[j] - dot[0]); j += 1 }
            (dr + n).update(repeating: 0, count: T - n)
        }
    }
}
