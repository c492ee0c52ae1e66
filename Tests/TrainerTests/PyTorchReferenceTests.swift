import Embeddings
import Foundation
import Kernels
import Model
import TensorFile
import Trainer
import XCTest

/// The model and optimizer against PyTorch (llm.c's test_gpt2 idea). `Reference/make_reference.py` builds the same
/// tiny GPT in PyTorch and writes `Fixtures/reference_{sp,mup}.safetensors`: initial weights (Swift names), a batch,
/// the logits, loss and every gradient at those weights, the losses and gradient norms of 10 AdamW steps on that
/// batch (clipping at global norm 1), and the weights after them. The reference is computed in float64 from the
/// float32 weights, so the differences below are this package's float32 error alone.
///
/// Tolerances. Observed errors (torch 2.13.0, OpenBLAS, x86-64) are noted in brackets; all are float32 rounding
/// (ε = 6e-8) and of the same size as torch's own float32-vs-float64 spread, which the script stores in the metadata.
/// - loss: relative 1e-5 [2e-8 SP, 5e-8 μP]. The mean over 64 tokens is accumulated in Double; each token's loss is a
///   logsumexp over 64 logits whose float32 error is ~1e-6 absolute, so ≲ 1e-7 relative is expected.
/// - logits: max abs 1e-5 [8.5e-7, 4.0e-7]. A logit is a 32-term sgemm dot product at the end of two blocks of
///   32–128-term dot products, |logit| ≲ 5: accumulation-order differences (OpenBLAS blocking vs exact) give
///   ~√(terms)·ε·|partial sums| ≈ 1e-6 (torch float32 vs float64: 1.1e-6).
/// - gradients: per tensor, max |Δ| ≤ 1e-5 · max |grad| of that tensor [4.8e-7, 4.4e-7]. Backward chains ~15
///   float32 stages of 16–256-term reductions, ~1e-6 relative to the tensor's scale. Relative to the tensor's max,
///   not per element, because elements that are mathematically 0 (the key bias: softmax ignores it) are pure
///   rounding noise. A wrong term, sign, scale or transpose is an O(1) relative error; a 0.1 % scale error fails.
/// - training losses: |Δ| ≤ 5e-6 · (1 + step) [2.2e-7, 2.3e-7]. Each step moves weights by ≲ lr = 1e-3 with an
///   update m/(√v + ε) computed to ~1e-6 relative, so each step adds ~1e-9 absolute error per weight and the
///   differences can compound (linearly over 10 steps at most, given the loss is smooth); a wrong LR multiplier or
///   bias correction changes these losses by ≳ 1e-2, dropping weight decay or clipping by ~1e-4.
/// - gradient norms (the clipping input): relative 1e-5 [2.1e-7, 2.3e-7] (Float blocks of 1024 summed in Double).
/// - weights after 10 steps: max abs 1e-5 per tensor [3.6e-7, 2.4e-7, i.e. ~1–3 ulp of |w| ≈ 1]. Weights move by up
///   to 10·lr = 1e-2; a missing decay (lr·λ·|w| ≈ 3e-5 per step on a decayed matrix) or a wrong μP multiplier
///   (factor 2 on the movement) exceeds this. Except the key bias (see the check), whose gradient is noise.
///
/// The test can fail: each of these local breakages of Sources made it fail (then reverted): dlogits scaled by
/// 1.001, dwpe by 1.01, GELU's cubic constant off by 0.1 %, LayerNorm eps 1e-6, no weight decay, no clipping in
/// the AdamW kernel, no square root in the second bias correction, μP residual-projection LR η instead of η/m.
///
/// Clipping: torch scales gradients by max_norm/(norm + 1e-6), the trainer by max_norm/norm. The two scales differ by
/// a factor 1 − 1e-6/norm (≤ 5e-7 here), and AdamW is invariant to a constant gradient scale up to ε, so the effect
/// on the updates is far below float32 noise.
final class PyTorchReferenceTests: XCTestCase {
    struct Fixture {
        var tensors: [String: Safetensors.Tensor]
        var metadata: [String: String]
        var config: [String: Any]
        func values(_ name: String) throws -> [Float] {
            guard let t = tensors[name] else { throw FixtureError(message: "fixture has no tensor '\(name)'") }
            return t.values
        }
    }

    struct FixtureError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    func loadFixture(_ name: String) throws -> Fixture {
        guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
            throw FixtureError(message: "missing fixture Fixtures/\(name).safetensors (run Tests/TrainerTests/Reference/make_reference.py)")
        }
        let (tensors, metadata) = try Safetensors.decode(try Data(contentsOf: url), path: url.path)
        let config = try JSONSerialization.jsonObject(with: Data((metadata["config"] ?? "{}").utf8)) as? [String: Any] ?? [:]
        return Fixture(tensors: Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) }), metadata: metadata, config: config)
    }

    /// Max |a − b| and the index where it occurs.
    func maxAbsDiff(_ a: UnsafeBufferPointer<Float>, _ b: [Float]) -> (Double, Int) {
        var worst = 0.0, at = 0
        for i in 0..<b.count {
            let d = abs(Double(a[i]) - Double(b[i]))
            if d > worst || d.isNaN { worst = d; at = i }
        }
        return (worst, at)
    }

    func check(_ fixtureName: String, parametrization: String, bias: Bool, baseWidth: Int, shards: Int = 1) throws {
        let fx = try loadFixture(fixtureName)
        let c = fx.config
        func int(_ k: String) -> Int { (c[k] as? NSNumber)?.intValue ?? -1 }
        func double(_ k: String) -> Double { (c[k] as? NSNumber)?.doubleValue ?? .nan }
        XCTAssertEqual(c["parametrization"] as? String, parametrization)
        XCTAssertEqual((c["bias"] as? NSNumber)?.boolValue, bias)
        XCTAssertEqual(int("base_width"), baseWidth)
        XCTAssertEqual(double("input_multiplier"), 1)

        let V = int("vocab_size"), D = int("d_model"), T = int("context_length"), B = int("batch_size")
        let config = ModelConfig(
            vocabSize: V, dModel: D, nLayer: int("n_layer"), nHead: int("n_head"), contextLength: T,
            bias: bias, parametrization: parametrization, baseWidth: baseWidth,
            outputMultiplier: double("output_multiplier"))
        let context = EmbeddingContext(
            vocabulary: Vocabulary(tokenBytes: (0..<V).map { [UInt8($0)] }), dModel: D, seed: 0,
            parametrization: config.resolvedParametrization)
        // The fixture's table is unscaled (α_in = 1) under both parametrizations: say so, since μP's default is α_in 10.
        let strategy = try StrategyRegistry.make(
            name: "learned", options: ["input_multiplier": double("input_multiplier")], context: context)
        let model = try GPT(config: config, strategy: strategy, batchSize: B, shards: shards, seed: 0)
        let store = model.store

        // The fixture's per-tensor training rules must be the ones ParameterRules gives.
        XCTAssertEqual(Double(ParameterRules.logitMultiplier(config)), double("logit_multiplier"), accuracy: 1e-12)
        XCTAssertEqual(Double(ParameterRules.attentionScale(config)), double("attention_scale"), accuracy: 1e-7)
        let lrMultipliers = c["lr_multipliers"] as? [String: Double] ?? [:]
        let decayed = Set(c["weight_decay_tensors"] as? [String] ?? [])
        XCTAssertEqual(lrMultipliers.count, store.parameters.count, "fixture and model have different tensor sets")

        // Load the initial weights by name.
        for p in store.parameters {
            guard let t = fx.tensors[p.name] else { XCTFail("fixture has no tensor '\(p.name)'"); continue }
            XCTAssertEqual(t.shape, p.spec.shape, p.name)
            guard t.values.count == p.count else { continue }
            t.values.withUnsafeBufferPointer { store.value(p).update(from: $0.baseAddress!, count: p.count) }
            XCTAssertEqual(Double(p.spec.lrMultiplier), lrMultipliers[p.name] ?? .nan, accuracy: 1e-7, "LR multiplier of \(p.name)")
            XCTAssertEqual(p.spec.weightDecay, decayed.contains(p.name), "weight decay flag of \(p.name)")
        }
        let inputs = try fx.values("inputs"), targets = try fx.values("targets")
        XCTAssertEqual(inputs.count, B * T)
        for i in 0..<(B * T) { model.inputs[i] = Int32(inputs[i]); model.targets[i] = Int32(targets[i]) }

        // Forward: loss and logits (kept by an evaluation forward only), then the training forward for the gradients.
        let loss = model.forward(batch: B, forBackward: false)
        let refLoss = Double(try fx.values("loss")[0])
        let lossRel = abs(loss - refLoss) / refLoss
        XCTAssertLessThanOrEqual(lossRel, 1e-5, "\(fixtureName): loss \(loss) vs torch \(refLoss)")
        let (logitErr, logitAt) = maxAbsDiff(model.lastLogits, try fx.values("logits"))
        XCTAssertLessThanOrEqual(logitErr, 1e-5, "\(fixtureName): logits differ by \(logitErr) at [\(logitAt / V), \(logitAt % V)]")
        XCTAssertEqual(model.forward(batch: B).bitPattern, loss.bitPattern, "\(fixtureName): training forward's loss")

        // Backward: every gradient, relative to the tensor's largest gradient.
        store.zeroGradients()
        model.backward()
        var worstGrad = (0.0, "")
        for p in store.parameters {
            guard let g = store.gradient(p) else { XCTFail("\(p.name) has no gradient"); continue }
            let ref = try fx.values("grad." + p.name)
            let scale = ref.reduce(0.0) { max($0, Double(abs($1))) }
            let (err, at) = maxAbsDiff(UnsafeBufferPointer(start: g, count: p.count), ref)
            let rel = err / max(scale, 1e-30)
            if rel > worstGrad.0 { worstGrad = (rel, p.name) }
            XCTAssertLessThanOrEqual(
                rel, 1e-5,
                "\(fixtureName): grad.\(p.name)[\(at)] = \(g[at]) vs torch \(ref[at]) "
                    + "(max |grad| \(scale), max error \(err))")
        }

        // Ten AdamW steps on the same batch, clipped at global norm 1 as Trainer.run does.
        let train = c["train"] as? [String: Double] ?? [:]
        let optimizer = AdamW(
            store: store, beta1: train["beta1"] ?? .nan, beta2: train["beta2"] ?? .nan,
            eps: train["eps"] ?? .nan, weightDecay: train["weight_decay"] ?? .nan)
        let lr = train["lr"] ?? .nan, clip = train["grad_clip"] ?? .nan
        let steps = Int(train["steps"] ?? 0)
        var losses: [Double] = [], norms: [Double] = []
        for _ in 0..<steps {
            losses.append(model.forward(batch: B))
            store.zeroGradients()
            model.backward()
            let norm = Elementwise.sumOfSquares(store.gradients, count: store.gradientCount).squareRoot()
            norms.append(norm)
            optimizer.step(lr: lr, gradScale: norm > clip ? Float(clip / norm) : 1)
        }
        losses.append(model.forward(batch: B))
        let refLosses = try fx.values("losses"), refNorms = try fx.values("grad_norms")
        XCTAssertEqual(refLosses.count, steps + 1)
        var worstLoss = 0.0, worstNorm = 0.0
        for (i, l) in losses.enumerated() where i < refLosses.count {
            let err = abs(l - Double(refLosses[i]))
            worstLoss = max(worstLoss, err)
            XCTAssertLessThanOrEqual(err, 5e-6 * Double(1 + i), "\(fixtureName): loss at step \(i) \(l) vs torch \(refLosses[i])")
        }
        for (i, n) in norms.enumerated() where i < refNorms.count {
            let rel = abs(n - Double(refNorms[i])) / Double(refNorms[i])
            worstNorm = max(worstNorm, rel)
            XCTAssertLessThanOrEqual(rel, 1e-5, "\(fixtureName): gradient norm at step \(i) \(n) vs torch \(refNorms[i])")
        }
        var worstFinal = (0.0, "")
        for p in store.parameters {
            var ref = try fx.values("final." + p.name)
            let w = store.value(p)
            // The key bias (rows D..<2D of c_attn.bias) shifts every score of a query by the same q·b_k, which softmax
            // ignores: its gradient is exactly 0 up to rounding, and Adam's m/(√v + ε) turns that noise into moves of
            // up to ~lr per step in either implementation. The loss does not depend on it; leave it out here.
            if p.name.hasSuffix("attn.c_attn.bias") { for i in D..<(2 * D) { ref[i] = w[i] } }
            let (err, at) = maxAbsDiff(UnsafeBufferPointer(start: w, count: p.count), ref)
            if err > worstFinal.0 { worstFinal = (err, p.name) }
            XCTAssertLessThanOrEqual(err, 1e-5, "\(fixtureName): \(p.name)[\(at)] after \(steps) steps = \(w[at]) vs torch \(ref[at])")
        }
        print(
            """
            \(fixtureName) (torch \(fx.metadata["torch_version"] ?? "?")): loss rel err \(lossRel), logits max abs err \(logitErr), \
            worst grad rel err \(worstGrad.0) (\(worstGrad.1)), training losses max abs err \(worstLoss), \
            grad norms max rel err \(worstNorm), final weights max abs err \(worstFinal.0) (\(worstFinal.1))
            """)
    }

    /// The fixture with the batch in one shard, then as the trainer runs by default: two shards, on two threads.
    func checkUnshardedAndSharded(_ fixtureName: String, parametrization: String, bias: Bool, baseWidth: Int) throws {
        try check(fixtureName, parametrization: parametrization, bias: bias, baseWidth: baseWidth)
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        BLAS.setThreads(2)
        try check(fixtureName, parametrization: parametrization, bias: bias, baseWidth: baseWidth, shards: 2)
    }

    func testStandardParametrizationMatchesPyTorch() throws {
        try checkUnshardedAndSharded("reference_sp", parametrization: "sp", bias: false, baseWidth: 32)
    }

    func testMuPWithBiasesMatchesPyTorch() throws {
        try checkUnshardedAndSharded("reference_mup", parametrization: "mup", bias: true, baseWidth: 16)
    }
}
