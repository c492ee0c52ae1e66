import Embeddings
import Kernels
import Model
import XCTest

/// The model splits the batch into a fixed number of shards of whole sequences, each carried through the blocks as a
/// unit with its own gradient buffers, added into the store in shard order (GPT.Shard); with several threads the
/// shards run concurrently. These tests pin down that with two or more shards the thread count never changes a bit,
/// that the shard count changes only the rounding of the weight-gradient sums, and that the gradient check holds.
final class ShardTests: XCTestCase {
    private let savedThreads = BLAS.threads
    override func tearDown() { BLAS.setThreads(savedThreads) }

    /// For 2 and 3 shards: loss and every gradient bit-identical at 1, 2 and 3 threads, for a table strategy and for
    /// `lowrank`, whose backward is an sgemm over the whole batch (500 rows: the summed dimension of the weight
    /// gradients is not a multiple of any blocking). With one shard and several threads OpenBLAS splits products
    /// itself and may round differently; that case is not claimed (README, GPT.Shard).
    func testThreadCountDoesNotChangeABit() throws {
        for (strategy, shards) in [("learned", 2), ("learned", 3), ("lowrank", 2)] {
            let reference = try lossAndGradients(threads: 1, shards: shards, dModel: 64, context: 100, strategy: strategy)
            for threads in [2, 3] {
                let other = try lossAndGradients(threads: threads, shards: shards, dModel: 64, context: 100, strategy: strategy)
                XCTAssertEqual(other.loss.bitPattern, reference.loss.bitPattern, "loss, \(shards) shards, \(threads) threads")
                for (name, g) in reference.gradients {
                    let differing = zip(g, other.gradients[name]!).filter { $0.0.bitPattern != $0.1.bitPattern }.count
                    XCTAssertEqual(differing, 0, "\(name): \(differing) elements differ, \(shards) shards, \(threads) vs 1 threads")
                }
            }
        }
    }

    /// Loss and every gradient with 2, 3 and 5 shards (2+3, 1+2+2, 1+1+1+1+1 sequences) match one shard: the loss up
    /// to the order of one Float sum per row, the gradients to float rounding (weight gradients are sums over the
    /// batch's rows, split at another place; 1e-5 of the tensor's largest entry is ~100 ulp).
    func testShardCountChangesOnlyRounding() throws {
        for (bias, tie) in [(false, false), (true, false), (false, true)] {
            let reference = try lossAndGradients(threads: 2, shards: 1, bias: bias, tie: tie)
            for shards in [2, 3, 5] {
                let sharded = try lossAndGradients(threads: 2, shards: shards, bias: bias, tie: tie)
                XCTAssertEqual(sharded.loss, reference.loss, accuracy: 1e-6 * abs(reference.loss), "loss, \(shards) shards")
                for (name, g) in reference.gradients {
                    let scale = g.map { abs($0) }.max()!
                    let worst = zip(g, sharded.gradients[name]!).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(name), \(shards) shards (bias \(bias), tied \(tie))")
                }
            }
        }
    }

    /// Repeated passes are bit-identical, and backward accumulates: twice without zeroing gives twice the gradient
    /// (the private shard buffers are cleared each pass, the store's are not).
    func testShardedIsDeterministicAndAccumulates() throws {
        BLAS.setThreads(2)
        let model = try makeModel(batch: 4, shards: 2, bias: true, tie: false)
        func gradients(passes: Int = 1) -> [Float] {
            _ = model.forward(batch: 4)
            model.store.zeroGradients()
            for _ in 0..<passes { model.backward() }
            return Array(UnsafeBufferPointer(start: model.store.gradients, count: model.store.gradientCount))
        }
        let first = gradients()
        XCTAssertEqual(gradients().map(\.bitPattern), first.map(\.bitPattern))
        let twice = gradients(passes: 2)
        for i in first.indices { XCTAssertEqual(twice[i], 2 * first[i], accuracy: 1e-6 * max(1, abs(first[i]))) }
    }

    /// A batch smaller than the shard count gets one shard per sequence; a batch smaller than the model's rebuilds
    /// the shards (3 → 2 → 1 shards, and 4 → 3 sequences in 3 shards, which keeps the private gradient buffers), and
    /// loss and gradients still match an unsharded model.
    func testSmallAndChangingBatches() throws {
        BLAS.setThreads(2)
        let sharded = try makeModel(batch: 4, shards: 3, bias: true, tie: false)
        let single = try makeModel(batch: 4, shards: 1, bias: true, tie: false)
        for batch in [4, 2, 1, 4, 3, 4] {
            XCTAssertEqual(sharded.forward(batch: batch), single.forward(batch: batch), accuracy: 1e-6, "loss, batch \(batch)")
            for model in [sharded, single] { model.store.zeroGradients(); model.backward() }
            let a = UnsafeBufferPointer(start: sharded.store.gradients, count: sharded.store.gradientCount)
            let b = UnsafeBufferPointer(start: single.store.gradients, count: single.store.gradientCount)
            let scale = b.map { abs($0) }.max()!
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max()!, 1e-5 * scale, "gradients, batch \(batch)")
        }
    }

    /// The finite-difference check of GradientCheckTests on sharded models (batch 3 in 3 shards), at 1 and 2 threads.
    func testGradientCheckWithShards() throws {
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            GradientCheckTests.checkPerTensor(try GradientCheckTests.makeModel(bias: true, parametrization: "sp", shards: 3))
            GradientCheckTests.checkPerTensor(try GradientCheckTests.makeModel(bias: false, parametrization: "mup", tie: true, shards: 3))
        }
    }

    // MARK: - helpers

    func makeModel(
        batch: Int, shards: Int, bias: Bool, tie: Bool, dModel: Int = 16, context T: Int = 32,
        strategy name: String = "learned"
    ) throws -> GPT {
        let config = ModelConfig(vocabSize: 31, dModel: dModel, nLayer: 2, nHead: 2, contextLength: T, bias: bias, tieEmbeddings: tie)
        let vocab = Vocabulary(tokenBytes: (0..<31).map { [UInt8($0 + 65)] })
        let context = EmbeddingContext(vocabulary: vocab, dModel: dModel, seed: 2)
        let options: [String: Any] = name == "lowrank" ? ["rank": 32, "init_std": 0.5] : ["init_std": 0.5]
        let strategy = try StrategyRegistry.make(name: name, options: options, context: context)
        let model = try GPT(config: config, strategy: strategy, batchSize: batch, shards: shards, seed: 4)
        var rng = Xoshiro256(seed: 8)
        for i in 0..<(batch * T) {
            model.inputs[i] = Int32(rng.nextInt(below: 31))
            model.targets[i] = Int32(rng.nextInt(below: 31))
        }
        return model
    }

    func lossAndGradients(
        threads: Int, shards: Int, bias: Bool = false, tie: Bool = false, dModel: Int = 16,
        context: Int = 32, strategy: String = "learned"
    ) throws -> (loss: Double, gradients: [String: [Float]]) {
        BLAS.setThreads(threads)
        let model = try makeModel(batch: 5, shards: shards, bias: bias, tie: tie, dModel: dModel, context: context, strategy: strategy)
        let loss = model.forward(batch: 5)
        model.store.zeroGradients()
        model.backward()
        var gradients: [String: [Float]] = [:]
        for p in model.store.parameters {
            guard let g = model.store.gradient(p) else { continue }
            gradients[p.name] = Array(UnsafeBufferPointer(start: g, count: p.count))
        }
        return (loss, gradients)
    }
}
