/// A fully connected layer in PyTorch's `nn.Linear` layout: weight[OC, C] (one row per output feature).
/// All the work is two or three large sgemm calls; only the bias sum is a hand-written loop.
public enum Linear {
    /// out[N, OC] = inp[N, C] · weight[OC, C]ᵀ (+ bias[OC]).
    /// With a bias, `out` is pre-filled with it and the product added (beta = 1), so no second pass is needed.
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        let n = rows, c = inFeatures, oc = outFeatures
        var beta: Float = 0
        if let bias {
            for r in 0..<n { (out + r * oc).update(from: bias, count: oc) }
            beta = 1
        }
        BLAS.sgemm(
            transA: false, transB: true, m: n, n: oc, k: c,
            alpha: 1, a: inp, lda: c, b: weight, ldb: c, beta: beta, c: out, ldc: oc)
    }

    /// Accumulates the gradients of out = inp·Wᵀ + b: dinp[N, C] += dout·W ; dweight[OC, C] += doutᵀ·inp ;
    /// dbias[OC] += Σ_rows dout. Any nil gradient is skipped (e.g. dinp for the first layer, dbias without a bias).
    public static func backward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        let n = rows, c = inFeatures, oc = outFeatures
        if let dinp {
            // [N, OC] · [OC, C]
            BLAS.sgemm(
                transA: false, transB: false, m: n, n: c, k: oc,
                alpha: 1, a: dout, lda: oc, b: weight, ldb: c, beta: 1, c: dinp, ldc: c)
        }
        if let dweight {
            // [OC, N] · [N, C]
            BLAS.sgemm(
                transA: true, transB: false, m: oc, n: c, k: n,
                alpha: 1, a: dout, lda: oc, b: inp, ldb: c, beta: 1, c: dweight, ldc: c)
        }
        if let dbias { sumRows(into: dbias, dout, rows: n, columns: oc) }
    }

    /// y[cols] += Σ_r x[r, cols]: four rows are summed in registers per pass over y, so y (hot in L1) is
    /// loaded and stored once per four rows.
    static func sumRows(into y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, columns: Int) {
        var r = 0
        while r + 4 <= rows {
            let x0 = x + r * columns, x1 = x0 + columns, x2 = x1 + columns, x3 = x2 + columns
            var j = 0
            while j + lanes <= columns {
                store(load(y + j) + ((load(x0 + j) + load(x1 + j)) + (load(x2 + j) + load(x3 + j))), y + j)
                j += lanes
            }
            while j < columns { y[j] += (x0[j] + x1[j]) + (x2[j] + x3[j]); j += 1 }
            r += 4
        }
        while r < rows {
            Elementwise.accumulate(into: y, x + r * columns, count: columns)
            r += 1
        }
    }
}
