/// Forward activations for a fixed (batch B, context T) in one allocation; everything backward needs is kept.
/// Shapes use n = B·T rows, C = d_model, V = vocab, NH = heads.
final class Activations {
    struct Layer {
        let ln1: UnsafeMutablePointer<Float>        // (n, C)
        let ln1Mean: UnsafeMutablePointer<Float>    // (n)
        let ln1Rstd: UnsafeMutablePointer<Float>    // (n)
        let qkv: UnsafeMutablePointer<Float>        // (n, 3C)
        let att: UnsafeMutablePointer<Float>        // (B, NH, T, T) softmax probabilities
        let attY: UnsafeMutablePointer<Float>       // (n, C) heads concatenated
        let attProj: UnsafeMutablePointer<Float>    // (n, C)
        let residual2: UnsafeMutablePointer<Float>  // (n, C)
        let ln2: UnsafeMutablePointer<Float>        // (n, C)
        let ln2Mean: UnsafeMutablePointer<Float>    // (n)
        let ln2Rstd: UnsafeMutablePointer<Float>    // (n)
        let fc: UnsafeMutablePointer<Float>         // (n, 4C)
        let fcGelu: UnsafeMutablePointer<Float>     // (n, 4C)
        let fcProj: UnsafeMutablePointer<Float>     // (n, C)
        let residual3: UnsafeMutablePointer<Float>  // (n, C) block output
    }

    let embedded: UnsafeMutablePointer<Float>  // (n, C) x₀
    let lnF: UnsafeMutablePointer<Float>       // (n, C)
    let lnFMean: UnsafeMutablePointer<Float>   // (n)
    let lnFRstd: UnsafeMutablePointer<Float>   // (n)
    let logits: UnsafeMutablePointer<Float>    // (n, V)
    let probs: UnsafeMutablePointer<Float>     // (n, V)
    let losses: UnsafeMutablePointer<Float>    // (n)
    private let layers: [Layer]
    private let arena: UnsafeMutablePointer<Float>
    let floatCount: Int

    init(config: ModelConfig, batchSize: Int) {
        let n = batchSize * config.contextLength, C = config.dModel, V = config.vocabSize
        let att = batchSize * config.nHead * config.contextLength * config.contextLength
        let perLayer = n * C * 7 + n * 4 + n * 3 * C + att + n * 4 * C * 2
        floatCount = n * C * 2 + n * 3 + n * V * 2 + perLayer * config.nLayer
        arena = .allocate(capacity: floatCount)
        arena.initialize(repeating: 0, count: floatCount)
        var cursor = arena
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += count }; return cursor }
        embedded = take(n * C); lnF = take(n * C); lnFMean = take(n); lnFRstd = take(n)
        logits = take(n * V); probs = take(n * V); losses = take(n)
        layers = (0..<config.nLayer).map { _ in
            Layer(ln1: take(n * C), ln1Mean: take(n), ln1Rstd: take(n), qkv: take(n * 3 * C), att: take(att),
                  attY: take(n * C), attProj: take(n * C), residual2: take(n * C), ln2: take(n * C), ln2Mean: take(n),
                  ln2Rstd: take(n), fc: take(n * 4 * C), fcGelu: take(n * 4 * C), fcProj: take(n * C), residual3: take(n * C))
        }
        precondition(cursor == arena + floatCount, "activation layout out of sync")
    }

    deinit { arena.deallocate() }

    @inline(__always) func layer(_ l: Int) -> Layer { layers[l] }
}

/// Gradient buffers for activations, reused by every block during backward (one block's worth, not L).
final class ActivationGradients {
    let dresidual: UnsafeMutablePointer<Float>  // (n, C) running gradient of the residual stream
    let dln: UnsafeMutablePointer<Float>        // (n, C)
    let dqkv: UnsafeMutablePointer<Float>       // (n, 3C)
    let datt: UnsafeMutablePointer<Float>       // (B, NH, T, T) scratch
    let dattY: UnsafeMutablePointer<Float>      // (n, C)
    let dfc: UnsafeMutablePointer<Float>        // (n, 4C)
    let dfcGelu: UnsafeMutablePointer<Float>    // (n, 4C)
    let dlogits: UnsafeMutablePointer<Float>    // (n, V)
    private let arena: UnsafeMutablePointer<Float>
    let floatCount: Int

    init(config: ModelConfig, batchSize: Int) {
        let n = batchSize * config.contextLength, C = config.dModel, V = config.vocabSize
        let att = batchSize * config.nHead * config.contextLength * config.contextLength
        floatCount = n * C * 3 + n * 3 * C + att + n * 4 * C * 2 + n * V
        arena = .allocate(capacity: floatCount)
        arena.initialize(repeating: 0, count: floatCount)
        var cursor = arena
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += count }; return cursor }
        dresidual = take(n * C); dln = take(n * C); dqkv = take(n * 3 * C); datt = take(att); dattY = take(n * C)
        dfc = take(n * 4 * C); dfcGelu = take(n * 4 * C); dlogits = take(n * V)
        precondition(cursor == arena + floatCount, "gradient layout out of sync")
    }

    deinit { arena.deallocate() }
}
