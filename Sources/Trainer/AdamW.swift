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
    /// The trainable tensors with their learning-rate multipliers and weight decay, in gradient order.
    private let tensors: [AdamWKernel.Tensor]

    public init(store: ParameterStore, beta1: Double, beta2: Double, eps: Double, weightDecay: Double) {
        self.store = store
        self.beta1 = Float(beta1); self.beta2 = Float(beta2); self.eps = Float(eps); self.weightDecay = Float(weightDecay)
        count = store.gradientCount
        let decay = Float(weightDecay)
        tensors = store.parameters.compactMap { p in
            p.gradientOffset.map { offset in
                AdamWKernel.Tensor(
                    values: store.value(p), offset: offset, count: p.count, lrMultiplier: p.spec.lrMultiplier,
                    weightDecay: p.spec.weightDecay ? decay : 0)
            }
        }
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
        AdamWKernel.step(
            tensors: tensors, grad: store.gradients, m: m, v: v, count: count, lr: Float(lr), beta1: beta1, beta2: beta2,
            eps: eps, biasCorrection1: bc1, biasCorrection2Sqrt: bc2Sqrt, gradScale: gradScale)
    }
}

/// The shape of the learning rate after warm-up (config key `lr_schedule`).
public enum LRScheduleKind: String, Sendable, Equatable, CaseIterable {
    /// Cosine decay over all steps after warm-up (nanoGPT's get_lr): the rate falls from the start, so the loss
    /// curve's late flattening is partly the anneal itself.
    case cosine
    /// Warm-up–stable–decay: the peak rate held until the last `lr_decay_fraction` of training, then a linear decay
    /// (MiniCPM, Hu et al. 2024, arXiv:2404.06395; Hägele et al. 2024, arXiv:2405.18392). The stable phase shows
    /// whether a model still learns at a fixed rate, without the anneal's own drop in the loss.
    case wsd
}

/// Linear warm-up to the peak, then a decay that reaches `minRatio` × peak at step `totalSteps`, one past the last
/// step taken (nanoGPT's convention): cosine over all remaining steps, or (WSD) held at the peak until `decayStart`
/// and then linear.
public struct LRSchedule: Sendable, Equatable {
    public let peak: Double
    public let warmupSteps: Int
    public let totalSteps: Int
    public let minRatio: Double
    public let kind: LRScheduleKind
    /// The first step of the decay phase: `warmupSteps` for cosine; for WSD the step after which the last
    /// `decayFraction` of the steps remain (never before the end of warm-up, never past the last step).
    public let decayStart: Int

    public init(
        peak: Double, warmupSteps: Int, totalSteps: Int, minRatio: Double, kind: LRScheduleKind = .cosine,
        decayFraction: Double = 0
    ) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.minRatio = minRatio
        self.kind = kind
        switch kind {
        case .cosine: decayStart = warmupSteps
        case .wsd:
            let decaySteps = Int((decayFraction * Double(totalSteps)).rounded())
            decayStart = min(totalSteps, max(warmupSteps, totalSteps - decaySteps))
        }
    }

    /// Learning rate for 0-based step `step`.
    public func lr(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let decaySteps = max(totalSteps - decayStart, 1)
        let progress = min(max(Double(step - decayStart) / Double(decaySteps), 0), 1)
        let remaining: Double
        switch kind {
        case .cosine: remaining = 0.5 * (1 + cos(Double.pi * progress))
        case .wsd: remaining = 1 - progress
        }
        return peak * (minRatio + (1 - minRatio) * remaining)
    }
}
