/// The AdamW update over one flat tensor, in PyTorch's operation order (torch.optim.AdamW, foreach=False) so the
/// reference test can match it closely:
///   θ ← θ·(1 − lr·λ)                       (decoupled weight decay, Loshchilov & Hutter 2019)
///   m ← β₁m + (1−β₁)g ;  v ← β₂v + (1−β₂)g²
///   θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
public enum AdamWKernel {
    public static func step(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float,
        biasCorrection1: Float, biasCorrection2Sqrt: Float, gradScale: Float
    ) {
        let decay = 1 - lr * weightDecay
        let stepSize = lr / biasCorrection1
        let oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2
        // Elementwise, so splitting across threads cannot change any result (bit-identical for every thread count).
        Parallel.forEachChunk(count: count, minimumPerThread: 1 << 16, alignment: 16) { start, end in
        for i in start..<end {
            let g = grad[i] * gradScale
            var p = param[i]
            if weightDecay != 0 { p *= decay }
            let mi = beta1 * m[i] + oneMinusB1 * g
            let vi = beta2 * v[i] + oneMinusB2 * g * g
            m[i] = mi; v[i] = vi
            p -= stepSize * mi / (vi.squareRoot() / biasCorrection2Sqrt + eps)
            param[i] = p
        }
        }
    }
}
