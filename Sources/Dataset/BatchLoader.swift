import Kernels

/// One batch held in memory: `inputs[b*T + t] = tokens[s_b + t]`, `targets[b*T + t] = tokens[s_b + t + 1]`.
public struct TokenBatch: Sendable, Equatable {
    public var inputs: [Int32]  // (B, T)
    public var targets: [Int32]  // (B, T)
    public var starts: [Int]  // (B): window start offsets in the stream
    public let batchSize: Int
    public let context: Int
}

/// Draws batches of contiguous windows from a token stream.
///
/// Training batch `step` uses its own generator `Xoshiro256(seed: seed, stream: step)`: window `b` starts at
/// `s_b = rng.nextInt(below: N - T)` for `b = 0..<B` in order, so a (seed, step) pair gives the same batch on
/// every machine whatever was drawn before — resuming at step k draws exactly the batches an unbroken run would.
/// Validation batches are a fixed, evenly spaced set of windows (no randomness).
public struct BatchLoader: Sendable {
    public let tokens: [Int32]
    public let context: Int
    public let batchSize: Int
    public let seed: UInt64
    public let name: String

    /// Throws `corpusTooSmall` when the stream has fewer than `context + 1` tokens (one window plus its target).
    public init(tokens: [Int32], context: Int, batchSize: Int, seed: UInt64, name: String = "token stream") throws {
        precondition(context > 0 && batchSize > 0, "context and batch size must be positive")
        guard tokens.count >= context + 1 else {
            throw DatasetError.corpusTooSmall(corpus: name, have: tokens.count, need: context + 1, unit: "tokens", context: context)
        }
        self.tokens = tokens; self.context = context; self.batchSize = batchSize; self.seed = seed; self.name = name
    }

    /// Number of distinct window starts: 0 ... N - T - 1.
    public var windowCount: Int { tokens.count - context }

    /// Window starts of training batch `step`.
    public func starts(step: Int) -> [Int] {
        var rng = Xoshiro256(seed: seed, stream: UInt64(truncatingIfNeeded: step))
        return (0..<batchSize).map { _ in rng.nextInt(below: windowCount) }
    }

    /// Writes training batch `step` into caller-provided (B, T) buffers; allocates nothing.
    public func fill(step: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        var rng = Xoshiro256(seed: seed, stream: UInt64(truncatingIfNeeded: step))
        for b in 0..<batchSize {
            copyWindow(start: rng.nextInt(below: windowCount), row: b, inputs: inputs, targets: targets)
        }
    }

    /// Array form of `fill(step:inputs:targets:)`; both arrays must hold B·T elements.
    public func fill(step: Int, inputs: inout [Int32], targets: inout [Int32]) {
        precondition(inputs.count == batchSize * context && targets.count == batchSize * context, "buffers must hold B*T ids")
        inputs.withUnsafeMutableBufferPointer { x in
            targets.withUnsafeMutableBufferPointer { y in fill(step: step, inputs: x.baseAddress!, targets: y.baseAddress!) }
        }
    }

    /// Training batch `step`, allocated (tests, inspection).
    public func batch(step: Int) -> TokenBatch {
        var x = [Int32](repeating: 0, count: batchSize * context), y = x
        fill(step: step, inputs: &x, targets: &y)
        return TokenBatch(inputs: x, targets: y, starts: starts(step: step), batchSize: batchSize, context: context)
    }

    /// Start offsets of the fixed validation windows: `count·B` windows evenly spaced over the stream, window
    /// `k` at ⌊k·(N−T−1)/(count·B−1)⌋ (the first at 0, the last ending at the stream's last token).
    public func validationStarts(count: Int) -> [Int] {
        let w = count * batchSize
        guard w > 1 else { return w == 1 ? [0] : [] }
        let last = windowCount - 1
        return (0..<w).map { k in Int((Int64(k) * Int64(last)) / Int64(w - 1)) }
    }

    /// `count` fixed validation batches (deterministic, the same for every seed and step).
    public func validationBatches(count: Int) -> [TokenBatch] {
        let starts = validationStarts(count: count)
        return (0..<count).map { i in
            var x = [Int32](repeating: 0, count: batchSize * context), y = x
            let s = Array(starts[(i * batchSize)..<((i + 1) * batchSize)])
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    for (b, st) in s.enumerated() { copyWindow(start: st, row: b, inputs: xp.baseAddress!, targets: yp.baseAddress!) }
                }
            }
            return TokenBatch(inputs: x, targets: y, starts: s, batchSize: batchSize, context: context)
        }
    }

    @inline(__always)
    private func copyWindow(start s: Int, row b: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        tokens.withUnsafeBufferPointer { t in
            let src = t.baseAddress! + s
            (inputs + b * context).update(from: src, count: context)
            (targets + b * context).update(from: src + 1, count: context)
        }
    }
}
