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
/// (batch, context); nothing is allocated in `forward`/`backward` (but for rebuilding the shards when the batch size
/// changes).
public final class GPT: @unchecked Sendable {
    public let config: ModelConfig
    public let strategy: any EmbeddingStrategy
    public let batchSize: Int
    public let store: ParameterStore
    let acts: Activations
    let grads: ActivationGradients
    let embeddingTensors: TensorPointers
    let wpe: Parameter
    /// The blocks, final LayerNorm and head gradient with the store's own gradient buffers.
    let main: ShardParameterView
    /// Output head weight (the embedding table itself when tied).
    let headWeight: UnsafeMutablePointer<Float>
    let inputMultiplier: Float
    let logitMultiplier: Float
    let attentionScale: Float
    /// Inputs and targets of the last `forward`, kept for `backward`.
    public let inputs: UnsafeMutablePointer<Int32>
    public let targets: UnsafeMutablePointer<Int32>
    /// Tokens in the last forward pass (≤ batchSize · contextLength).
    private(set) var rows = 0
    /// What the logits buffer holds after the last forward pass.
    private var headOutput = HeadOutput.none
    /// When set, every operation of `forward`/`backward` is timed into it by category (`ablate bench --profile`);
    /// nil costs one branch per operation. It needs a slot per shard.
    public var profile: StepProfile? {
        didSet {
            if let profile {
                precondition(profile.slots >= shardCount, "a profile of \(profile.slots) slots for \(shardCount) shards")
            }
        }
    }

    /// - Parameters:
    ///   - shards: how many contiguous groups of sequences the batch is split into (see `Shard`). The numerics depend
    ///     on it (weight gradients are summed per shard, then across shards) but not on the thread count.
    ///   - seed: model seed. Every non-embedding tensor draws from its own stream derived from (seed, tensor name),
    ///     so two runs with the same seed and different strategies share their non-embedding initialisation.
    public init(config: ModelConfig, strategy: any EmbeddingStrategy, batchSize: Int, shards: Int = 1, seed: UInt64) throws {
        try config.validate()
        guard batchSize > 0 else {
            throw ConfigError(key: "batch_size", message: "must be a positive integer, got \(batchSize)", fix: "set batch_size ≥ 1")
        }
        self.config = config
        self.strategy = strategy
        self.batchSize = batchSize
        self.shardCount = max(1, shards)
        let d = config.dModel, v = config.vocabSize, l = config.nLayer

        // --- parameter layout (names follow nanoGPT so checkpoints map onto its state_dict) ---
        var specs: [(TensorSpec, TensorKind)] = []
        func add(_ name: String, _ shape: [Int], _ kind: TensorKind) {
            let r = ParameterRules.rule(for: kind, config: config)
            specs.append(
                (
                    TensorSpec(
                        name: name, shape: shape, trainable: true,
                        lrMultiplier: r.lrMultiplier, weightDecay: r.weightDecay), kind
                ))
        }
        for t in strategy.tensors {
            var t = t
            t.name = EmbeddingTensors.checkpointPrefix + t.name
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

        let tiedTable: TensorSpec?
        if config.tieEmbeddings {
            tiedTable = try Self.tiedTable(strategy: strategy, vocabSize: v, dModel: d)
        } else {
            tiedTable = nil
            add("lm_head.weight", [v, d], .readout)
        }

        store = ParameterStore(specs: specs)
        let store = self.store
        func param(_ name: String) -> Parameter { store[name]! }
        func optional(_ name: String) -> UnsafeMutablePointer<Float>? { store[name].map { store.value($0) } }
        func optionalGrad(_ name: String) -> UnsafeMutablePointer<Float>? { store[name].flatMap { store.gradient($0) } }
        func weightAndBias(_ prefix: String) -> WeightAndBias {
            WeightAndBias(
                weight: store.value(param(prefix + ".weight")), bias: optional(prefix + ".bias"),
                dweight: store.gradient(param(prefix + ".weight")), dbias: optionalGrad(prefix + ".bias"))
        }
        let layers = (0..<l).map { i in
            let p = "h.\(i)."
            return BlockParameters(
                ln1: weightAndBias(p + "ln_1"), qkv: weightAndBias(p + "attn.c_attn"),
                attnProj: weightAndBias(p + "attn.c_proj"), ln2: weightAndBias(p + "ln_2"),
                fc: weightAndBias(p + "mlp.c_fc"), fcProj: weightAndBias(p + "mlp.c_proj"))
        }
        wpe = param("wpe")
        let embeddingParams = strategy.tensors.map { param(EmbeddingTensors.checkpointPrefix + $0.name) }
        embeddingTensors = TensorPointers(
            values: embeddingParams.map { store.value($0) },
            gradients: embeddingParams.map { store.gradient($0) })
        let head = param(tiedTable.map { EmbeddingTensors.checkpointPrefix + $0.name } ?? "lm_head.weight")
        headWeight = store.value(head)
        main = ShardParameterView(layers: layers, lnF: weightAndBias("ln_f"), headGradient: store.gradient(head))
        privateRange = (main.gradientPointers.map { $0 - store.gradients }.min() ?? store.gradientCount)..<store.gradientCount
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

    deinit { inputs.deallocate(); targets.deallocate(); privateGradientArena?.deallocate() }

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
    static func stream(for name: String) -> UInt64 { FNV1a.hash(name.utf8) }

    // MARK: - shards

    /// A contiguous range of the batch's sequences carried through every block as a unit. With several threads the
    /// shards run concurrently, one per thread, with single-threaded sgemm calls: one fork and one join per pass
    /// instead of one per product, and each product stays large (M = the shard's rows). Sequences never interact, so
    /// only the parameter gradients need combining. The split depends on `shardCount` alone, so with two or more
    /// shards every product is single-threaded whatever the thread count (the strategy's too, see `forward(batch:)`)
    /// and results do not depend on the thread count. With one shard and several threads OpenBLAS splits the
    /// products itself, and its threaded driver may block the summed dimension differently: last-bit differences.
    struct Shard {
        /// Position in the batch, also the shard's `StepProfile` slot.
        let index: Int
        let sequences: Range<Int>
        let acts: Activations
        let grads: ActivationGradients
        /// Where this shard's parameter gradients go: the store's own buffers for shard 0, for the others a private
        /// copy of the part of the gradient layout that shards write (`privateGradients` = store.gradients[privateRange])
        /// that `backward` adds into the store in shard order after the join, so the sum depends neither on timing
        /// nor on the thread count.
        let parameters: ShardParameterView
        let privateGradients: UnsafeMutablePointer<Float>?
    }

    /// The gradient offsets shards write: from the first block tensor (or the embedding table, when the head is tied
    /// to it) to the end of the layout. The embedding strategy and wpe are outside it: they run on the whole batch.
    private let privateRange: Range<Int>

    /// Shards per batch (at most one per sequence).
    public let shardCount: Int
    /// The shards of the last forward pass, rebuilt only when the batch size changes.
    private var shards: [Shard] = []
    private var privateGradientArena: UnsafeMutablePointer<Float>?

    /// Splits `batch` sequences into min(shardCount, batch) near-equal contiguous shards.
    private func prepareShards(batch: Int) {
        let count = max(1, min(shardCount, batch))
        if shards.count == count, shards.last?.sequences.upperBound == batch { return }
        let size = privateRange.count, origin = store.gradients + privateRange.lowerBound
        if count != shards.count {
            privateGradientArena?.deallocate()
            privateGradientArena = nil
            if count > 1 {
                let arena = UnsafeMutablePointer<Float>.allocate(capacity: max(1, (count - 1) * size))
                arena.initialize(repeating: 0, count: max(1, (count - 1) * size))
                privateGradientArena = arena
            }
        }
        shards = (0..<count).map { s in
            let range = (s * batch / count)..<((s + 1) * batch / count)
            let own = s == 0 ? nil : privateGradientArena! + (s - 1) * size
            let parameters = own.map { own in main.redirectingGradients { $0.map { own + ($0 - origin) } } } ?? main
            return Shard(
                index: s, sequences: range, acts: acts.view(sequences: range), grads: grads.view(sequences: range),
                parameters: parameters, privateGradients: own)
        }
    }

    /// Runs body for every shard: one after another with the current BLAS threads when there is one shard or one
    /// thread, else concurrently, one shard per thread (OpenBLAS set to 1 thread meanwhile).
    private func forEachShard(_ body: (Shard) -> Void) {
        if shards.count == 1 || BLAS.threads == 1 { shards.forEach(body); return }
        BLAS.forEachChunkSingleThreaded(count: shards.count) { start, end in
            for s in start..<end { body(shards[s]) }
        }
    }

    // MARK: - forward

    /// Runs the model on `inputs` (B·T token ids, B ≤ batchSize, T = contextLength) and returns the mean
    /// cross-entropy against `targets`. Call `backward()` afterwards to accumulate gradients.
    /// - Parameter forBackward: false when no `backward()` follows (evaluation, sampling): the logits then stay
    ///   readable (`lastLogits`); otherwise the loss replaces them with what `backward()` needs. The losses are the same
    ///   to the bit either way.
    @discardableResult
    public func forward(batch: Int, forBackward: Bool = true) -> Double {
        precondition(batch >= 1 && batch <= batchSize, "forward(batch: \(batch)) outside 1…\(batchSize), the model's batch size")
        let T = config.contextLength, C = config.dModel
        let n = batch * T
        rows = n
        headOutput = forBackward ? .logitGradient : .logits
        prepareShards(batch: batch)

        // x₀ = α_in · embed(tokens) + wpe[t], over the whole batch (strategies need not be thread-safe), with
        // single-threaded sgemm so a strategy's products round the same for every thread count.
        profile.measure(.embeddingForward) {
            BLAS.withOneThread { strategy.forward(into: acts.embedded, tokens: inputs, count: n, tensors: embeddingTensors) }
            let wpeValues = store.value(wpe)
            for b in 0..<batch {
                let x = acts.embedded + b * T * C
                if inputMultiplier != 1 { Elementwise.scale(x, by: inputMultiplier, count: T * C) }
                Elementwise.accumulate(into: x, wpeValues, count: T * C)
            }
        }
        forEachShard { forward($0, forBackward: forBackward) }
        // The mean over all tokens in token order, so it does not depend on the split.
        let total = profile.measure(.lossForward) {
            var total = 0.0
            for r in 0..<n { total += Double(acts.losses[r]) }
            return total
        }
        return n > 0 ? total / Double(n) : 0
    }

    /// The blocks, the final LayerNorm, the head and the loss for one shard's sequences.
    private func forward(_ shard: Shard, forBackward: Bool) {
        let T = config.contextLength, C = config.dModel, V = config.vocabSize, NH = config.nHead
        let batch = shard.sequences.count, n = batch * T, first = shard.sequences.lowerBound * T
        let a = shard.acts, params = shard.parameters
        let profile = self.profile, slot = shard.index
        func layerNorm(
            _ w: NormParameters, out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
            rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>
        ) {
            profile.measure(.layerNormForward, slot: slot) {
                LayerNorm.forward(out: out, mean: mean, rstd: rstd, inp: inp, weight: w.weight, bias: w.bias, rows: n, features: C)
            }
        }
        func linear(_ w: LinearParameters, out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int) {
            profile.measure(.linearForward, slot: slot) {
                Linear.forward(out: out, inp: inp, weight: w.weight, bias: w.bias, rows: n, inFeatures: inFeatures, outFeatures: outFeatures)
            }
        }
        func add(out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) {
            profile.measure(.residualAdd, slot: slot) { Elementwise.add(out: out, x, y, count: n * C) }
        }

        var residual = UnsafePointer(a.embedded)
        for (l, p) in params.layers.enumerated() {
            let s = a.layer(l)
            layerNorm(p.ln1, out: s.ln1, mean: s.ln1Mean, rstd: s.ln1Rstd, inp: residual)
            linear(p.qkv, out: s.qkv, inp: s.ln1, inFeatures: C, outFeatures: 3 * C)
            profile.measure(.attentionForward, slot: slot) {
                CausalSelfAttention.forward(
                    out: s.attY, att: s.att, qkv: s.qkv, batch: batch, seq: T, channels: C, heads: NH,
                    scale: attentionScale)
            }
            linear(p.attnProj, out: s.attProj, inp: s.attY, inFeatures: C, outFeatures: C)
            add(out: s.residual2, residual, s.attProj)
            layerNorm(p.ln2, out: s.ln2, mean: s.ln2Mean, rstd: s.ln2Rstd, inp: s.residual2)
            linear(p.fc, out: s.fc, inp: s.ln2, inFeatures: C, outFeatures: 4 * C)
            profile.measure(.geluForward, slot: slot) { GELU.forward(out: s.fcGelu, inp: s.fc, count: n * 4 * C) }
            linear(p.fcProj, out: s.fcProj, inp: s.fcGelu, inFeatures: 4 * C, outFeatures: C)
            add(out: s.residual3, s.residual2, s.fcProj)
            residual = UnsafePointer(s.residual3)
        }
        layerNorm(params.lnF, out: a.lnF, mean: a.lnFMean, rstd: a.lnFRstd, inp: residual)
        profile.measure(.headForward, slot: slot) {
            Linear.forward(out: a.logits, inp: a.lnF, weight: headWeight, bias: nil, rows: n, inFeatures: C, outFeatures: V)
        }
        profile.measure(.lossForward, slot: slot) {
            // dLoss/dlogits of the mean over the whole batch's tokens (all shards'), formed in place when a backward follows.
            _ = SoftmaxCrossEntropy.forward(
                losses: a.losses, logits: a.logits, multiplier: logitMultiplier, targets: targets + first, rows: n, vocab: V,
                gradientScale: forBackward ? logitMultiplier / Float(rows) : nil)
        }
    }

    // MARK: - backward

    /// Accumulates dLoss/dθ into the parameter gradients for the last `forward` (mean loss over its tokens).
    public func backward() {
        precondition(
            headOutput == .logitGradient, "backward() without a forward(batch:) for it (forBackward: false keeps only the logits)")
        let n = rows
        let batch = n / config.contextLength
        let T = config.contextLength, C = config.dModel

        forEachShard { backward($0) }
        // Shards 1… wrote private gradients; add them into the store in shard order (split by element, so the
        // result is the same for any number of threads doing the adding).
        if shards.count > 1, let arena = privateGradientArena {
            let range = privateRange
            profile.measure(.shardGradientSum) {
                Elementwise.accumulate(
                    into: store.gradients + range.lowerBound, sources: arena, count: shards.count - 1,
                    stride: range.count, elements: range.count)
            }
        }

        // x₀ = α_in · embed + wpe: wpe gets dresidual summed over the batch; the strategy gets α_in · dresidual.
        let dresidual = grads.dresidual
        profile.measure(.embeddingBackward) {
            if let dwpe = store.gradient(wpe) {
                for b in 0..<batch { Elementwise.accumulate(into: dwpe, dresidual + b * T * C, count: T * C) }
            }
            if inputMultiplier != 1 { Elementwise.scale(dresidual, by: inputMultiplier, count: n * C) }
            BLAS.withOneThread { strategy.backward(dout: dresidual, tokens: inputs, count: n, tensors: embeddingTensors) }
        }
    }

    /// The head, final LayerNorm and blocks backward for one shard, from the dLoss/dlogits its training forward left
    /// in place of the logits; leaves dLoss/dx₀ in its `grads.dresidual`. Reads dlogits without changing them, so a
    /// second backward after the same forward accumulates the same gradient again.
    private func backward(_ shard: Shard) {
        let T = config.contextLength, C = config.dModel, V = config.vocabSize, NH = config.nHead
        let batch = shard.sequences.count, n = batch * T
        let a = shard.acts, g = shard.grads, params = shard.parameters
        let profile = self.profile, slot = shard.index
        // Products accumulate into their input gradients (beta = 1), so each such buffer starts at zero.
        func zero(_ buffer: UnsafeMutablePointer<Float>, _ count: Int) {
            profile.measure(.activationGradientZeroing, slot: slot) { buffer.update(repeating: 0, count: count) }
        }
        /// dinp = dout·W into a zeroed buffer; dW (and db) += the weight (and bias) gradients.
        func linear(
            _ w: LinearParameters, dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
            inFeatures: Int, outFeatures: Int
        ) {
            zero(dinp, n * inFeatures)
            profile.measure(.linearBackward, slot: slot) {
                Linear.backward(
                    dinp: dinp, dweight: w.dweight, dbias: w.dbias, dout: dout, inp: inp, weight: w.weight, rows: n,
                    inFeatures: inFeatures, outFeatures: outFeatures)
            }
        }
        /// The LayerNorm's input gradient is added into the residual stream's, dresidual.
        func layerNorm(
            _ w: NormParameters, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, mean: UnsafePointer<Float>,
            rstd: UnsafePointer<Float>
        ) {
            profile.measure(.layerNormBackward, slot: slot) {
                LayerNorm.backward(
                    dinp: g.dresidual, dweight: w.dweight, dbias: w.dbias, dout: dout, inp: inp, weight: w.weight,
                    mean: mean, rstd: rstd, rows: n, features: C)
            }
        }
        if let own = shard.privateGradients {
            profile.measure(.parameterGradientZeroingAndNorm, slot: slot) { own.update(repeating: 0, count: privateRange.count) }
        }

        zero(g.dln, n * C)
        profile.measure(.headBackward, slot: slot) {
            Linear.backward(
                dinp: g.dln, dweight: params.headGradient, dbias: nil, dout: a.logits, inp: a.lnF, weight: headWeight,
                rows: n, inFeatures: C, outFeatures: V)
        }
        // dresidual is the running gradient of the residual stream: each block adds its branch's contribution.
        zero(g.dresidual, n * C)
        let lastResidual = config.nLayer > 0 ? UnsafePointer(a.layer(config.nLayer - 1).residual3) : UnsafePointer(a.embedded)
        layerNorm(params.lnF, dout: g.dln, inp: lastResidual, mean: a.lnFMean, rstd: a.lnFRstd)

        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let p = params.layers[l], s = a.layer(l)
            let blockInput = l == 0 ? UnsafePointer(a.embedded) : UnsafePointer(a.layer(l - 1).residual3)
            // MLP branch: residual3 = residual2 + fcProj(gelu(fc(LN₂(residual2))))
            linear(p.fcProj, dinp: g.dfcGelu, dout: g.dresidual, inp: s.fcGelu, inFeatures: 4 * C, outFeatures: C)
            profile.measure(.geluBackward, slot: slot) { GELU.backward(dinp: g.dfc, inp: s.fc, dout: g.dfcGelu, count: n * 4 * C) }
            linear(p.fc, dinp: g.dln, dout: g.dfc, inp: s.ln2, inFeatures: C, outFeatures: 4 * C)
            layerNorm(p.ln2, dout: g.dln, inp: s.residual2, mean: s.ln2Mean, rstd: s.ln2Rstd)
            // Attention branch: residual2 = x + attnProj(attn(qkv(LN₁(x))))
            linear(p.attnProj, dinp: g.dattY, dout: g.dresidual, inp: s.attY, inFeatures: C, outFeatures: C)
            zero(g.dqkv, n * 3 * C)
            profile.measure(.attentionBackward, slot: slot) {
                CausalSelfAttention.backward(
                    dqkv: g.dqkv, datt: g.datt, dout: g.dattY, qkv: s.qkv, att: s.att,
                    batch: batch, seq: T, channels: C, heads: NH, scale: attentionScale)
            }
            linear(p.qkv, dinp: g.dln, dout: g.dqkv, inp: s.ln1, inFeatures: C, outFeatures: 3 * C)
            layerNorm(p.ln1, dout: g.dln, inp: blockInput, mean: s.ln1Mean, rstd: s.ln1Rstd)
        }
    }

    /// Per-token losses of the last forward (n = B·T values).
    public var lastLosses: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: acts.losses, count: rows) }
    /// Logits of the last forward, row-major [B·T, V] (after the μP multiplier). Only after `forward(batch:forBackward:
    /// false)`: a training forward leaves dLoss/dlogits in their place for `backward()`.
    public var lastLogits: UnsafeBufferPointer<Float> {
        precondition(headOutput == .logits, "lastLogits after a training forward; run forward(batch:forBackward: false)")
        return UnsafeBufferPointer(start: acts.logits, count: rows * config.vocabSize)
    }

    /// Mean |activation| of each module's output in the last forward, which must be `forward(batch:forBackward: false)`
    /// (a training forward keeps no logits; for the μP coordinate check).
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
        out.append(("logits", meanAbs(lastLogits.baseAddress!, n * config.vocabSize)))
        return out
    }
}

/// What the N×V logits buffer holds: nothing yet; the logits of an evaluation forward (`backward` cannot use them); or
/// dLoss/dlogits, which a training forward forms in place of the logits (`SoftmaxCrossEntropy`) and every `backward`
/// after it reads.
enum HeadOutput { case none, logits, logitGradient }

/// A weight, its optional bias, and the gradient buffers they accumulate into (LayerNorm and Linear alike).
struct WeightAndBias {
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let dweight: UnsafeMutablePointer<Float>?
    let dbias: UnsafeMutablePointer<Float>?

    func redirectingGradients(_ move: GradientMove) -> WeightAndBias {
        WeightAndBias(weight: weight, bias: bias, dweight: move(dweight), dbias: move(dbias))
    }
    var gradientPointers: [UnsafeMutablePointer<Float>] { [dweight, dbias].compactMap { $0 } }
}

typealias NormParameters = WeightAndBias
typealias LinearParameters = WeightAndBias
/// Maps a gradient pointer into another buffer with the store's gradient layout.
typealias GradientMove = (UnsafeMutablePointer<Float>?) -> UnsafeMutablePointer<Float>?

struct BlockParameters {
    let ln1: NormParameters
    let qkv: LinearParameters
    let attnProj: LinearParameters
    let ln2: NormParameters
    let fc: LinearParameters
    let fcProj: LinearParameters

    var gradientPointers: [UnsafeMutablePointer<Float>] {
        [ln1, qkv, attnProj, ln2, fc, fcProj].flatMap(\.gradientPointers)
    }

    func redirectingGradients(_ move: GradientMove) -> BlockParameters {
        BlockParameters(
            ln1: ln1.redirectingGradients(move), qkv: qkv.redirectingGradients(move),
            attnProj: attnProj.redirectingGradients(move), ln2: ln2.redirectingGradients(move),
            fc: fc.redirectingGradients(move), fcProj: fcProj.redirectingGradients(move))
    }
}

/// What one batch shard reads (the weights past the embedding) and writes (gradients: the model's own for shard 0,
/// redirected into the shard's private buffers for the others).
struct ShardParameterView {
    let layers: [BlockParameters]
    let lnF: NormParameters
    let headGradient: UnsafeMutablePointer<Float>?

    var gradientPointers: [UnsafeMutablePointer<Float>] {
        layers.flatMap(\.gradientPointers) + lnF.gradientPointers + [headGradient].compactMap { $0 }
    }

    func redirectingGradients(_ move: GradientMove) -> ShardParameterView {
        ShardParameterView(
            layers: layers.map { $0.redirectingGradients(move) }, lnF: lnF.redirectingGradients(move),
            headGradient: move(headGradient))
    }
}

extension GPT {
    /// The strategy tensor a tied output head shares (`tie_embeddings`). Tying is only meaningful when the strategy's
    /// table is its one tensor, trainable and V×D; checked here for the model and, on a dry-built strategy, by a grid.
    public static func tiedTable(strategy: any EmbeddingStrategy, vocabSize v: Int, dModel d: Int) throws -> TensorSpec {
        let tables = strategy.tensors.filter { $0.trainable && $0.shape == [v, d] }
        guard tables.count == 1, strategy.tensors.count == 1 else {
            throw ConfigError(
                key: "tie_embeddings",
                message: "strategy '\(strategy.name)' has no single trainable V×D table to share with the output head",
                fix: "set tie_embeddings: false (tying needs a trainable table, e.g. 'learned' or 'mup')")
        }
        return tables[0]
    }
}
