import Embeddings
import Foundation
import Kernels
import Model

/// Measures training throughput of one model shape in this process: tokens/s, the forward/backward/optimizer
/// split, and model FLOP utilisation against the sgemm peak measured in the same process and thread count.
public enum TrainingBenchmark {
    /// A benchmark shape (the configs a, b, c).
    public struct Shape: Codable, Sendable {
        public var name: String, vocab: Int, dModel: Int, layers: Int, heads: Int, context: Int, batch: Int
    }

    public static let shapes: [Shape] = [
        Shape(name: "a", vocab: 512, dModel: 128, layers: 4, heads: 4, context: 128, batch: 16),
        Shape(name: "b", vocab: 2048, dModel: 256, layers: 4, heads: 4, context: 128, batch: 16),
        Shape(name: "c", vocab: 4096, dModel: 512, layers: 6, heads: 8, context: 256, batch: 8),
    ]

    public struct Result: Codable, Sendable {
        public var shape: Shape
        public var threads: Int
        public var kernel: String
        public var steps: Int
        public var tokensPerSecond: Double
        public var msForward: Double, msBackward: Double, msOptimizer: Double
        public var flopsPerToken: Double
        public var modelGFLOPS: Double
        public var sgemmPeakGFLOPS: Double
        public var mfu: Double
        public var nonEmbeddingParameters: Int
        public var peakRSSMiB: Double
    }

    /// Random tokens: throughput does not depend on the text.
    final class RandomBatches: BatchSource, @unchecked Sendable {
        let vocab: Int, count: Int
        init(vocab: Int, count: Int) { self.vocab = vocab; self.count = count }
        func trainBatch(step: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
            var rng = Xoshiro256(seed: 7, stream: UInt64(step))
            for i in 0..<count { inputs[i] = Int32(rng.nextInt(below: vocab)); targets[i] = Int32(rng.nextInt(below: vocab)) }
        }
        func validationBatch(index: Int, of total: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
            trainBatch(step: -1 - index, inputs: inputs, targets: targets)
        }
    }

    /// sgemm GFLOP/s at the current thread count: the best of the square product and the model's own shapes.
    public static func sgemmPeak(for shape: Shape) -> Double {
        let rows = shape.batch * shape.context
        return [
            BLAS.measureGFLOPS(m: 1024, n: 1024, k: 1024, repeats: 5),
            BLAS.measureGFLOPS(m: rows, n: 4 * shape.dModel, k: shape.dModel, repeats: 5),
            BLAS.measureGFLOPS(m: rows, n: shape.vocab, k: shape.dModel, repeats: 5),
        ].max()!
    }

    /// Trains `warmup` + `steps` steps of `shape` with `threads` OpenBLAS threads and times the last `steps`.
    public static func run(shape: Shape, threads: Int, steps: Int, warmup: Int = 2) throws -> Result {
        BLAS.setThreads(threads)
        // The peak is measured before and after the timed steps and the higher used, so a slow spell of this shared
        // machine during one measurement cannot inflate the MFU.
        let peakBefore = sgemmPeak(for: shape)
        var config = TrainConfig()
        config.vocabSize = shape.vocab; config.dModel = shape.dModel; config.nLayer = shape.layers; config.nHead = shape.heads
        config.contextLength = shape.context; config.batchSize = shape.batch; config.threads = threads
        config.maxSteps = warmup + steps; config.warmupSteps = 1
        config.evalInterval = 1_000_000; config.logInterval = 1_000_000; config.checkpointInterval = 1_000_000
        config.finalEvalBatches = 1
        let tokenBytes: [[UInt8]] = (0..<shape.vocab).map { (i: Int) -> [UInt8] in
            i < 256 ? [UInt8(i)] : [UInt8(i % 256), UInt8(i / 256)]
        }
        let vocab = Vocabulary(tokenBytes: tokenBytes)
        let data = RunData(
            vocabulary: vocab, batches: RandomBatches(vocab: shape.vocab, count: shape.batch * shape.context),
            corpusSHA256: "random", tokenizerSHA256: "none", trainTokens: 1 << 30, validationTokens: 1 << 30)
        let trainer = try Trainer(config: config, data: data, folder: nil)
        // Warm-up steps (page faults, thread start-up), then the timed steps.
        let tokensPerStep = shape.batch * shape.context
        for s in 0..<warmup { step(trainer, s) }
        let clock = ContinuousClock()
        var fwd = Duration.zero, bwd = Duration.zero, opt = Duration.zero
        let start = clock.now
        for s in warmup..<(warmup + steps) {
            data.batches.trainBatch(step: s, inputs: trainer.model.inputs, targets: trainer.model.targets)
            let t0 = clock.now
            _ = trainer.model.forward(batch: shape.batch)
            let t1 = clock.now
            trainer.model.store.zeroGradients()
            trainer.model.backward()
            let t2 = clock.now
            let norm = Elementwise.sumOfSquares(trainer.model.store.gradients, count: trainer.model.store.gradientCount).squareRoot()
            let scale: Float = norm > 1 ? Float(1 / norm) : 1
            trainer.optimizer.step(lr: 1e-3, gradScale: scale)
            let t3 = clock.now
            fwd += t1 - t0; bwd += t2 - t1; opt += t3 - t2
        }
        let total = seconds(clock.now - start)
        let tps = Double(tokensPerStep * steps) / total
        let flops = trainer.model.config.trainingFLOPsPerToken
        let peak = max(peakBefore, sgemmPeak(for: shape))
        let modelGFLOPS = flops * tps / 1e9
        return Result(
            shape: shape, threads: threads, kernel: BLAS.coreName, steps: steps, tokensPerSecond: tps,
            msForward: 1000 * seconds(fwd) / Double(steps), msBackward: 1000 * seconds(bwd) / Double(steps),
            msOptimizer: 1000 * seconds(opt) / Double(steps), flopsPerToken: flops, modelGFLOPS: modelGFLOPS,
            sgemmPeakGFLOPS: peak, mfu: modelGFLOPS / peak,
            nonEmbeddingParameters: trainer.model.config.nonEmbeddingParameters, peakRSSMiB: peakRSSMiB())
    }

    private static func step(_ trainer: Trainer, _ s: Int) {
        trainer.data.batches.trainBatch(step: s, inputs: trainer.model.inputs, targets: trainer.model.targets)
        _ = trainer.model.forward(batch: trainer.config.batchSize)
        trainer.model.store.zeroGradients()
        trainer.model.backward()
        trainer.optimizer.step(lr: 1e-3, gradScale: 1)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

    /// Peak resident set size of this process (VmHWM), MiB.
    public static func peakRSSMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
