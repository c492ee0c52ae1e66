import Foundation

/// The language-model loss: softmax over the vocabulary followed by the negative log-likelihood of the target.
/// Fused because the gradient of the pair is simply probs − onehot(target).
public enum SoftmaxCrossEntropy {
    /// probs[N, V] = softmax(logits[N, V]) (max-subtracted, so no exp overflows); losses[N] = −log probs[n, target[n]],
    /// computed as logsumexp − logit[target] (= max + log Σ − logit), which stays finite even when the target's
    /// probability underflows. Returns the mean loss over N in Double.
    @discardableResult
    public static func forward(
        losses: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rows: Int, vocab: Int
    ) -> Double {
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 15) / max(1, vocab))) { start, end in
            for r in start..<end {
                let (m, s) = softmax(from: logits + r * vocab, to: probs + r * vocab, vocab)
                let t = Int(targets[r])
                losses[r] = Float(Double(m) + log(Double(s)) - Double(logits[r * vocab + t]))
            }
        }
        var total = 0.0
        for r in 0..<rows { total += Double(losses[r]) }
        return rows > 0 ? total / Double(rows) : 0
    }

    /// dlogits[N, V] += scale · (probs − onehot(target)): the gradient of scale · Σ_n losses[n]
    /// (the caller passes scale = 1/N for a mean loss).
    public static func backward(
        dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows: Int, vocab: Int, scale: Float
    ) {
        let sv = Vec(repeating: scale)
        Parallel.forEachChunk(count: rows, minimumPerThread: max(1, (1 << 16) / max(1, vocab))) { start, end in
            for r in start..<end {
                let d = dlogits + r * vocab, p = probs + r * vocab
                var i = 0
                while i + lanes <= vocab { store(load(d + i) + sv * load(p + i), d + i); i += lanes }
                while i < vocab { d[i] += scale * p[i]; i += 1 }
                d[Int(targets[r])] -= scale
            }
        }
    }
}
