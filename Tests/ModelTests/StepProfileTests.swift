import Embeddings
import Kernels
import Model
import XCTest

/// The per-operation profile of `ablate bench` (`GPT.profile`): it times a step without changing a bit of it, and it
/// sees every operation of forward and backward, on every shard's slot.
final class StepProfileTests: XCTestCase {
    private let savedThreads = BLAS.threads
    override func tearDown() { BLAS.setThreads(savedThreads) }

    /// With a profile set, the loss and every gradient are bit-identical to a pass without one, at 1 and 2 threads
    /// (3 shards, concurrent at 2 threads; μP, so the input and logit multipliers are applied too), and each category
    /// is called exactly as often as the model's structure says, summed over the shards' slots.
    func testProfileChangesNoBitAndCountsEveryOperation() throws {
        let layers = 2, shards = 3
        let expected: [StepProfile.Category: Int] = [
            .embeddingForward: 1, .layerNormForward: shards * (2 * layers + 1), .linearForward: shards * 4 * layers,
            .attentionForward: shards * layers, .geluForward: shards * layers, .residualAdd: shards * 2 * layers,
            .headForward: shards, .lossForward: shards + 1,  // one per shard, and the batch's mean loss
            .headBackward: shards, .linearBackward: shards * 4 * layers,
            .attentionBackward: shards * layers, .geluBackward: shards * layers, .layerNormBackward: shards * (2 * layers + 1),
            .activationGradientZeroing: shards * (2 + 5 * layers),  // dln, dresidual; five buffers per block
            .shardGradientSum: 1, .embeddingBackward: 1,
            .parameterGradientZeroingAndNorm: shards - 1,  // the private gradient copies of shards 1…
            .adamW: 0, .data: 0,  // the trainer's, not the model's
        ]
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            let model = try GradientCheckTests.makeModel(bias: true, parametrization: "mup", shards: shards)
            XCTAssertEqual(model.config.nLayer, layers)
            func pass() -> (loss: UInt64, gradients: [UInt32]) {
                let loss = model.forward(batch: 3)
                model.store.zeroGradients()
                model.backward()
                let gradients = UnsafeBufferPointer(start: model.store.gradients, count: model.store.gradientCount)
                return (loss.bitPattern, gradients.map(\.bitPattern))
            }
            let plain = pass()
            let profile = StepProfile(slots: shards)
            model.profile = profile
            let profiled = pass()
            model.profile = nil
            XCTAssertEqual(profiled.loss, plain.loss, "loss, \(threads) threads")
            XCTAssertEqual(profiled.gradients, plain.gradients, "gradients, \(threads) threads")
            let calls = Dictionary(uniqueKeysWithValues: profile.totals.map { ($0.category, $0.calls) })
            for category in StepProfile.Category.allCases {
                XCTAssertEqual(calls[category], expected[category], "\(category), \(threads) threads")
            }
        }
    }
}
