import Embeddings
import Kernels
import Model
import XCTest

/// Whole-model gradient check: backward against central finite differences of the Float forward pass.
///
/// Tolerance: the loss (~ln V ≈ 2.8) is computed in Float with per-element rounding ~6e-8, so a central difference
/// with step h along a unit direction u carries rounding noise ≈ 2.8·6e-8·√(n_ops)/h; with h = 1e-2 that is ~1e-4.
/// Truncation error is O(h²·|L'''|) ≈ 1e-4 at these scales. We therefore compare directional derivatives g·u
/// (|g·u| ~ 1e-2…1) with |fd − g·u| ≤ 2e-3 + 2 %·|g·u|: a wrong sign, a missing term or a wrong scale in any
/// layer's backward changes g·u by far more (checked by perturbing the test: dropping the 1/N breaks it).
final class GradientCheckTests: XCTestCase {
    static func makeModel(
        bias: Bool, parametrization: String, tie: Bool = false, strategy: String = "learned",
        options: [String: Any] = ["init_std": 0.5], shards: Int = 1
    ) throws -> GPT {
        let config = ModelConfig(
            vocabSize: 23, dModel: 16, nLayer: 2, nHead: 2, contextLength: 6, bias: bias,
            tieEmbeddings: tie, parametrization: parametrization, baseWidth: 8, initStd: 0.2)
        let vocab = Vocabulary(tokenBytes: (0..<23).map { [UInt8($0 + 97)] })
        let context = EmbeddingContext(
            vocabulary: vocab, dModel: 16, seed: 5,
            parametrization: config.resolvedParametrization)
        let embedding = try StrategyRegistry.make(name: strategy, options: options, context: context)
        let model = try GPT(config: config, strategy: embedding, batchSize: 3, shards: shards, seed: 11)
        var rng = Xoshiro256(seed: 99)
        for i in 0..<(3 * 6) {
            model.inputs[i] = Int32(rng.nextInt(below: 23))
            model.targets[i] = Int32(rng.nextInt(below: 23))
        }
        return model
    }

    /// For every tensor, a random unit direction restricted to that tensor: fd(u) vs g·u.
    static func checkPerTensor(_ model: GPT, file: StaticString = #filePath, line: UInt = #line) {
        let store = model.store
        _ = model.forward(batch: 3)
        store.zeroGradients()
        model.backward()
        let grads = Array(UnsafeBufferPointer(start: store.gradients, count: store.gradientCount))
        var rng = Xoshiro256(seed: 7)
        let h: Float = 1e-2
        for p in store.parameters where p.gradientOffset != nil {
            let w = store.value(p)
            var u = (0..<p.count).map { _ in Float(rng.nextNormal()) }
            let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            u = u.map { $0 / norm }
            var analytic = 0.0
            for i in 0..<p.count { analytic += Double(grads[p.gradientOffset! + i]) * Double(u[i]) }
            for i in 0..<p.count { w[i] += h * u[i] }
            let plus = model.forward(batch: 3)
            for i in 0..<p.count { w[i] -= 2 * h * u[i] }
            let minus = model.forward(batch: 3)
            for i in 0..<p.count { w[i] += h * u[i] }
            let numeric = (plus - minus) / (2 * Double(h))
            XCTAssertEqual(
                numeric, analytic, accuracy: 2e-3 + 0.02 * abs(analytic),
                "gradient of \(p.name): finite difference \(numeric) vs backward \(analytic)", file: file, line: line)
        }
    }

    func testGradientsNoBiasSP() throws { Self.checkPerTensor(try Self.makeModel(bias: false, parametrization: "sp")) }
    func testGradientsWithBiasSP() throws { Self.checkPerTensor(try Self.makeModel(bias: true, parametrization: "sp")) }
    func testGradientsMuP() throws { Self.checkPerTensor(try Self.makeModel(bias: false, parametrization: "mup")) }
    /// The μP strategy multiplies its output by α_in: the chain rule must carry α_in into the table's gradient.
    func testGradientsMuPStrategyWithInputMultiplier() throws {
        Self.checkPerTensor(
            try Self.makeModel(
                bias: false, parametrization: "mup", strategy: "mup",
                options: ["init_std": 0.05, "input_multiplier": 10.0]))
    }
    func testGradientsTied() throws { Self.checkPerTensor(try Self.makeModel(bias: false, parametrization: "sp", tie: true)) }

    /// Gradients must accumulate: two backward passes without zeroing give exactly twice the gradient.
    func testBackwardAccumulates() throws {
        let model = try Self.makeModel(bias: true, parametrization: "sp")
        _ = model.forward(batch: 3)
        model.store.zeroGradients()
        model.backward()
        let once = Array(UnsafeBufferPointer(start: model.store.gradients, count: model.store.gradientCount))
        model.backward()
        for i in 0..<once.count { XCTAssertEqual(model.store.gradients[i], 2 * once[i], accuracy: 1e-6 * max(1, abs(once[i]))) }
    }

    /// A forward pass for evaluation (`forBackward: false`: the logits kept, no gradient formed in their place) gives the training
    /// forward's loss and per-token losses to the bit, under SP and under μP (whose logit multiplier the loss applies),
    /// with one and with two shards; a training forward in between leaves the next evaluation's logits unchanged; and
    /// a training forward after it still backpropagates.
    func testEvaluationForwardIsBitIdentical() throws {
        for (parametrization, shards) in [("sp", 1), ("mup", 1), ("mup", 2)] {
            let model = try Self.makeModel(bias: true, parametrization: parametrization, shards: shards)
            let evaluation = model.forward(batch: 3, forBackward: false)
            let losses = Array(model.lastLosses), logits = Array(model.lastLogits)
            let training = model.forward(batch: 3)
            let what = "\(parametrization), \(shards) shards"
            XCTAssertEqual(training.bitPattern, evaluation.bitPattern, "mean loss, " + what)
            XCTAssertEqual(model.lastLosses.map(\.bitPattern), losses.map(\.bitPattern), "losses, " + what)
            model.forward(batch: 3, forBackward: false)
            XCTAssertEqual(model.lastLogits.map(\.bitPattern), logits.map(\.bitPattern), "logits, " + what)
            model.store.zeroGradients()
            _ = model.forward(batch: 3)
            model.backward()
            let gradients = UnsafeBufferPointer(start: model.store.gradients, count: model.store.gradientCount)
            XCTAssertTrue(gradients.contains { $0 != 0 } && gradients.allSatisfy(\.isFinite), what)
        }
    }

    /// Changing a later token must not change the loss at earlier positions (causality end to end).
    func testCausality() throws {
        let model = try Self.makeModel(bias: false, parametrization: "sp")
        _ = model.forward(batch: 3)
        let before = Array(model.lastLosses)
        model.inputs[5] = (model.inputs[5] + 1) % 23  // last position of the first sequence
        _ = model.forward(batch: 3)
        let after = Array(model.lastLosses)
        for t in 0..<5 { XCTAssertEqual(before[t], after[t], "position \(t) saw the future") }
        XCTAssertNotEqual(before[5], after[5])
    }

    /// Non-embedding initialisation is shared across strategies with the same seed (the paired design relies on it).
    func testNonEmbeddingInitIndependentOfStrategy() throws {
        let config = ModelConfig(vocabSize: 256, dModel: 16, nLayer: 1, nHead: 2, contextLength: 4)
        let context = EmbeddingContext(vocabulary: .bytes, dModel: 16, seed: 3)
        let a = try GPT(config: config, strategy: try StrategyRegistry.make(name: "learned", context: context), batchSize: 1, seed: 3)
        let b = try GPT(
            config: config, strategy: try StrategyRegistry.make(name: "learned", options: ["init_std": 0.5], context: context),
            batchSize: 1, seed: 3)
        for p in a.store.parameters where p.kind != .embedding {
            let q = b.store[p.name]!
            XCTAssertEqual(
                Array(UnsafeBufferPointer(start: a.store.value(p), count: p.count)),
                Array(UnsafeBufferPointer(start: b.store.value(q), count: q.count)), p.name)
        }
    }

    /// A tied head leaves N (its parameters are the input table's) but not the FLOPs: its V·d product still runs
    /// forward and backward, so tied and untied models of one shape cost the same per token.
    func testTiedHeadFLOPsAreCounted() {
        let untied = ModelConfig(vocabSize: 31, dModel: 16, nLayer: 2, nHead: 2, contextLength: 8, bias: false, tieEmbeddings: false)
        var tied = untied
        tied.tieEmbeddings = true
        XCTAssertEqual(untied.nonEmbeddingParameters - tied.nonEmbeddingParameters, 31 * 16)
        XCTAssertEqual(tied.trainingFLOPsPerToken, untied.trainingFLOPsPerToken)
        XCTAssertEqual(untied.trainingFLOPsPerToken, 6 * Double(untied.nonEmbeddingParameters) + 12 * Double(2 * 16 * 8))
    }

    /// The per-product split the bench's product efficiencies divide by, read against a real model's tensors: the
    /// block Linear weights and the head do 6 FLOPs per weight and token, attention 12·L·d·T, and the split misses the
    /// total by exactly 6 × the LayerNorm and bias parameters (in N, multiplied by no product).
    func testProductFLOPsSplitTheTrainingFLOPs() throws {
        for (bias, tied) in [(false, false), (true, false), (false, true), (true, true)] {
            let config = ModelConfig(vocabSize: 256, dModel: 16, nLayer: 3, nHead: 2, contextLength: 8, bias: bias, tieEmbeddings: tied)
            let context = EmbeddingContext(vocabulary: .bytes, dModel: 16, seed: 3)
            let strategy = try StrategyRegistry.make(name: "learned", context: context)
            let model = try GPT(config: config, strategy: strategy, batchSize: 1, seed: 3)
            func count(_ kinds: Set<TensorKind>) -> Double {
                Double(model.store.parameters.filter { kinds.contains($0.kind) }.reduce(0) { $0 + $1.count })
            }
            let split = config.trainingFLOPsPerTokenByProduct
            let label = "bias \(bias), tied \(tied)"
            XCTAssertEqual(split.blockLinear, 6 * count([.hiddenMatrix, .residualProjection]), label)
            XCTAssertEqual(split.head, 6 * 256 * 16, label)
            XCTAssertEqual(split.attention, 12 * 3 * 16 * 8, label)
            XCTAssertEqual(
                split.blockLinear + split.head + split.attention + 6 * count([.normGain, .bias]), config.trainingFLOPsPerToken, label)
        }
    }

    func testBadShapesAreRejectedWithTheKey() {
        let config = ModelConfig(vocabSize: 256, dModel: 30, nLayer: 1, nHead: 4, contextLength: 4)
        XCTAssertThrowsError(try config.validate()) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.key, "n_head")
            XCTAssertTrue(e.description.contains("not divisible"), e.description)
        }
        XCTAssertThrowsError(try ModelConfig(vocabSize: 256, dModel: 0, nLayer: 1, nHead: 1, contextLength: 4).validate())
    }
}
