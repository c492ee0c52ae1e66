import Embeddings
import Kernels

/// A decoder-only transformer in the GPT-2 / nanoGPT shape, trained by hand-written backward passes:
///
///     x₀ = α_in · embed(tokens) + wpe[t]                      (embed: the strategy)
///     for each block:  x ← x + attn(LN₁(x));  x ← x + mlp(LN₂(x))
///     logits = c_out · lm_head(LN_f(x))                       (c_out = α_out/m under μP, else 1)
///     loss = mean cross-entropy(logits, next tokens)
///
/// Attention is causal, multi-head, with a fused QKV projection; the MLP is 4× wide with tanh-GELU.
/// Parameters live in one `ParameterStore`; activations in one `Activations` arena sized for a fixed
/// (batch, context); nothing is allocated in `forward`/`backward`.
public final class GPT: @unchecked Sendable {
    public let config: ModelConfig
    public let strategy: any EmbeddingStrategy
    public let batchSize: Int
    public let store: ParameterStore
    let acts: Activations
    let grads: ActivationGradients
    let embeddingTensors: TensorPointers
    let layers: [BlockParameters]
    let wpe: Parameter
    let lnF: NormParameters
    /// Output head weight and gradient (the embedding table itself when tied).
    let headWeight: UnsafeMutablePointer<Float>
    let headGradient: UnsafeMutablePointer<Float>?
    let inputMultiplier: Float
    let logitMultiplier: Float
    let attentionScale: Float
    /// Inputs and targets of the last `forward`, kept for `backward`.
    public let inputs: UnsafeMutablePointer<Int32>
    public let targets: UnsafeMutablePointer<Int32>
    /// Tokens in the last forward pass (≤ batchSize · contextLength).
    private(set) var rows = 0

    /// - Parameters:
    ///   - seed: model seed. Every non-embedding tensor draws from its own stream derived from (seed, tensor name),
    ///     so two runs with the same seed and different strategies share their non-embedding initialisation.
    public init(config: ModelConfig, strategy: any EmbeddingStrategy, batchSize: Int, seed: UInt64) throws {
        try config.validate()
        guard batchSize > 0 else {
            throw ConfigError(key: "batch_size", message: "must be a positive integer, got \(batchSize)", fix: "set batch_size ≥ 1")
        }
        self.config = config
        self.strategy = strategy
        self.batchSize = batchSize
        let d = config.dModel, v = config.vocabSize, l = config.nLayer

        // --- parameter layout (names follow nanoGPT so checkpoints map onto its state_dict) ---
        var specs: [(TensorSpec, TensorKind)] = []
        func add(_ name: String, _ shape: [Int], _ kind: TensorKind) {
            let r = ParameterRules.rule(for: kind, config: config)
            specs.append((TensorSpec(name: name, shape: shape, trainable: true, role: r.role,
                                     lrMultiplier: r.lrMultiplier, weightDecay: r.weightDecay), kind))
        }
        for t in strategy.tensors {
            var t = t
            t.name = "embedding." + t.name
            specs.append((t, .embedding))
        }
        add("wpe", [config.contextLength, d], .positional)
        for i in 0..<l {
            let p = "h.\(i)."
            add(p + "ln_1.weight", [d], .normGain)
            if config.bias { add(p + "ln_1.bias", [d], .bias) }
            add(p + "attn.c_attn.weight", [3 * d, d], .hiddenMatrix)
            if config.bias { add(p + "attn.c_attn.bias", [3 * d], .bias) }
            add(p + "attn.c_proj.weight", [d, d], .residualProjection)
            if config.bias { add(p + "attn.c_proj.bias", [d], .bias) }
            add(p + "ln_2.weight", [d], .normGain)
            if config.bias { add(p + "ln_2.bias", [d], .bias) }
            add(p + "mlp.c_fc.weight", [4 * d, d], .hiddenMatrix)
            if config.bias { add(p + "mlp.c_fc.bias", [4 * d], .bias) }
            add(p + "mlp.c_proj.weight", [d, 4 * d], .residualProjection)
            if config.bias { add(p + "mlp.c_proj.bias", [d], .bias) }
        }
        add("ln_f.weight", [d], .normGain)
        if config.bias { add("ln_f.bias", [d], .bias) }

        // Tying is only meaningful when the strategy's table is the one trainable V×D tensor.
        let tiedTable: TensorSpec?
        if config.tieEmbeddings {
            let tables = strategy.tensors.filter { $0.trainable && $0.shape == [v, d] }
            guard tables.count == 1, strategy.tensors.count == 1 else {
                throw ConfigError(key: "tie_embeddings",
                                  message: "strategy '\(strategy.name)' has no single trainable V×D table to share with the output head",
                                  fix: "set tie_embeddings: false (tying needs a trainable table, e.g. 'learned' or 'mup')")
            }
            tiedTable = tables[0]
        } else {
            tiedTable = nil
            add("lm_head.weight", [v, d], .readout)
        }

        store = ParameterStore(specs: specs)
        let store = self.store
        func param(_ name: String) -> Parameter { store[name]! }
        func optional(_ name: String) -> UnsafeMutablePointer<Float>? { store[name].map { store.value($0) } }
        func optionalGrad(_ name: String) -> UnsafeMutablePointer<Float>? { store[name].flatMap { store.gradient($0) } }
        func norm(_ prefix: String) -> NormParameters {
            NormParameters(weight: store.value(param(prefix + ".weight")), bias: optional(prefix + ".bias"),
                           dweight: store.gradient(param(prefix + ".weight")), dbias: optionalGrad(prefix + ".bias"))
        }
        func linear(_ prefix: String) -> LinearParameters {
            LinearParameters(weight: store.value(param(prefix + ".weight")), bias: optional(prefix + ".bias"),
                             dweight: store.gradient(param(prefix + ".weight")), dbias: optionalGrad(prefix + ".bias"))
        }
        layers = (0..<l).map { i in
            BlockParameters(ln1: norm("h.\(i).ln_1"), qkv: linear("h.\(i).attn.c_attn"), attnProj: linear("h.\(i).attn.c_proj"),
                            ln2: norm("h.\(i).ln_2"), fc: linear("h.\(i).mlp.c_fc"), fcProj: linear("h.\(i).mlp.c_proj"))
        }
        wpe = param("wpe")
        lnF = norm("ln_f")
        let embeddingParams = strategy.tensors.map { param("embedding." + $0.name) }
        embeddingTensors = TensorPointers(values: embeddingParams.map { store.value($0) },
                                          gradients: embeddingParams.map { store.gradient($0) })
        if let tied = tiedTable {
            let p = param("embedding." + tied.name)
            headWeight = store.value(p); headGradient = store.gradient(p)
        } else {
            let p = param("lm_head.weight")
            headWeight = store.value(p); headGradient = store.gradient(p)
        }
        inputMultiplier = strategy.outputMultiplier
        logitMultiplier = ParameterRules.logitMultiplier(config)
        attentionScale = ParameterRules.attentionScale(config)

        acts = Activations(config: config, batchSize: batchSize)
        grads = ActivationGradients(config: config, batchSize: batchSize)
        let bt = batchSize * config.contextLength
        inputs = .allocate(capacity: bt); inputs.initialize(repeating: 0, count: bt)
        targets = .allocate(capacity: bt); targets.initialize(repeating: 0, count: bt)

        initialize(seed: seed)
    }

    deinit { inputs.deallocate(); targets.deallocate() }

    /// Draws every tensor from its rule; the strategy fills its own tensors.
    private func initialize(seed: UInt64) {
        for p in store.parameters where p.kind != .embedding {
            let rule = ParameterRules.rule(for: p.kind, config: config)
            let w = store.value(p)
            if let std = rule.initStd {
                var rng = Xoshiro256(seed: seed, stream: Self.stream(for: p.name))
                for i in 0..<p.count { w[i] = Float(rng.nextNormal() * std) }
            } else {
                w.update(repeating: rule.constant, count: p.count)
            }
        }
        let buffers = strategy.tensors.map { t -> UnsafeMutableBufferPointer<Float> in
            let p = store["embedding." + t.name]!
            return UnsafeMutableBufferPointer(start: store.value(p), count: p.count)
        }
        strategy.initialize(buffers)
    }

    /// A stable stream id per tensor name (FNV-1a 64), independent of the tensor's position in the layout.
    static func stream(for name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    // MARK: - forward

    /// Runs the model on `inputs` (B·T token ids, B ≤ batchSize, T = contextLength) and returns the mean
    /// cross-entropy against `targets`. Call `backward()` afterwards to accumulate gradients.
    @discardableResult
    public func forward(batch: Int) -> Double {
        let T = config.contextLength, C = config.dModel, V = config.vocabSize, NH = config.nHead
        let n = batch * T
        rows = n
        let a = acts

        // x₀ = α_in · embed(tokens) + wpe[t]
        strategy.forward(into: a.embedded, tokens: inputs, count: n, tensors: embeddingTensors)
        let wpeValues = store.value(wpe)
        for b in 0..<batch {
            let x = a.embedded + b * T * C
            if inputMultiplier != 1 { Elementwise.scale(x, by: inputMultiplier, count: T * C) }
            Elementwise.accumulate(into: x, wpeValues, count: T * C)
        }

        var residual = UnsafePointer(a.embedded)
        for (l, p) in layers.enumerated() {
            let s = a.layer(l)
            LayerNorm.forward(out: s.ln1, mean: s.ln1Mean, rstd: s.ln1Rstd, inp: residual, weight: p.ln1.weight,
                              bias: p.ln1.bias, rows: n, features: C)
            Linear.forward(out: s.qkv, inp: s.ln1, weight: p.qkv.weight, bias: p.qkv.bias, rows: n, inFeatures: C, outFeatures: 3 * C)
            CausalSelfAttention.forward(out: s.attY, att: s.att, qkv: s.qkv, batch: batch, seq: T, channels: C, heads: NH,
                                        scale: attentionScale)
            Linear.forward(out: s.attProj, inp: s.attY, weight: p.attnProj.weight, bias: p.attnProj.bias, rows: n,
                           inFeatures: C, outFeatures: C)
            Elementwise.add(out: s.residual2, residual, s.attProj, count: n * C)
            LayerNorm.forward(out: s.ln2, mean: s.ln2Mean, rstd: s.ln2Rstd, inp: s.residual2, weight: p.ln2.weight,
                              bias: p.ln2.bias, rows: n, features: C)
            Linear.forward(out: s.fc, inp: s.ln2, weight: p.fc.weight, bias: p.fc.bias, rows: n, inFeatures: C, outFeatures: 4 * C)
            GELU.forward(out: s.fcGelu, inp: s.fc, count: n * 4 * C)
            Linear.forward(out: s.fcProj, inp: s.fcGelu, weight: p.fcProj.weight, bias: p.fcProj.bias, rows: n,
                           inFeatures: 4 * C, outFeatures: C)
            Elementwise.add(out: s.residual3, s.residual2, s.fcProj, count: n * C)
            residual = UnsafePointer(s.residual3)
        }
        LayerNorm.forward(out: a.lnF, mean: a.lnFMean, rstd: a.lnFRstd, inp: residual, weight: lnF.weight, bias: lnF.bias,
                          rows: n, features: C)
        Linear.forward(out: a.logits, inp: a.lnF, weight: headWeight, bias: nil, rows: n, inFeatures: C, outFeatures: V)
        if logitMultiplier != 1 { Elementwise.scale(a.logits, by: logitMultiplier, count: n * V) }
        return SoftmaxCrossEntropy.forward(losses: a.losses, probs: a.probs, logits: a.logits, targets: targets, rows: n, vocab: V)
    }

    // MARK: - backward

    /// Accumulates dLoss/dθ into the parameter gradients for the last `forward` (mean loss over its tokens).
    public func backward() {
        let n = rows
        let batch = n / config.contextLength
        let T = config.contextLength, C = config.dModel, V = config.vocabSize, NH = config.nHead
        let a = acts, g = grads

        g.dlogits.update(repeating: 0, count: n * V)
        SoftmaxCrossEntropy.backward(dlogits: g.dlogits, probs: a.probs, targets: targets, rows: n, vocab: V,
                                     scale: logitMultiplier / Float(n))
        g.dln.update(repeating: 0, count: n * C)
        Linear.backward(dinp: g.dln, dweight: headGradient, dbias: nil, dout: g.dlogits, inp: a.lnF, weight: headWeight,
                        rows: n, inFeatures: C, outFeatures: V)
        // dresidual is the running gradient of the residual stream: each block adds its branch's contribution.
        g.dresidual.update(repeating: 0, count: n * C)
        let lastResidual = config.nLayer > 0 ? UnsafePointer(a.layer(config.nLayer - 1).residual3) : UnsafePointer(a.embedded)
        LayerNorm.backward(dinp: g.dresidual, dweight: lnF.dweight, dbias: lnF.dbias, dout: g.dln, inp: lastResidual,
                           weight: lnF.weight, mean: a.lnFMean, rstd: a.lnFRstd, rows: n, features: C)

        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let p = layers[l], s = a.layer(l)
            let blockInput = l == 0 ? UnsafePointer(a.embedded) : UnsafePointer(a.layer(l - 1).residual3)
            // MLP branch: residual3 = residual2 + fcProj(gelu(fc(LN₂(residual2))))
            g.dfcGelu.update(repeating: 0, count: n * 4 * C)
            Linear.backward(dinp: g.dfcGelu, dweight: p.fcProj.dweight, dbias: p.fcProj.dbias, dout: g.dresidual,
                            inp: s.fcGelu, weight: p.fcProj.weight, rows: n, inFeatures: 4 * C, outFeatures: C)
            g.dfc.update(repeating: 0, count: n * 4 * C)
            GELU.backward(dinp: g.dfc, inp: s.fc, dout: g.dfcGelu, count: n * 4 * C)
            g.dln.update(repeating: 0, count: n * C)
            Linear.backward(dinp: g.dln, dweight: p.fc.dweight, dbias: p.fc.dbias, dout: g.dfc, inp: s.ln2,
                            weight: p.fc.weight, rows: n, inFeatures: C, outFeatures: 4 * C)
            LayerNorm.backward(dinp: g.dresidual, dweight: p.ln2.dweight, dbias: p.ln2.dbias, dout: g.dln, inp: s.residual2,
                               weight: p.ln2.weight, mean: s.ln2Mean, rstd: s.ln2Rstd, rows: n, features: C)
            // Attention branch: residual2 = x + attnProj(attn(qkv(LN₁(x))))
            g.dattY.update(repeating: 0, count: n * C)
            Linear.backward(dinp: g.dattY, dweight: p.attnProj.dweight, dbias: p.attnProj.dbias, dout: g.dresidual,
                            inp: s.attY, weight: p.attnProj.weight, rows: n, inFeatures: C, outFeatures: C)
            g.dqkv.update(repeating: 0, count: n * 3 * C)
            CausalSelfAttention.backward(dqkv: g.dqkv, datt: g.datt, dout: g.dattY, qkv: s.qkv, att: s.att,
                                         batch: batch, seq: T, channels: C, heads: NH, scale: attentionScale)
            g.dln.update(repeating: 0, count: n * C)
            Linear.backward(dinp: g.dln, dweight: p.qkv.dweight, dbias: p.qkv.dbias, dout: g.dqkv, inp: s.ln1,
                            weight: p.qkv.weight, rows: n, inFeatures: C, outFeatures: 3 * C)
            LayerNorm.backward(dinp: g.dresidual, dweight: p.ln1.dweight, dbias: p.ln1.dbias, dout: g.dln, inp: blockInput,
                               weight: p.ln1.weight, mean: s.ln1Mean, rstd: s.ln1Rstd, rows: n, features: C)
        }

        // x₀ = α_in · embed + wpe: wpe gets dresidual summed over the batch; the strategy gets α_in · dresidual.
        if let dwpe = store.gradient(wpe) {
            for b in 0..<batch { Elementwise.accumulate(into: dwpe, g.dresidual + b * T * C, count: T * C) }
        }
        if inputMultiplier != 1 { Elementwise.scale(g.dresidual, by: inputMultiplier, count: n * C) }
        strategy.backward(dout: g.dresidual, tokens: inputs, count: n, tensors: embeddingTensors)
    }

    /// Per-token losses of the last forward (n = B·T values).
    public var lastLosses: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: acts.losses, count: rows) }
    /// Logits of the last forward, row-major [B·T, V] (after the μP multiplier).
    public var lastLogits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: acts.logits, count: rows * config.vocabSize) }

    /// Mean |activation| of each module's output in the last forward (for the μP coordinate check).
    public func activationScales() -> [(module: String, meanAbs: Double)] {
        func meanAbs(_ p: UnsafePointer<Float>, _ count: Int) -> Double {
            var s = 0.0
            for i in 0..<count { s += Double(abs(p[i])) }
            return s / Double(max(count, 1))
        }
        let n = rows, C = config.dModel
        var out: [(String, Double)] = [("embedding", meanAbs(acts.embedded, n * C))]
        for l in 0..<config.nLayer {
            let s = acts.layer(l)
            out.append(("h.\(l).attn", meanAbs(s.attProj, n * C)))
            out.append(("h.\(l).mlp", meanAbs(s.fcProj, n * C)))
            out.append(("h.\(l).residual", meanAbs(s.residual3, n * C)))
        }
        out.append(("logits", meanAbs(acts.logits, n * config.vocabSize)))
        return out
    }
}

struct NormParameters {
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let dweight: UnsafeMutablePointer<Float>?
    let dbias: UnsafeMutablePointer<Float>?
}

struct LinearParameters {
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let dweight: UnsafeMutablePointer<Float>?
    let dbias: UnsafeMutablePointer<Float>?
}

struct BlockParameters {
    let ln1: NormParameters
    let qkv: LinearParameters
    let attnProj: LinearParameters
    let ln2: NormParameters
    let fc: LinearParameters
    let fcProj: LinearParameters
}
