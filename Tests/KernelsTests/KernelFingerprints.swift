import Kernels

// The project's own kernels (everything but OpenBLAS's products) must give the same bits on every x86-64 instruction
// set they are compiled for: baseline SSE (ABLATE_PORTABLE=1), AVX2+FMA and AVX-512 (Package.swift picks the widest the
// building CPU has). They only use IEEE operations that round the same at any vector width (no fused multiply-add, no
// reassociation, reductions written as explicit trees), so this holds by construction; the fingerprints below check it.
// This file imports only Kernels (no XCTest), so it can also be compiled on its own for each instruction set.

/// What `kernelFingerprints()` gives, printed by it when compiled for baseline x86-64 (SSE2), `-target-cpu haswell`,
/// `skylake-avx512` and `znver3`: all four gave these. (`make test-isa` repeats the check for the first three, each where
/// the CPU can run it.) The softmax cross-entropy value changed when the training forward began forming the gradient
/// itself; it was pinned from the former code (a forward that left exponentials, then a backward pass over them),
/// whose own outputs had been pinned as those of the loss before it, which stored probabilities: so the training
/// numbers are those of the reports trained before either change, to the bit.
/// A deliberate change to a kernel's arithmetic changes them too; then every committed report trained with the old
/// arithmetic has to be regenerated, which is why they are pinned.
let expectedKernelFingerprints: [String: UInt64] = [
    "GELU": 0xe29c_35ee_ed38_8375,
    "LayerNorm": 0x3401_62e8_0a13_718f,
    "softmax cross-entropy": 0x1eb6_1a17_1929_e2dc,
    "causal softmax": 0x33ff_53e0_d8a0_594d,
    "elementwise": 0x06a1_cb9c_c1e2_4b44,
    "AdamW": 0xbc75_f137_dc39_1f85,
]

/// The kernels whose fingerprint differs from `expectedKernelFingerprints` (or is missing there), with the value found.
func kernelFingerprintMismatches() -> [String] {
    kernelFingerprints().compactMap { k in
        expectedKernelFingerprints[k.kernel] == k.hash ? nil : "\(k.kernel): \(String(k.hash, radix: 16))"
    }
}

/// FNV-1a over the bit patterns of every output of each kernel, on fixed random inputs whose lengths are not multiples
/// of 16 (so partial-lane tails run) and whose softmax inputs reach far below exp's −87 cut-off.
func kernelFingerprints() -> [(kernel: String, hash: UInt64)] {
    // Uniform on [offset − scale, offset + scale) from the generator's integer bits and Float arithmetic only: no libm
    // call (whose last bit may differ between C libraries or CPUs) sits between the seed and the kernels' inputs.
    var rng = Xoshiro256(seed: 2026)
    func random(_ n: Int, scale: Float = 1, offset: Float = 0) -> [Float] {
        (0..<n).map { _ in offset + scale * (2 * rng.nextUniform() - 1) }
    }
    func fingerprint(_ values: [Float]..., doubles: [Double] = []) -> UInt64 {
        var bytes: [UInt8] = []
        for array in values {
            for v in array { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        for d in doubles { withUnsafeBytes(of: d.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return FNV1a.hash(bytes)
    }
    var out: [(String, UInt64)] = []

    // GELU forward and backward.
    let n = 1_003
    let x = random(n, scale: 6), dy = random(n)
    var gelu = [Float](repeating: 0, count: n), dgelu = [Float](repeating: 0, count: n)
    GELU.forward(out: &gelu, inp: x, count: n)
    GELU.backward(dinp: &dgelu, inp: x, dout: dy, count: n)
    out.append(("GELU", fingerprint(gelu, dgelu)))

    // LayerNorm forward and backward (accumulating into non-zero gradients), 37 rows × 71 features.
    let rows = 37, c = 71
    let lx = random(rows * c, scale: 2, offset: 0.5), w = random(c, offset: 1), b = random(c), ldy = random(rows * c)
    var ly = [Float](repeating: 0, count: rows * c), mean = [Float](repeating: 0, count: rows), rstd = mean
    LayerNorm.forward(out: &ly, mean: &mean, rstd: &rstd, inp: lx, weight: w, bias: b, rows: rows, features: c)
    var ldx = random(rows * c), ldw = random(c), ldb = random(c)
    LayerNorm.backward(
        dinp: &ldx, dweight: &ldw, dbias: &ldb, dout: ldy, inp: lx, weight: w, mean: mean, rstd: rstd, rows: rows, features: c)
    out.append(("LayerNorm", fingerprint(ly, mean, rstd, ldx, ldw, ldb)))

    // Softmax cross-entropy with a logit multiplier, evaluating and training; logits spread far enough to underflow exp.
    let vocab = 517, batch = 9
    var logits = random(batch * vocab, scale: 80)
    let targets = (0..<batch).map { _ in Int32(rng.nextInt(below: vocab)) }
    var scaled = logits, evaluationLosses = [Float](repeating: 0, count: batch)  // the evaluation forward keeps logits
    SoftmaxCrossEntropy.forward(
        losses: &evaluationLosses, logits: &scaled, multiplier: 0.75, targets: targets, rows: batch, vocab: vocab)
    var losses = [Float](repeating: 0, count: batch)
    let meanLoss = SoftmaxCrossEntropy.forward(
        losses: &losses, logits: &logits, multiplier: 0.75, targets: targets, rows: batch, vocab: vocab,
        gradientScale: 1 / Float(batch))
    out.append(("softmax cross-entropy", fingerprint(scaled, losses, logits, doubles: [meanLoss])))

    // Causal softmax and its backward over two heads of T = 40 (blocks of 16 and the tail path).
    let T = 40
    var scores = random(2 * T * T, scale: 6)
    CausalSelfAttention.causalSoftmax(&scores, seq: T, rows: 0..<(2 * T))
    var dscores = random(2 * T * T)
    CausalSelfAttention.causalSoftmaxBackward(&dscores, probs: scores, seq: T, rows: 0..<(2 * T))
    out.append(("causal softmax", fingerprint(scores, dscores)))

    // Elementwise: add, accumulate, scale, sum of squares.
    let e1 = random(n), e2 = random(n)
    var sum = [Float](repeating: 0, count: n), acc = random(n)
    Elementwise.add(out: &sum, e1, e2, count: n)
    Elementwise.accumulate(into: &acc, e1, count: n)
    Elementwise.scale(&acc, by: 1.37, count: n)
    let squares = Elementwise.sumOfSquares(acc, count: n)
    out.append(("elementwise", fingerprint(sum, acc, doubles: [squares])))

    // Three AdamW steps.
    var param = random(n), m = [Float](repeating: 0, count: n), v = m
    for t in 1...3 {
        let grad = random(n, scale: 0.1)
        let b1 = 1 - Float.pow(0.9, t), b2 = (1 - Float.pow(0.95, t)).squareRoot()
        AdamWKernel.step(
            param: &param, grad: grad, m: &m, v: &v, count: n, lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8,
            weightDecay: 0.1, biasCorrection1: b1, biasCorrection2Sqrt: b2, gradScale: 0.5)
    }
    out.append(("AdamW", fingerprint(param, m, v)))
    return out
}

extension Float {
    fileprivate static func pow(_ base: Float, _ exponent: Int) -> Float {
        (0..<exponent).reduce(1) { r, _ in r * base }
    }
}
