import Embeddings
import Foundation
import Kernels
import XCTest

/// The fixture every strategy is tested on: 300 tokens (the 256 bytes plus 44 multi-byte merges, some word-initial,
/// some multi-byte UTF-8), and d_model = 48 (divisible by 3 for hashed blocks, > lowrank's default rank 32).
enum Fixture {
    static let merges: [String] = [
        " the", "ing", " and", "th", "he", "er", "in", " of", " to", " a", "ou", "an", " th", "en", "re", " s",
        "on", "nd", "ed", " w", "is", " be", "ll", " I", "es", "at", " that", "or", " my", "it", " you", "ar",
        " his", "ion", "tion", " thee", " thou", "é", " café", "日本", " then", "the", "ring", " king",
    ]
    static let vocabulary = Vocabulary(tokenBytes: (0..<256).map { [UInt8($0)] } + merges.map { Array($0.utf8) })
    static let dModel = 48
    static let seed: UInt64 = 1234

    static func context(
        seed: UInt64 = seed, parametrization: Parametrization = .sp,
        vocabulary: Vocabulary = vocabulary, dModel: Int = dModel
    ) -> EmbeddingContext {
        EmbeddingContext(vocabulary: vocabulary, dModel: dModel, seed: seed, parametrization: parametrization)
    }

    /// A batch of 64 token ids with deliberate repeats (ids 300-1, 32 and 256 occur several times), so every gradient
    /// test also checks that repeated tokens accumulate.
    static let tokens: [Int32] = {
        var rng = Xoshiro256(seed: 99)
        var t = (0..<56).map { _ in Int32(rng.nextInt(below: vocabulary.count)) }
        t += [299, 299, 32, 256, 299, 32, 256, 256]
        return t
    }()

    /// Makes `type` with default options (or `options`): in a `parametrization` context (default SP), or — if the
    /// strategy rejects SP as `.incompatible` (e.g. `mup`) — in a μP context with base width d_model.
    static func make(
        _ type: any EmbeddingStrategy.Type, options userOptions: [String: Any] = [:], seed: UInt64 = seed,
        vocabulary: Vocabulary = vocabulary, dModel: Int = dModel, parametrization: Parametrization = .sp
    ) throws -> any EmbeddingStrategy {
        // A strategy's example options (e.g. transplant's source checkpoint) under the test's own; a test that passes
        // an example option's default value back explicitly does not undo the example.
        let defaults = StrategyRegistry.defaultOptions(of: type)
        let example = try type.exampleOptions(for: context(seed: seed, vocabulary: vocabulary, dModel: dModel))
        let explicit = userOptions.filter { key, value in
            guard example[key] != nil, let d = defaults[key] else { return true }
            return "\(d)" != "\(value)"
        }
        let options = example.merging(explicit) { _, user in user }
        do {
            return try StrategyRegistry.make(
                name: type.name, options: options,
                context: context(seed: seed, parametrization: parametrization, vocabulary: vocabulary, dModel: dModel))
        } catch StrategyError.incompatible {
            return try StrategyRegistry.make(
                name: type.name, options: options,
                context: context(
                    seed: seed, parametrization: .mup(baseWidth: dModel),
                    vocabulary: vocabulary, dModel: dModel))
        }
    }
}

/// Owns a strategy's tensors the way the model does: one buffer per `TensorSpec`, a gradient buffer only for
/// trainable ones (nil otherwise). Buffers start as NaN, so a strategy that leaves an element unwritten is caught.
final class Harness {
    let strategy: any EmbeddingStrategy
    let specs: [TensorSpec]
    let dModel: Int
    var values: [UnsafeMutableBufferPointer<Float>]
    var gradients: [UnsafeMutableBufferPointer<Float>?]

    init(_ strategy: any EmbeddingStrategy, dModel: Int = Fixture.dModel, withGradients: Bool = true) {
        self.strategy = strategy
        self.dModel = dModel
        specs = strategy.tensors
        values = specs.map { spec in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: spec.count)
            b.initialize(repeating: .nan)
            return b
        }
        gradients = specs.map { spec in
            guard spec.trainable && withGradients else { return nil }
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: spec.count)
            b.initialize(repeating: 0)
            return b
        }
        strategy.initialize(values)
    }

    deinit {
        values.forEach { $0.deallocate() }
        gradients.forEach { $0?.deallocate() }
    }

    var pointers: TensorPointers {
        TensorPointers(values: values.map { $0.baseAddress! }, gradients: gradients.map { $0?.baseAddress })
    }

    func forward(_ tokens: [Int32]) -> [Float] {
        var out = [Float](repeating: .nan, count: tokens.count * dModel)
        let p = pointers
        tokens.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                strategy.forward(into: o.baseAddress!, tokens: t.baseAddress!, count: tokens.count, tensors: p)
            }
        }
        return out
    }

    func backward(dout: [Float], tokens: [Int32]) {
        precondition(dout.count == tokens.count * dModel)
        let p = pointers
        tokens.withUnsafeBufferPointer { t in
            dout.withUnsafeBufferPointer { d in
                strategy.backward(dout: d.baseAddress!, tokens: t.baseAddress!, count: tokens.count, tensors: p)
            }
        }
    }

    func zeroGradients() { for g in gradients { g?.update(repeating: 0) } }

    /// A copy of tensor i. Read tensors through copies (or inside `withExtendedLifetime(harness)`): ARC may release a
    /// harness right after its last use, freeing the buffers that a bare `harness.values[i]` still points to.
    func table(_ i: Int) -> [Float] { Array(values[i]) }
    func snapshot() -> [[Float]] { values.map(Array.init) }
    func gradientSnapshot() -> [[Float]?] { gradients.map { $0.map(Array.init) } }
}

/// Σ out ⊙ r in Double: the scalar loss of the gradient checks.
func dotLoss(_ out: [Float], _ r: [Float]) -> Double {
    var s = 0.0
    for i in out.indices { s += Double(out[i]) * Double(r[i]) }
    return s
}

func standardDeviation<C: Collection>(_ xs: C) -> Double where C.Element == Float {
    let n = Double(xs.count)
    let mean = xs.reduce(0.0) { $0 + Double($1) } / n
    return (xs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
}

func uniformVector(count: Int, seed: UInt64) -> [Float] {
    var rng = Xoshiro256(seed: seed)
    return (0..<count).map { _ in 2 * rng.nextUniform() - 1 }
}

/// Bit patterns, so NaN == NaN and −0 ≠ +0: "identical" means bit-identical.
func bits(_ xs: [Float]) -> [UInt32] { xs.map(\.bitPattern) }
