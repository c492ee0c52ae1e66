import Embeddings
import Foundation
import Kernels
import Model

/// The μP coordinate check (Yang et al., Tensor Programs V, §D; microsoft/mup's `get_coord_data`): train several
/// widths for a few Adam steps on one fixed batch with a large learning rate and record the mean |activation| of
/// every module's output at each step. Under μP the curves are flat in width; under SP they grow with width.
public enum CoordinateCheck {
    public struct Record: Codable, Sendable, Equatable {
        public var parametrization: String
        public var strategy: String
        public var width: Int
        public var step: Int
        public var module: String
        public var meanAbs: Double
    }

    public struct Settings: Sendable {
        public var widths: [Int] = [64, 128, 256, 512]
        public var steps: Int = 8
        public var learningRate: Double = 1e-2
        public var baseWidth: Int = 64
        public var layers: Int = 2
        public var headSize: Int = 16
        public var context: Int = 32
        public var batch: Int = 8
        public var vocab: Int = 256
        public var seed: UInt64 = 1
        public init() {}
    }

    /// One fixed batch, returned at every step (the check isolates width, not data).
    final class FixedBatch: BatchSource, @unchecked Sendable {
        let inputs: [Int32], targets: [Int32]
        init(vocab: Int, count: Int, seed: UInt64) {
            var rng = Xoshiro256(seed: seed, stream: 0xC0)
            var x = [Int32](), y = [Int32]()
            for _ in 0..<count { x.append(Int32(rng.nextInt(below: vocab))); y.append(Int32(rng.nextInt(below: vocab))) }
            inputs = x; targets = y
        }
        func trainBatch(step: Int, inputs i: UnsafeMutablePointer<Int32>, targets t: UnsafeMutablePointer<Int32>) {
            inputs.withUnsafeBufferPointer { i.update(from: $0.baseAddress!, count: $0.count) }
            targets.withUnsafeBufferPointer { t.update(from: $0.baseAddress!, count: $0.count) }
        }
        func validationBatch(index: Int, of count: Int, inputs i: UnsafeMutablePointer<Int32>, targets t: UnsafeMutablePointer<Int32>) {
            trainBatch(step: 0, inputs: i, targets: t)
        }
    }

    /// The strategy a parametrization is checked with by default: `learned` under SP, `mup` under μP.
    public static func defaultStrategy(_ parametrization: String) -> String { parametrization == "mup" ? "mup" : "learned" }

    /// Runs each parametrization at every width, with `strategy` (default: `defaultStrategy`) and its default options
    /// (under μP a table's σ_base and α_in, see `TableScale`).
    public static func run(
        _ s: Settings, parametrizations: [String] = ["sp", "mup"], strategy: String? = nil,
        progress: (String) -> Void = { _ in }
    ) throws -> [Record] {
        var records: [Record] = []
        for p in parametrizations {
            let name = strategy ?? defaultStrategy(p)
            for width in s.widths {
                progress("\(p) \(name) width \(width)")
                var c = TrainConfig()
                c.vocabSize = s.vocab; c.dModel = width; c.nLayer = s.layers; c.nHead = max(1, width / s.headSize)
                c.contextLength = s.context; c.batchSize = s.batch; c.seed = s.seed
                c.learningRate = s.learningRate; c.warmupSteps = 0; c.minLRRatio = 1; c.maxSteps = s.steps
                c.gradClip = 0; c.weightDecay = 0
                c.parametrization = p; c.baseWidth = s.baseWidth
                c.strategy = name
                let data = RunData(
                    vocabulary: Vocabulary(tokenBytes: (0..<s.vocab).map { [UInt8($0 % 256)] }),
                    batches: FixedBatch(vocab: s.vocab, count: s.batch * s.context, seed: s.seed),
                    corpusSHA256: "fixed-batch", tokenizerSHA256: "bytes",
                    trainTokens: 1 << 20, validationTokens: 1 << 20)
                let trainer = try Trainer(config: c, data: data, folder: nil)
                let model = trainer.model
                for step in 1...s.steps {
                    data.batches.trainBatch(step: step, inputs: model.inputs, targets: model.targets)
                    // The scales need the logits, which a training forward does not keep: an evaluation forward
                    // first (the same activations to the bit), then the training one.
                    _ = model.forward(batch: s.batch, forBackward: false)
                    for (module, value) in model.activationScales() {
                        records.append(
                            Record(parametrization: p, strategy: name, width: width, step: step, module: module, meanAbs: value))
                    }
                    _ = model.forward(batch: s.batch)
                    model.store.zeroGradients()
                    model.backward()
                    trainer.optimizer.step(lr: s.learningRate, gradScale: 1)
                }
            }
        }
        return records
    }

    /// max/min over widths of a module's mean |activation| at `step` (1 = flat in width), for one strategy (default:
    /// the parametrization's `defaultStrategy`).
    public static func spread(_ records: [Record], parametrization: String, strategy: String? = nil, module: String, step: Int) -> Double {
        let name = strategy ?? defaultStrategy(parametrization)
        let values = records.filter {
            $0.parametrization == parametrization && $0.strategy == name && $0.module == module && $0.step == step
        }.map(\.meanAbs)
        guard let lo = values.min(), let hi = values.max(), lo > 0 else { return .infinity }
        return hi / lo
    }
}
