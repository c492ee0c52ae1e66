/// Elementwise helpers over flat Float buffers: residual adds, gradient accumulation and scaling,
/// and the two reductions the optimiser needs (gradient norm, finiteness check).
public enum Elementwise {
    /// out = a + b (the residual connection; `out` may alias `a` or `b`).
    public static func add(out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count { store(load(a + i) + load(b + i), out + i); i += lanes }
        while i < count { out[i] = a[i] + b[i]; i += 1 }
    }

    /// y += x (a residual's backward: the gradient flows to both branches).
    public static func accumulate(into y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count { store(load(y + i) + load(x + i), y + i); i += lanes }
        while i < count { y[i] += x[i]; i += 1 }
    }

    /// y += Σ_s x_s for `sources` buffers laid out one after another at `stride` (the model's per-shard gradients),
    /// added in source order and split across threads by element, so the result is the same for any thread count.
    public static func accumulate(
        into y: UnsafeMutablePointer<Float>, sources x: UnsafePointer<Float>, count sources: Int,
        stride: Int, elements: Int
    ) {
        Parallel.forEachChunk(count: elements, minimumPerThread: 1 << 14, alignment: 16) { start, end in
            for s in 0..<sources { accumulate(into: y + start, x + s * stride + start, count: end - start) }
        }
    }

    /// x *= s (gradient clipping, loss scaling).
    public static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        let sv = Vec(repeating: s)
        var i = 0
        while i + lanes <= count { store(load(x + i) * sv, x + i); i += lanes }
        while i < count { x[i] *= s; i += 1 }
    }

    /// Σ x² in Double (for the global gradient norm). Blocks of 1024 are summed in Float lanes (64 terms per
    /// lane, relative error ≲ 64·2⁻²⁴ ≈ 4e-6 per block) and the block sums added in Double.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < count {
            let end = min(count, i + 1024)
            var acc = Vec(repeating: 0)
            while i + lanes <= end { let v = load(x + i); acc += v * v; i += lanes }
            var block = Double(hsum(acc))
            while i < end { block += Double(x[i]) * Double(x[i]); i += 1 }
            total += block
        }
        return total
    }

    /// True when no element is NaN or ±inf. Uses x·0, which is 0 for every finite x and NaN otherwise, so the
    /// lanes accumulate without branches; checked once per block of 4096 to stop early on a bad tensor.
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        var i = 0
        while i < count {
            let end = min(count, i + 4096)
            var acc = Vec(repeating: 0)
            while i + lanes <= end { acc += load(x + i) * 0; i += lanes }
            while i < end { if !x[i].isFinite { return false }; i += 1 }
            if acc != Vec(repeating: 0) { return false }
        }
        return true
    }
}
