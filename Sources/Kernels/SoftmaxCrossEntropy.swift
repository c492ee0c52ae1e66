import Foundation

/// The language-model loss: softmax over the vocabulary followed by the negative log-likelihood of the target.
/// Fused because the gradient of the pair is simply probs − onehot(target).
///
/// A training forward forms that gradient at once, in place of each row's logits, while the row is still in L1: the
/// row is read from memory once (for its maximum) instead of twice, and no backward pass over the N×V buffer remains.
/// Per row: e = exp(logit − max) in place with Σ e, then dlogits = scale · (e · (1/Σ)), then − scale at the target.
/// The same operations in the same order as when the exponentials waited in the buffer for a backward pass of their
/// own, so the gradient is the same to the bit (KernelsTests' pinned fingerprint); that pass took 0.32 ms of a 15.5 ms
/// step at g48 (V = 2048, N = 1024, 1 thread; `ablate bench --profile`). No probabilities are stored: p = e · (1/Σ)
/// is formed on the way to the gradient.
public enum SoftmaxCrossEntropy {
    /// losses[N] = −log softmax(logits[N, V])[target], computed as logsumexp − logit[target] (= max + log Σ − logit),
    /// which stays finite even when the target's probability underflows. Returns the mean loss over N in Double.
    ///
    /// `multiplier` ≠ 1 first scales the logits in place (μP's output multiplier), in the pass that finds each row's
    /// maximum, while the row is in cache. With a `gradientScale` (training) each row of logits is replaced by
    /// gradientScale · (softmax − onehot(target)): the gradient of (gradientScale / multiplier) · Σ_n losses[n] with
    /// respect to the logits as given, before the multiplier (for a mean loss over N rows, pass multiplier / N).
    /// Without (evaluation) the logits stay. The losses are the same to the bit either way: Σ is added in the same
    /// order.
    @discardableResult
    public static func forward(
        losses: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>, multiplier: Float = 1,
        targets: UnsafePointer<Int32>, rows: Int, vocab: Int, gradientScale: Float? = nil
    ) -> Double {
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 15) / max(1, vocab))) { start, end in
            for r in start..<end {
                let row = logits + r * vocab
                let m = multiplier == 1 ? vmax(row, vocab) : scaleAndMax(row, vocab, by: multiplier)
                let targetIndex = Int(targets[r])
                let target = row[targetIndex]
                let s: Float
                if let gradientScale {
                    s = exponentials(row, max: m, storingTo: row, vocab)
                    gradient(row, sum: s, target: targetIndex, vocab, scale: gradientScale)
                } else {
                    s = exponentialSum(row, max: m, vocab)
                }
                losses[r] = Float(Double(m) + log(Double(s)) - Double(target))
            }
        }
        var total = 0.0
        for r in 0..<rows { total += Double(losses[r]) }
        return rows > 0 ? total / Double(rows) : 0
    }

    /// In place over one row of exponentials e[V] with sum Σ: d = scale · (e · (1/Σ)), then d[target] −= scale.
    @inline(__always)
    static func gradient(_ d: UnsafeMutablePointer<Float>, sum: Float, target: Int, _ vocab: Int, scale: Float) {
        let sv = Vec(repeating: scale)
        let inv = Vec(repeating: 1 / sum)
        var i = 0
        while i + lanes <= vocab { store(sv * (load(d + i) * inv), d + i); i += lanes }
        while i < vocab { d[i] = scale * (d[i] * inv[0]); i += 1 }
        d[target] -= scale
    }

    /// row[0..<n] *= s in place; returns the maximum of the scaled row (n ≥ 1). Each element is rounded once, as by
    /// `Elementwise.scale`.
    @inline(__always)
    static func scaleAndMax(_ row: UnsafeMutablePointer<Float>, _ n: Int, by s: Float) -> Float {
        let sv = Vec(repeating: s)
        var acc = Vec(repeating: -.infinity)
        var i = 0
        while i + lanes <= n {
            let v = load(row + i) * sv
            store(v, row + i)
            acc = lanewiseMax(acc, v)
            i += lanes
        }
        if i < n {
            for j in i..<n { row[j] *= s }
            acc = lanewiseMax(acc, loadPartial(row + i, n - i, fill: -.infinity))
        }
        return hmax(acc)
    }
}
