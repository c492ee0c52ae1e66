import Kernels
import XCTest

/// The AdamW kernel is a loop the compiler vectorises (square root and division 8 lanes wide); it must still equal a
/// plain scalar loop in the documented operation order bit for bit, with and without weight decay, over a count that
/// leaves a tail and with a gradient scale (clipping). The trainer's steps are also checked against PyTorch itself
/// (PyTorchReferenceTests).
final class AdamWKernelTests: XCTestCase {
    func testVectorisedEqualsScalarPyTorchOrder() {
        for weightDecay: Float in [0.1, 0] {
            let n = 100_003
            var rng = Xoshiro256(seed: 3)
            var p = (0..<n).map { _ in Float(rng.nextNormal()) }
            let g = (0..<n).map { _ in Float(rng.nextNormal()) * 0.01 }
            var m = (0..<n).map { _ in Float(rng.nextNormal()) * 0.001 }
            var v = (0..<n).map { _ in abs(Float(rng.nextNormal())) * 1e-5 }
            var (pRef, mRef, vRef) = (p, m, v)
            let lr: Float = 3e-4, beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8
            let bc1: Float = 0.19, bc2Sqrt: Float = 0.31, gradScale: Float = 0.7
            AdamWKernel.step(
                param: &p, grad: g, m: &m, v: &v, count: n, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                weightDecay: weightDecay, biasCorrection1: bc1, biasCorrection2Sqrt: bc2Sqrt, gradScale: gradScale)
            // The scalar loop the kernel replaced: torch.optim.AdamW's steps (param.mul_(1 − lr·wd); the moment updates;
            // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps); param.addcdiv_(exp_avg, denom, −step_size)),
            // with m updated as β₁m + (1 − β₁)g where torch uses lerp_ (same value up to rounding).
            for i in 0..<n {
                let grad = g[i] * gradScale
                if weightDecay != 0 { pRef[i] *= 1 - lr * weightDecay }
                mRef[i] = beta1 * mRef[i] + (1 - beta1) * grad
                vRef[i] = beta2 * vRef[i] + (1 - beta2) * grad * grad
                pRef[i] -= lr / bc1 * mRef[i] / (vRef[i].squareRoot() / bc2Sqrt + eps)
            }
            XCTAssertEqual(p.map(\.bitPattern), pRef.map(\.bitPattern), "parameters, weight decay \(weightDecay)")
            XCTAssertEqual(m.map(\.bitPattern), mRef.map(\.bitPattern), "first moments, weight decay \(weightDecay)")
            XCTAssertEqual(v.map(\.bitPattern), vRef.map(\.bitPattern), "second moments, weight decay \(weightDecay)")
        }
    }

    /// The whole-store step (one parallel region over the flat buffers, split by element) equals each tensor's own
    /// `step` at lr × its multiplier to the bit, at 1 and 2 threads: three tensors of 150,001, 5 and 200,003 values, so
    /// the 2-thread split (at about 175k) falls inside the third and tails are left on both sides of it.
    func testStoreStepEqualsPerTensorSteps() {
        let counts = [150_001, 5, 200_003], multipliers: [Float] = [1, 0.5, 0.25], decays: [Float] = [0.1, 0, 0.1]
        let total = counts.reduce(0, +)
        let offsets = counts.indices.map { counts[..<$0].reduce(0, +) }
        var rng = Xoshiro256(seed: 4)
        let values = randomValues(total, &rng), grad = buffer(randomValues(total, &rng, scale: 0.01))
        let m0 = randomValues(total, &rng, scale: 0.001), v0 = randomValues(total, &rng, scale: 1e-5).map(abs)
        let lr: Float = 3e-4, bc1: Float = 0.19, bc2Sqrt: Float = 0.31, gradScale: Float = 0.7

        let expected = (values: buffer(values), m: buffer(m0), v: buffer(v0))
        for t in counts.indices {
            let o = offsets[t]
            AdamWKernel.step(
                param: expected.values.p + o, grad: grad.p + o, m: expected.m.p + o, v: expected.v.p + o, count: counts[t],
                lr: lr * multipliers[t], beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: decays[t], biasCorrection1: bc1,
                biasCorrection2Sqrt: bc2Sqrt, gradScale: gradScale)
        }
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            XCTAssertEqual(BLAS.threads, threads, "OpenBLAS allows \(threads) threads, so the store is split")
            let p = buffer(values), m = buffer(m0), v = buffer(v0)
            let tensors = counts.indices.map {
                AdamWKernel.Tensor(
                    values: p.p + offsets[$0], offset: offsets[$0], count: counts[$0], lrMultiplier: multipliers[$0],
                    weightDecay: decays[$0])
            }
            AdamWKernel.step(
                tensors: tensors, grad: grad.p, m: m.p, v: v.p, count: total, lr: lr, beta1: 0.9, beta2: 0.95, eps: 1e-8,
                biasCorrection1: bc1, biasCorrection2Sqrt: bc2Sqrt, gradScale: gradScale)
            XCTAssertEqual(p.floats.map(\.bitPattern), expected.values.floats.map(\.bitPattern), "values, \(threads) threads")
            XCTAssertEqual(m.floats.map(\.bitPattern), expected.m.floats.map(\.bitPattern), "m, \(threads) threads")
            XCTAssertEqual(v.floats.map(\.bitPattern), expected.v.floats.map(\.bitPattern), "v, \(threads) threads")
        }
    }
}
