import Foundation
import Kernels
import Model

/// AdamW over a `ParameterStore`: moment buffers for trainable tensors only (frozen ones have none), per-tensor
/// LR multipliers and weight-decay flags from the parameter rules, global-norm clipping applied as a scale.
public final class AdamW: @unchecked Sendable {
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// First and second moments, laid out like `ParameterStore.gradients`.
    public let m: UnsafeMutablePointer<Float>
    public let v: UnsafeMutablePointer<Float>
    public let count: Int
    /// Number of updates taken (t in the bias corrections).
    public var stepCount: Int = 0
    private let store: ParameterStore

    public init(store: ParameterStore, beta1: Double, beta2: Double, eps: Double, weightDecay: Double) {
        self.store = store
        self.beta1 = Float(beta1); self.beta2 = Float(beta2); self.eps = Float(eps); self.weightDecay = Float(weightDecay)
        count = store.gradientCount
        m = .allocate(capacity: max(count, 1)); m.initialize(repeating: 0, count: max(count, 1))
        v = .allocate(capacity: max(count, 1)); v.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { m.deallocate(); v.deallocate() }

    /// Bytes of optimizer state (two moments per trainable value).
    public var stateBytes: Int { 2 * count * MemoryLayout<Float>.size }

    /// One update with peak-relative learning rate `lr`; `gradScale` implements clipping (1 = none).
    public func step(lr: Double, gradScale: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = Float(1 - pow(Double(beta1), t))
        let bc2Sqrt = Float((1 - pow(Double(beta2), t)).squareRoot())
        for p in store.parameters {
            guard let offset = p.gradientOffset else { continue }
            AdamWKernel.step(
                param: store.value(p), grad: store.gradients + offset, m: m + offset, v: v + offset,
                count: p.count, lr: Float(lr) * p.spec.lrMultiplier, beta1: beta1, beta2: beta2, eps: eps,
                weightDecay: p.spec.weightDecay ? weightDecay : 0,
                biasCorrection1: bc1, biasCorrection2Sqrt: bc2Sqrt, gradScale: gradScale)
        }
    }
}

/// Linear warm-up to the peak, then cosine decay to `minRatio` × peak at the last step (nanoGPT's get_lr).
public struct LRSchedule: Sendable, Equatable {
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minRatio: Double

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, minRatio: Double) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.minRatio = minRatio
    }

    /// Learning rate for 0-based step `step`.
    public func lr(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let decaySteps = max(totalSteps - warmupSteps, 1)
        let progress = min(max(Double(step - warmupSteps) / Double(decaySteps), 0), 1)
        let cosine = 0.5 * (1 + cos(Double.pi * progress))
        return peak * (minRatio + (1 - minRatio) * cosine)
    }
}
