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
}
