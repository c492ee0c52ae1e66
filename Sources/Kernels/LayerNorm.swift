/// Layer normalisation over the last dimension (per token), with a learned gain and optional bias.
/// Forward saves mean and 1/σ per row so backward never recomputes the statistics.
public enum LayerNorm {
    /// Per row of inp[N, C]: out = (x − mean)·rstd·weight[C] + bias[C], rstd = 1/√(var + eps) (biased variance, as
    /// PyTorch). Saves mean[N], rstd[N]. The variance is a second pass around the mean (no E[x²]−E[x]² cancellation).
    public static func forward(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        rows: Int, features: Int, eps: Float = 1e-5
    ) {
        let c = features
        let invC = 1 / Float(c)
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 15) / max(1, c))) { start, end in
            for r in start..<end {
                let x = inp + r * c, y = out + r * c
                let m = vsum(x, c) * invC
                let mv = Vec(repeating: m)
                var acc = Vec(repeating: 0)
                var i = 0
                while i + lanes <= c { let d = load(x + i) - mv; acc += d * d; i += lanes }
                var v = hsum(acc)
                while i < c { let d = x[i] - m; v += d * d; i += 1 }
                let s = 1 / (v * invC + eps).squareRoot()
                mean[r] = m
                rstd[r] = s
                let sv = Vec(repeating: s)
                i = 0
                if let bias {
                    while i + lanes <= c { store((load(x + i) - mv) * sv * load(weight + i) + load(bias + i), y + i); i += lanes }
                    while i < c { y[i] = (x[i] - m) * s * weight[i] + bias[i]; i += 1 }
                } else {
                    while i + lanes <= c { store((load(x + i) - mv) * sv * load(weight + i), y + i); i += lanes }
                    while i < c { y[i] = (x[i] - m) * s * weight[i]; i += 1 }
                }
            }
        }
    }

    /// Accumulates, per row with x̂ = (x − mean)·rstd and g = weight ⊙ dout:
    /// dinp += rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)) ; dweight += dout ⊙ x̂ ; dbias += dout.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, features: Int
    ) {
        let c = features
        let invC = 1 / Float(c)
        for r in 0..<rows {
            let x = inp + r * c, dy = dout + r * c, dx = dinp + r * c
            let m = mean[r], s = rstd[r]
            let mv = Vec(repeating: m), sv = Vec(repeating: s)
            // Pass 1: the two row means mean(g) and mean(g ⊙ x̂).
            var accG = Vec(repeating: 0), accGX = Vec(repeating: 0)
            var i = 0
            while i + lanes <= c {
                let g = load(weight + i) * load(dy + i)
                accG += g
                accGX += g * ((load(x + i) - mv) * sv)
                i += lanes
            }
            var sumG = hsum(accG), sumGX = hsum(accGX)
            while i < c { let g = weight[i] * dy[i]; sumG += g; sumGX += g * (x[i] - m) * s; i += 1 }
            let meanG = sumG * invC, meanGX = sumGX * invC
            let meanGv = Vec(repeating: meanG), meanGXv = Vec(repeating: meanGX)
            // Pass 2: the three gradients.
            i = 0
            while i + lanes <= c {
                let d = load(dy + i)
                let xh = (load(x + i) - mv) * sv
                store(load(dx + i) + sv * (load(weight + i) * d - meanGv - xh * meanGXv), dx + i)
                if let dweight { store(load(dweight + i) + d * xh, dweight + i) }
                if let dbias { store(load(dbias + i) + d, dbias + i) }
                i += lanes
            }
            while i < c {
                let d = dy[i]
                let xh = (x[i] - m) * s
                dx[i] += s * (weight[i] * d - meanG - xh * meanGX)
                dweight?[i] += d * xh
                dbias?[i] += d
                i += 1
            }
        }
    }
}
