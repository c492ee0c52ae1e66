import Embeddings
import Foundation
import Kernels
import Model
import RunFormat
import TensorFile
import Trainer
import XCTest

/// Sampling and the effective input table, for every registered strategy on a tiny trained model.
final class TextGenerationTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-generation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// A model of `strategy` trained for a few steps on the Markov stream (μP strategies get `parametrization: mup`).
    func trained(_ strategy: any EmbeddingStrategy.Type, batchSize: Int = 4) throws -> Trainer {
        var c = TrainConfig()
        c.corpus = "markov"; c.vocabSize = 256
        c.dModel = 32; c.nLayer = 2; c.nHead = 2; c.contextLength = 16
        c.batchSize = batchSize; c.maxSteps = 20; c.learningRate = 3e-3; c.warmupSteps = 5
        c.evalInterval = 10; c.evalBatches = 1; c.finalEvalBatches = 1; c.logInterval = 5; c.checkpointInterval = 100
        c.snapshots = false
        c.strategy = strategy.name
        let context = EmbeddingContext(vocabulary: .bytes, dModel: 32, seed: c.seed)
        c.strategyOptions = try strategy.exampleOptions(for: context).mapValues { try JSONValue(any: $0) }
        func make(_ c: TrainConfig) throws -> Trainer {
            let data = RunData(
                vocabulary: .bytes, batches: MarkovBatches(context: c.contextLength, batchSize: c.batchSize, seed: c.seed),
                corpusSHA256: "test", tokenizerSHA256: "test", trainTokens: 36_000, validationTokens: 4_000)
            return try Trainer(config: c, data: data, folder: nil)
        }
        let t: Trainer
        do { t = try make(c) } catch {  // a μP strategy under SP
            c.parametrization = "mup"
            t = try make(c)
        }
        _ = try t.run()
        return t
    }

    func testSamplingIsDeterministicAndDrawsFromTheModelsSoftmax() throws {
        for strategy in StrategyRegistry.all {
            let name = strategy.name
            let model = try trained(strategy, batchSize: 1).model
            let generator = TextGenerator(model: model)
            let prompt: [Int32] = [97, 98, 99, 100, 101]

            // Same seed, same tokens; past the context window (16) the context is cropped, not an error.
            let options = SamplingOptions(temperature: 1, topK: nil, seed: 7)
            let a = generator.generate(prompt: prompt, count: 24, options: options)
            XCTAssertEqual(a, generator.generate(prompt: prompt, count: 24, options: options), name)
            XCTAssertEqual(a.count, 24)

            // The distribution at temperature 1 is the model's own softmax: −log p(target) is the model's
            // cross-entropy for that token (computed by the training kernel, independently of the sampler).
            let logits = generator.nextTokenLogits(context: prompt)
            let p = logits.withUnsafeBufferPointer { Sampler.distribution(logits: $0, temperature: 1, topK: nil) }
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12, name)
            for target: Int32 in [97, 105, 200] {
                for i in 0..<model.config.contextLength { model.inputs[i] = i < prompt.count ? prompt[i] : 0; model.targets[i] = target }
                model.forward(batch: 1)
                XCTAssertEqual(-log(p[Int(target)]), Double(model.lastLosses[prompt.count - 1]), accuracy: 2e-5, "\(name) target \(target)")
            }

            // The first generated token, over many seeds, is distributed as that softmax: tokens are grouped in id
            // order into bins of ≥ 10 % probability, and each bin's frequency must lie within 5 binomial standard
            // errors of its mass (the seeds are fixed, so this cannot flake).
            let n = 2000
            var counts = [Int](repeating: 0, count: p.count)
            for seed in 0..<n {
                let first = generator.generate(prompt: prompt, count: 1, options: SamplingOptions(temperature: 1, topK: nil, seed: UInt64(seed)))
                counts[Int(first[0])] += 1
            }
            var bins: [(mass: Double, count: Int)] = [(0, 0)]
            for (id, q) in p.enumerated() {
                if bins[bins.count - 1].mass >= 0.1 { bins.append((0, 0)) }
                bins[bins.count - 1].mass += q; bins[bins.count - 1].count += counts[id]
            }
            XCTAssertGreaterThanOrEqual(bins.count, 5, name)
            for b in bins {
                XCTAssertEqual(Double(b.count) / Double(n), b.mass, accuracy: 5 * (b.mass * (1 - b.mass) / Double(n)).squareRoot(), name)
            }

            // Temperature → 0 draws the argmax: the same tokens as greedy decoding.
            let greedy = generator.generate(prompt: prompt, count: 8, options: SamplingOptions(temperature: 0, topK: nil, seed: 1))
            let cold = generator.generate(prompt: prompt, count: 8, options: SamplingOptions(temperature: 1e-4, topK: nil, seed: 99))
            XCTAssertEqual(greedy, cold, name)
            XCTAssertEqual(greedy.first, Int32(logits.indices.max { logits[$0] < logits[$1] }!), name)

            // A context longer than the window sees only its last context_length tokens.
            let long = (0..<40).map { Int32(97 + $0 % 16) }
            XCTAssertEqual(generator.nextTokenLogits(context: long), generator.nextTokenLogits(context: Array(long.suffix(16))), name)
        }
    }

    func testTopKKeepsOnlyTheKLargestAndTiesWithTheKth() {
        let logits: [Float] = [1, 3, 2, 3, -1]
        let p = logits.withUnsafeBufferPointer { Sampler.distribution(logits: $0, temperature: 0.5, topK: 2) }
        XCTAssertEqual(p[0], 0); XCTAssertEqual(p[2], 0); XCTAssertEqual(p[4], 0)
        XCTAssertEqual(p[1], 0.5, accuracy: 1e-15); XCTAssertEqual(p[3], 0.5, accuracy: 1e-15)
        let q = logits.withUnsafeBufferPointer { Sampler.distribution(logits: $0, temperature: 2, topK: 3) }
        // softmax([1, 3, 2, 3] / 2) restricted to the top 3 (3, 3, 2): e^1.5, e^1.5, e^1 normalised.
        let z = 2 * exp(1.5) + exp(1.0)
        XCTAssertEqual(q[1], exp(1.5) / z, accuracy: 1e-15); XCTAssertEqual(q[2], exp(1.0) / z, accuracy: 1e-15)
        XCTAssertEqual(q[0], 0)
    }

    /// The effective table is what the model embeds: a `learned` model whose table is that effective table (and
    /// every other tensor copied) gives the same logits, for every strategy (μP's α_in is folded into the table).
    func testEffectiveInputTableReproducesTheModel() throws {
        for strategy in StrategyRegistry.all {
            let source = try trained(strategy).model
            var config = source.config
            config.tieEmbeddings = false
            let context = EmbeddingContext(vocabulary: .bytes, dModel: config.dModel, seed: 1)
            let copy = try GPT(
                config: config, strategy: try StrategyRegistry.make(name: "learned", context: context),
                batchSize: source.batchSize, seed: 2)
            let table = source.effectiveInputTable()
            for p in copy.store.parameters {
                let target = copy.store.value(p)
                if p.kind == .embedding {
                    table.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: p.count) }
                } else if let q = source.store[p.name] {
                    target.update(from: source.store.value(q), count: p.count)
                } else {
                    // The head of a tied source is its table.
                    let tied = source.store["embedding." + source.strategy.tensors[0].name]!
                    target.update(from: source.store.value(tied), count: p.count)
                }
            }
            var rng = Xoshiro256(seed: 5)
            let n = source.batchSize * config.contextLength
            for i in 0..<n {
                let id = Int32(rng.nextInt(below: config.vocabSize))
                source.inputs[i] = id; copy.inputs[i] = id; source.targets[i] = 0; copy.targets[i] = 0
            }
            source.forward(batch: source.batchSize, forBackward: false); copy.forward(batch: copy.batchSize, forBackward: false)
            let a = Array(source.lastLogits), b = Array(copy.lastLogits)
            let scale = a.map(abs).max()!
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst / scale, 1e-6, strategy.name)
        }
    }
}
