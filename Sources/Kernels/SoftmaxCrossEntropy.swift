import Foundation

/// The language-model loss: softmax over the vocabulary followed by the negative log-likelihood of the target.
/// Fused because the gradient of the pair is simply probs − onehot(target).
public enum SoftmaxCrossEntropy {
    /// probs[N, V] = softmax(logits[N, V]) (max-subtracted, so no exp overflows); losses[N] = −log probs[n, target[n]],
    /// computed as logsumexp − logit[target] (= max + log Σ − logit), which stays finite even when the target's
    /// probability underflows. Returns the mean loss over N in Double.
    ///
    /// `multiplier` ≠ 1 first scales the logits in place (μP's output multiplier), in the pass that finds each row's
    /// maximum, while the row is in cache. Without `probs` (evaluation: no backward follows) only the sum of the
    /// exponentials is formed and nothing is stored; the loss is the same to the bit, Σ being added in the same order.
    @discardableResult
    public static func forward(
        losses: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>?, logits: UnsafeMutablePointer<Float>,
        multiplier: Float = 1, targets: UnsafePointer<Int32>, rows: Int, vocab: Int
    ) -> Double {
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 15) / max(1, vocab))) { start, end in
            for r in start..<end {
                let row = logits + r * vocab
                let m = multiplier == 1 ? vmax(row, vocab) : scaleAndMax(row, vocab, by: multiplier)
                let s: Float
                if let probs {
                    s = softmax(from: row, max: m, to: probs + r * vocab, vocab)
                } else {
                    s = exponentialSum(row, max: m, vocab)
                }
                losses[r] = Float(Double(m) + log(Double(s)) - Double(row[Int(targets[r])]))
            }
        }
        var total = 0.0
        for r in 0..<rows { total += Double(losses[r]) }
        return rows > 0 ? total / Double(rows) : 0
    }

    /// dlogits[N, V] = scale · (probs − onehot(target)): the gradient of scale · Σ_n losses[n] (the caller passes
    /// scale = 1/N for a mean loss). Overwrites dlogits (no zeroing needed); dlogits may be probs itself (in place).
    public static func backward(
        dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows: Int, vocab: Int, scale: Float
    ) {
        let sv = Vec(repeating: scale)
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 16) / max(1, vocab))) { start, end in
            for r in start..<end {
                let d = dlogits + r * vocab, p = probs + r * vocab
                var i = 0
                while i + lanes <= vocab { store(sv * load(p + i), d + i); i += lanes }
                while i < vocab { d[i] = scale * p[i]; i += 1 }
                d[Int(targets[r])] -= scale
            }
        }
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
