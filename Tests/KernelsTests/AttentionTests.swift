import Foundation
import Kernels
import XCTest

/// Causal multi-head attention over qkv[B, T, 3C] in Double: for each (b, h, i), scores over j ≤ i only,
/// softmax, weighted sum of values. Returns out[B, T, C] and att[B, H, T, T] (zero above the diagonal).
func attentionReference(
    _ qkv: [Double], batch B: Int, seq T: Int, channels C: Int, heads H: Int, scale: Double
)
    -> (out: [Double], att: [Double])
{
    let hs = C / H
    var out = [Double](repeating: 0, count: B * T * C), att = [Double](repeating: 0, count: B * H * T * T)
    func at(_ b: Int, _ t: Int, _ part: Int, _ h: Int, _ d: Int) -> Double { qkv[(b * T + t) * 3 * C + part * C + h * hs + d] }
    for b in 0..<B {
        for h in 0..<H {
            for i in 0..<T {
                var s = [Double](repeating: 0, count: i + 1)
                for j in 0...i {
                    for d in 0..<hs { s[j] += at(b, i, 0, h, d) * at(b, j, 1, h, d) }
                    s[j] *= scale
                }
                let m = s.max()!
                let e = s.map { exp($0 - m) }
                let z = e.reduce(0, +)
                for j in 0...i {
                    let p = e[j] / z
                    att[((b * H + h) * T + i) * T + j] = p
                    for d in 0..<hs { out[(b * T + i) * C + h * hs + d] += p * at(b, j, 2, h, d) }
                }
            }
        }
    }
    return (out, att)
}

final class AttentionTests: XCTestCase {
    // B=2, T=5, C=8, 2 heads (hs = 4): both parametrisations' scales.
    func testStandardScale() { check(batch: 2, seq: 5, channels: 8, heads: 2, scale: 1 / 2.0, seed: 31) }
    func testMuPScale() { check(batch: 2, seq: 5, channels: 8, heads: 2, scale: 1 / 4.0, seed: 32) }
    /// T = 20: rows 0..<16 take the whole-block masked softmax, rows 16..<20 (whose block would run past the row)
    /// the generic path with a scalar tail. (T = 5 above takes only the generic path.)
    func testLongerSequence() { check(batch: 1, seq: 20, channels: 8, heads: 2, scale: 1 / 2.0, seed: 33) }
    /// T = 32: every row takes the whole-block path, including rows with a full block below the diagonal.
    func testTwoBlockSequence() { check(batch: 1, seq: 32, channels: 8, heads: 2, scale: 1 / 4.0, seed: 36) }
    /// The products skip the masked half in row blocks (CausalSelfAttention.causalBlocks): T = 64 runs as 4 blocks of
    /// 16 rows, T = 96 as 2 blocks of 48 (the T = 32 case above also has 2).
    func testFourCausalBlocks() { check(batch: 1, seq: 64, channels: 8, heads: 2, scale: 1 / 2.0, seed: 37) }
    func testTwoCausalBlocksOfThreeLaneBlocks() { check(batch: 1, seq: 96, channels: 4, heads: 1, scale: 1 / 2.0, seed: 38) }

    func check(batch B: Int, seq T: Int, channels C: Int, heads H: Int, scale: Float, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let qkv = randomValues(B * T * 3 * C, &rng, scale: 1.5)  // large enough that the softmax is far from uniform
        let r = randomValues(B * T * C, &rng)
        let bq = buffer(qkv), out = zeros(B * T * C), att = filled(.nan, B * H * T * T)  // every att entry must be written
        CausalSelfAttention.forward(out: out.p, att: att.p, qkv: bq.p, batch: B, seq: T, channels: C, heads: H, scale: scale)
        let ref = attentionReference(qkv, batch: B, seq: T, channels: C, heads: H, scale: Double(scale))
        assertClose(out.doubles, ref.out, rtol: forwardRtol, atol: forwardAtol, "attention out")
        assertClose(att.doubles, ref.att, rtol: forwardRtol, atol: forwardAtol, "attention probabilities")

        // Probabilities: exact zeros above the diagonal, rows summing to 1.
        for row in 0..<(B * H * T) {
            let i = row % T
            var sum = 0.0
            for j in 0..<T {
                let p = att.p[row * T + j]
                if j > i { XCTAssertEqual(p, 0, "att[\(row), \(j)] above the diagonal") } else { XCTAssertGreaterThan(p, 0); sum += Double(p) }
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-6, "att row \(row) sums to \(sum)")
        }

        // datt is scratch: start it as NaN to prove backward overwrites rather than reads it.
        let dqkv = zeros(qkv.count), datt = filled(.nan, B * H * T * T)
        CausalSelfAttention.backward(
            dqkv: dqkv.p, datt: datt.p, dout: buffer(r).p, qkv: bq.p, att: att.p,
            batch: B, seq: T, channels: C, heads: H, scale: scale)
        let fd = numericalGradient([qkv], wrt: 0, weights: r) {
            attentionReference($0[0], batch: B, seq: T, channels: C, heads: H, scale: Double(scale)).out
        }
        assertClose(dqkv.doubles, fd, rtol: gradRtol, atol: gradAtol, "attention dqkv")
    }

    /// Changing the last token's q, k and v changes only the last position's output (in its own sequence).
    func testCausality() {
        let B = 2, T = 5, C = 8, H = 2
        var rng = Xoshiro256(seed: 34)
        var qkv = randomValues(B * T * 3 * C, &rng)
        let out1 = zeros(B * T * C), out2 = zeros(B * T * C), att = zeros(B * H * T * T)
        CausalSelfAttention.forward(out: out1.p, att: att.p, qkv: buffer(qkv).p, batch: B, seq: T, channels: C, heads: H, scale: 0.5)
        for c in 0..<(3 * C) { qkv[(T - 1) * 3 * C + c] += 3 }  // batch 0, t = T−1
        CausalSelfAttention.forward(out: out2.p, att: att.p, qkv: buffer(qkv).p, batch: B, seq: T, channels: C, heads: H, scale: 0.5)
        let a = out1.floats, b = out2.floats
        XCTAssertEqual(Array(a[0..<((T - 1) * C)]), Array(b[0..<((T - 1) * C)]), "earlier positions must not see the future")
        XCTAssertEqual(Array(a[(T * C)...]), Array(b[(T * C)...]), "the other sequence is independent")
        XCTAssertNotEqual(Array(a[((T - 1) * C)..<(T * C)]), Array(b[((T - 1) * C)..<(T * C)]), "the last position does change")
    }

    func testBackwardAccumulates() {
        let B = 2, T = 5, C = 8, H = 2
        var rng = Xoshiro256(seed: 35)
        let qkv = buffer(randomValues(B * T * 3 * C, &rng)), dout = buffer(randomValues(B * T * C, &rng))
        let out = zeros(B * T * C), att = zeros(B * H * T * T), datt = zeros(B * H * T * T)
        CausalSelfAttention.forward(out: out.p, att: att.p, qkv: qkv.p, batch: B, seq: T, channels: C, heads: H, scale: 0.5)
        let start = randomValues(B * T * 3 * C, &rng)
        let once = buffer(start), twice = buffer(start)
        CausalSelfAttention.backward(
            dqkv: once.p, datt: datt.p, dout: dout.p, qkv: qkv.p, att: att.p,
            batch: B, seq: T, channels: C, heads: H, scale: 0.5)
        for _ in 0..<2 {
            CausalSelfAttention.backward(
                dqkv: twice.p, datt: datt.p, dout: dout.p, qkv: qkv.p, att: att.p,
                batch: B, seq: T, channels: C, heads: H, scale: 0.5)
        }
        let g1 = zip(once.doubles, start).map { $0 - $1 }, g2 = zip(twice.doubles, start).map { $0 - $1 }
        XCTAssertGreaterThan(g1.map(abs).max()!, 0.1)
        assertClose(g2, g1.map { 2 * $0 }, rtol: 1e-5, atol: 1e-5, "attention accumulation")
    }
}
