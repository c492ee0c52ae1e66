import Dispatch

/// Opt-in wall-clock timing of a training step by operation (`ablate bench --profile`). A model holds an optional
/// profile: nil (the default, and always outside the benchmark) costs one branch per operation call; when set, each
/// call is timed with the monotonic clock into its category's accumulator. Timing reads no tensor and writes none, so
/// the numbers a step computes are the same with or without it.
///
/// Slots let the batch shards, which run concurrently with several threads, record without sharing memory: shard i
/// writes slot i only, and work on the whole batch (which runs while no shard does) writes slot 0. Each slot's
/// accumulators fill whole cache lines, so two shard threads never write the same line. The accumulators are
/// allocated once, at `init`: recording allocates nothing.
public final class StepProfile: @unchecked Sendable {
    /// The part of a training step an operation belongs to.
    public enum Pass: String, Codable, Sendable {
        case forward, backward, update, data
    }

    /// What is timed. Categories never nest (a call that opens one inside another traps), so on one thread their
    /// times are disjoint parts of the step.
    public enum Category: Int, CaseIterable, Codable, Sendable {
        case embeddingForward, layerNormForward, linearForward, attentionForward, geluForward, residualAdd
        case headForward, lossForward
        case headBackward, linearBackward, attentionBackward, geluBackward, layerNormBackward
        case activationGradientZeroing, shardGradientSum, embeddingBackward
        case parameterGradientZeroingAndNorm, adamW, data

        public var pass: Pass {
            switch self {
            case .embeddingForward, .layerNormForward, .linearForward, .attentionForward, .geluForward, .residualAdd,
                .headForward, .lossForward:
                return .forward
            case .headBackward, .linearBackward, .attentionBackward, .geluBackward, .layerNormBackward,
                .activationGradientZeroing, .shardGradientSum, .embeddingBackward:
                return .backward
            case .parameterGradientZeroingAndNorm, .adamW: return .update
            case .data: return .data
            }
        }

        /// What the category holds, for tables.
        public var label: String {
            switch self {
            case .embeddingForward: return "embedding strategy + α_in scaling + wpe"
            case .layerNormForward, .layerNormBackward: return "LayerNorm"
            case .linearForward, .linearBackward: return "block Linear products (c_attn, attn c_proj, c_fc, mlp c_proj)"
            case .attentionForward: return "attention: QKᵀ, causal softmax, ·V"
            case .attentionBackward: return "attention: its products and the softmax's backward"
            case .geluForward, .geluBackward: return "GELU"
            case .residualAdd: return "residual adds"
            case .headForward, .headBackward: return "head product (lm_head, V outputs)"
            case .lossForward: return "logit scaling + softmax/cross-entropy and its gradient + mean loss"
            case .activationGradientZeroing: return "zeroing activation-gradient buffers (products accumulate into them)"
            case .shardGradientSum: return "adding the shards' parameter gradients"
            case .embeddingBackward: return "wpe gradient + α_in scaling + embedding strategy"
            case .parameterGradientZeroingAndNorm: return "zeroing parameter gradients (store, shard copies) + clip norm"
            case .adamW: return "AdamW"
            case .data: return "batch loading"
            }
        }
    }

    /// Time and call count of one category, summed over slots.
    public struct Total: Codable, Sendable {
        public var category: Category
        public var nanoseconds: UInt64
        public var calls: Int
    }

    /// How many slots (concurrent recorders) this profile has room for.
    public let slots: Int

    private struct Accumulator {
        var nanoseconds: UInt64 = 0
        var calls: UInt64 = 0
    }
    /// Accumulators per slot: one per category and one whose `calls` marks an open measurement (the nesting guard),
    /// rounded up to whole 64-byte cache lines.
    private static let stride = (Category.allCases.count + 1 + 3) / 4 * 4
    private static let openIndex = Category.allCases.count
    private let accumulators: UnsafeMutablePointer<Accumulator>

    public init(slots: Int) {
        self.slots = max(1, slots)
        let count = self.slots * Self.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Accumulator>.stride, alignment: 64)
        accumulators = raw.bindMemory(to: Accumulator.self, capacity: count)
        accumulators.initialize(repeating: Accumulator(), count: count)
    }

    deinit { UnsafeMutableRawPointer(accumulators).deallocate() }

    /// The monotonic clock the profile uses, in nanoseconds (for timing the enclosing step on the same clock).
    @inline(__always)
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Runs `body`, adding its wall time to `category` in `slot` (shard index; 0 for whole-batch work).
    @inline(__always)
    public func measure<R>(_ category: Category, slot: Int = 0, _ body: () -> R) -> R {
        if slot < 0 || slot >= slots { fatalError("StepProfile: slot \(slot) outside the profile's \(slots) slots") }
        let base = accumulators + slot * Self.stride
        if base[Self.openIndex].calls != 0 { fatalError("StepProfile: \(category) timed inside another category of slot \(slot)") }
        base[Self.openIndex].calls = 1
        let start = Self.now()
        let result = body()
        let elapsed = Self.now() &- start
        base[category.rawValue].nanoseconds &+= elapsed
        base[category.rawValue].calls &+= 1
        base[Self.openIndex].calls = 0
        return result
    }

    /// Every category's time and calls, summed over slots, in the enum's order. Call it while nothing records.
    public var totals: [Total] {
        Category.allCases.map { c in
            var total = Total(category: c, nanoseconds: 0, calls: 0)
            for s in 0..<slots {
                let a = accumulators[s * Self.stride + c.rawValue]
                total.nanoseconds += a.nanoseconds
                total.calls += Int(a.calls)
            }
            return total
        }
    }

    /// Clears every accumulator (between a warm-up and the measured steps).
    public func reset() { accumulators.update(repeating: Accumulator(), count: slots * Self.stride) }
}

extension Optional where Wrapped == StepProfile {
    /// Runs `body`, timed into `category` when a profile is set; without one, this is a single branch (inlinable, so
    /// the callers in other modules inline it and call `body` directly).
    @inlinable @inline(__always)
    public func measure<R>(_ category: StepProfile.Category, slot: Int = 0, _ body: () -> R) -> R {
        if let profile = self { return profile.measure(category, slot: slot, body) }
        return body()
    }
}
