import Kernels
import XCTest

/// The row-parallel kernels split work by `BLAS.threads`; the split must not change a single bit of the result.
/// Sizes are large enough that two threads really are used (≥ 2 × 32 768 elements per kernel).
final class ThreadInvarianceTests: XCTestCase {
    func run(threads: Int, _ body: () -> [Float]) -> [Float] {
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        BLAS.setThreads(threads)
        return body()
    }

    /// Asserts a and b are bit-identical, reporting how many elements differ (not the whole arrays).
    func assertIdentical(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(what): \(differing) of \(a.count) elements differ between 1 and 2 threads", file: file, line: line)
    }

    func testKernelsAreBitIdenticalAcrossThreadCounts() throws {
        try XCTSkipIf(ProcessInfo.processInfo.activeProcessorCount < 2, "needs 2 cores")
        var rng = Xoshiro256(seed: 61)
        // GELU, 100 003 elements.
        let n = 100_003
        let x = buffer(randomValues(n, &rng, scale: 3)), dout = buffer(randomValues(n, &rng))
        let gelu: () -> [Float] = {
            let out = self.zeros(n), dx = self.zeros(n)
            GELU.forward(out: out.p, inp: x.p, count: n)
            GELU.backward(dinp: dx.p, inp: x.p, dout: dout.p, count: n)
            return out.floats + dx.floats
        }
        assertIdentical(run(threads: 1, gelu), run(threads: 2, gelu), "GELU")

        // Softmax cross-entropy, 70 rows × 1027.
        let rows = 70, vocab = 1027
        let values = randomValues(rows * vocab, &rng, scale: 3)
        let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
        let ce: () -> [Float] = {
            let losses = self.zeros(rows), logits = self.buffer(values)
            let mean = SoftmaxCrossEntropy.forward(
                losses: losses.p, logits: logits.p, targets: targets, rows: rows, vocab: vocab, gradientScale: 1 / Float(rows))
            return losses.floats + logits.floats + [Float(mean)]
        }
        assertIdentical(run(threads: 1, ce), run(threads: 2, ce), "softmax cross-entropy")

        // LayerNorm, 300 × 256.
        let lr = 300, c = 256
        let lx = buffer(randomValues(lr * c, &rng, scale: 2, offset: 0.5)), w = buffer(randomValues(c, &rng, offset: 1)),
            b = buffer(randomValues(c, &rng))
        let ln: () -> [Float] = {
            let out = self.zeros(lr * c), mean = self.zeros(lr), rstd = self.zeros(lr)
            LayerNorm.forward(out: out.p, mean: mean.p, rstd: rstd.p, inp: lx.p, weight: w.p, bias: b.p, rows: lr, features: c)
            return out.floats + mean.floats + rstd.floats
        }
        assertIdentical(run(threads: 1, ln), run(threads: 2, ln), "LayerNorm")

        // Attention, B = 2, T = 64, C = 32, 2 heads (256 softmax rows), checked against the Double reference too.
        let B = 2, T = 64, C = 32, H = 2
        let qkvValues = randomValues(B * T * 3 * C, &rng, scale: 1.5)
        let qkv = buffer(qkvValues), ao = buffer(randomValues(B * T * C, &rng))
        let attention: () -> [Float] = {
            let out = self.zeros(B * T * C), att = self.zeros(B * H * T * T), datt = self.zeros(B * H * T * T), dqkv = self.zeros(B * T * 3 * C)
            CausalSelfAttention.forward(out: out.p, att: att.p, qkv: qkv.p, batch: B, seq: T, channels: C, heads: H, scale: 0.25)
            CausalSelfAttention.backward(
                dqkv: dqkv.p, datt: datt.p, dout: ao.p, qkv: qkv.p, att: att.p, batch: B, seq: T, channels: C, heads: H, scale: 0.25)
            return out.floats + att.floats + dqkv.floats
        }
        let a1 = run(threads: 1, attention)
        assertIdentical(a1, run(threads: 2, attention), "attention")
        let ref = attentionReference(qkvValues, batch: B, seq: T, channels: C, heads: H, scale: 0.25)
        assertClose(a1[0..<(B * T * C)].map(Double.init), ref.out, rtol: forwardRtol, atol: forwardAtol, "attention out, T = 64")
    }
}
