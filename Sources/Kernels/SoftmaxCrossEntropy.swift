import Foundation

/// The language-model loss: softmax over the vocabulary followed by the negative log-likelihood of the target.
/// Fused because the gradient of the pair is simply probs − onehot(target).
///
/// When a backward follows, the forward leaves e = exp(logit − max) in place of each logit and keeps Σ e per row; the
/// backward then forms scale · e · (1/Σ), in place again. No N×V buffer of probabilities is written: at the models'
/// shapes it does not fit in cache, and writing it (each line first read from memory) and normalising it in a pass
/// of its own cost ≈ 0.6 ms per step at V = 2048, N = 1024 (`ablate bench --profile`, loss rows), a sixth of the
/// loss's time. The gradient is the same to the bit as from stored probabilities: p = e · (1/Σ), then scale · p.
public enum SoftmaxCrossEntropy {
    /// losses[N] = −log softmax(logits[N, V])[target], computed as logsumexp − logit[target] (= max + log Σ − logit),
    /// which stays finite even when the target's probability underflows. Returns the mean loss over N in Double.
    ///
    /// `multiplier` ≠ 1 first scales the logits in place (μP's output multiplier), in the pass that finds each row's
    /// maximum, while the row is in cache. With `sums` (a backward follows) each logit is replaced by exp(logit − max)
    /// and sums[n] receives the row's Σ; without (evaluation) the logits stay and nothing else is stored. The losses
    /// are the same to the bit either way: Σ is added in the same order.
    @discardableResult
    public static func forward(
        losses: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>?, logits: UnsafeMutablePointer<Float>,
        multiplier: Float = 1, targets: UnsafePointer<Int32>, rows: Int, vocab: Int
    ) -> Double {
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 15) / max(1, vocab))) { start, end in
            for r in start..<end {
                let row = logits + r * vocab
                let m = multiplier == 1 ? vmax(row, vocab) : scaleAndMax(row, vocab, by: multiplier)
                let target = row[Int(targets[r])]
                let s: Float
                if let sums {
                    s = exponentials(row, max: m, storingTo: row, vocab)
                    sums[r] = s
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

    /// In place over the exponentials e[N, V] and their row sums that `forward` left: dlogits = scale · (probs −
    /// onehot(target)) with probs = e · (1/Σ), the gradient of scale · Σ_n losses[n] (the caller passes scale = 1/N
    /// for a mean loss).
    public static func backward(
        exponentials e: UnsafeMutablePointer<Float>, sums: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows: Int, vocab: Int, scale: Float
    ) {
        let sv = Vec(repeating: scale)
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 16) / max(1, vocab))) { start, end in
            for r in start..<end {
                let d = e + r * vocab
                let inv = Vec(repeating: 1 / sums[r])
                var i = 0
                while i + lanes <= vocab { store(sv * (load(d + i) * inv), d + i); i += lanes }
                while i < vocab { d[i] = scale * (d[i] * inv[0]); i += 1 }
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
