import Embeddings
import Foundation
import Kernels
import Model

/// How the next token is drawn (nanoGPT's sample.py: logits / temperature, keep the top k, softmax, draw).
public struct SamplingOptions: Sendable, Equatable {
    /// 0 means greedy (always the most likely token).
    public var temperature: Double
    /// Keep only the k most likely tokens (ties with the k-th kept, as nanoGPT does); nil keeps all.
    public var topK: Int?
    public var seed: UInt64
    public init(temperature: Double = 0.8, topK: Int? = 200, seed: UInt64 = 1337) {
        self.temperature = temperature; self.topK = topK; self.seed = seed
    }
}

/// Turns one row of logits into the distribution the next token is drawn from, and draws it.
public enum Sampler {
    /// softmax(logits / temperature) over the top-k logits (0 elsewhere), in Double; temperature 0 gives a one-hot
    /// on the first largest logit.
    public static func distribution(logits: UnsafeBufferPointer<Float>, temperature: Double, topK: Int?) -> [Double] {
        let v = logits.count
        var p = [Double](repeating: 0, count: v)
        guard v > 0 else { return p }
        if temperature == 0 {
            var best = 0
            for i in 1..<v where logits[i] > logits[best] { best = i }
            p[best] = 1
            return p
        }
        var threshold = -Double.infinity
        if let k = topK, k < v {
            threshold = Double(logits.sorted(by: >)[max(k, 1) - 1])
        }
        var maxLogit = -Double.infinity
        for i in 0..<v where Double(logits[i]) >= threshold { maxLogit = max(maxLogit, Double(logits[i])) }
        var total = 0.0
        for i in 0..<v where Double(logits[i]) >= threshold {
            p[i] = exp((Double(logits[i]) - maxLogit) / temperature)
            total += p[i]
        }
        for i in 0..<v { p[i] /= total }
        return p
    }

    /// Inverse-CDF draw with one uniform number from `rng`.
    public static func draw(_ p: [Double], rng: inout Xoshiro256) -> Int {
        let u = rng.nextDouble()
        var cumulative = 0.0
        var last = 0
        for (i, q) in p.enumerated() where q > 0 {
            cumulative += q
            last = i
            if u < cumulative { return i }
        }
        return last
    }
}

/// Autoregressive generation with a trained `GPT`. The model runs on whole windows of context_length tokens; the
/// prompt and generated tokens fill the start of one sequence (the causal mask makes the padding after them
/// irrelevant), and a context longer than the window is cropped to its last context_length tokens, as nanoGPT does.
public final class TextGenerator {
    public let model: GPT
    public init(model: GPT) { self.model = model }

    /// The logits (after the model's output multiplier) of the token following `context`.
    public func nextTokenLogits(context: [Int32]) -> [Float] {
        precondition(!context.isEmpty, "generation needs at least one context token")
        let T = model.config.contextLength, V = model.config.vocabSize
        let window = context.suffix(T)
        for (i, id) in window.enumerated() { model.inputs[i] = id }
        for i in window.count..<T { model.inputs[i] = 0 }
        for i in 0..<T { model.targets[i] = 0 }
        model.forward(batch: 1, forBackward: false)
        let row = window.count - 1
        return Array(model.lastLogits[(row * V)..<((row + 1) * V)])
    }

    /// Draws `count` tokens after `prompt`, calling `onToken` with each as soon as it is drawn. The same prompt,
    /// options and weights give the same tokens.
    @discardableResult
    public func generate(prompt: [Int32], count: Int, options: SamplingOptions, onToken: (Int32) -> Void = { _ in }) -> [Int32] {
        var rng = Xoshiro256(seed: options.seed)
        var context = prompt
        var out: [Int32] = []
        for _ in 0..<count {
            let logits = nextTokenLogits(context: context)
            let p = logits.withUnsafeBufferPointer {
                Sampler.distribution(logits: $0, temperature: options.temperature, topK: options.topK)
            }
            let next = Int32(Sampler.draw(p, rng: &rng))
            out.append(next)
            context.append(next)
            if context.count > model.config.contextLength { context.removeFirst(context.count - model.config.contextLength) }
            onToken(next)
        }
        return out
    }
}

extension GPT {
    /// The V×D input table as the model sees it: the strategy's forward over token ids 0..<V times its output
    /// multiplier (α_in), before positions are added. It needs no knowledge of the strategy's tensors, so it holds
    /// for every strategy (a hashed or low-rank table is materialised; a frozen one is returned as is).
    public func effectiveInputTable() -> [Float] {
        let v = config.vocabSize, d = config.dModel
        let pointers = TensorPointers(
            values: strategy.tensors.map { store.value(store["embedding." + $0.name]!) },
            gradients: strategy.tensors.map { _ in nil })
        let ids = (0..<v).map { Int32($0) }
        var table = [Float](repeating: 0, count: v * d)
        table.withUnsafeMutableBufferPointer { out in
            ids.withUnsafeBufferPointer { strategy.forward(into: out.baseAddress!, tokens: $0.baseAddress!, count: v, tensors: pointers) }
        }
        let alpha = strategy.outputMultiplier
        if alpha != 1 { for i in table.indices { table[i] *= alpha } }
        return table
    }
}
