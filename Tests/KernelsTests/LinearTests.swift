import Kernels
import XCTest

/// out[n, o] = Σ_c inp[n, c]·w[o, c] + b[o], in Double.
func linearReference(_ inp: [Double], _ w: [Double], _ b: [Double]?, rows: Int, inFeatures c: Int, outFeatures oc: Int) -> [Double] {
    var out = [Double](repeating: 0, count: rows * oc)
    for n in 0..<rows {
        for o in 0..<oc {
            var s = b?[o] ?? 0
            for i in 0..<c { s += inp[n * c + i] * w[o * c + i] }
            out[n * oc + o] = s
        }
    }
    return out
}

final class LinearTests: XCTestCase {
    // rows = 7 and outFeatures = 21/37 are not multiples of the 16-lane width, so the bias sum's vector body, its
    // 4-row blocking and both tails all run.
    func testForwardAndBackwardMatchReferenceWithBias() { check(rows: 7, c: 19, oc: 21, bias: true, seed: 1) }
    func testForwardAndBackwardMatchReferenceWithoutBias() { check(rows: 7, c: 19, oc: 21, bias: false, seed: 2) }
    func testWideOutputsAndOddRows() { check(rows: 5, c: 8, oc: 37, bias: true, seed: 3) }

    func check(rows: Int, c: Int, oc: Int, bias: Bool, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let x = randomValues(rows * c, &rng), w = randomValues(oc * c, &rng, scale: 0.3)
        let b = bias ? randomValues(oc, &rng) : nil
        let r = randomValues(rows * oc, &rng)

        let bx = buffer(x), bw = buffer(w), bb = b.map { buffer($0) }, out = zeros(rows * oc)
        Linear.forward(out: out.p, inp: bx.p, weight: bw.p, bias: bb?.p, rows: rows, inFeatures: c, outFeatures: oc)
        let ref = linearReference(x, w, b, rows: rows, inFeatures: c, outFeatures: oc)
        assertClose(out.doubles, ref, rtol: forwardRtol, atol: forwardAtol, "Linear forward")

        let dx = zeros(x.count), dw = zeros(w.count), db = zeros(oc), dout = buffer(r)
        Linear.backward(
            dinp: dx.p, dweight: dw.p, dbias: bias ? db.p : nil, dout: dout.p, inp: bx.p, weight: bw.p,
            rows: rows, inFeatures: c, outFeatures: oc)
        let f: ([[Double]]) -> [Double] = { linearReference($0[0], $0[1], bias ? $0[2] : nil, rows: rows, inFeatures: c, outFeatures: oc) }
        let inputs = [x, w, b ?? []]
        assertClose(dx.doubles, numericalGradient(inputs, wrt: 0, weights: r, f), rtol: gradRtol, atol: gradAtol, "Linear dinp")
        assertClose(dw.doubles, numericalGradient(inputs, wrt: 1, weights: r, f), rtol: gradRtol, atol: gradAtol, "Linear dweight")
        if bias {
            assertClose(db.doubles, numericalGradient(inputs, wrt: 2, weights: r, f), rtol: gradRtol, atol: gradAtol, "Linear dbias")
        } else {
            XCTAssertEqual(db.floats, [Float](repeating: 0, count: oc), "dbias = nil must not be written")
        }
    }

    /// Backward accumulates: a second call adds the same gradient again (pre-filled buffers keep their contents).
    func testBackwardAccumulates() {
        let rows = 9, c = 12, oc = 17
        var rng = Xoshiro256(seed: 4)
        let x = buffer(randomValues(rows * c, &rng)), w = buffer(randomValues(oc * c, &rng)), dout = buffer(randomValues(rows * oc, &rng))
        let start = [randomValues(rows * c, &rng), randomValues(oc * c, &rng), randomValues(oc, &rng)]
        let once = start.map { buffer($0) }, twice = start.map { buffer($0) }
        Linear.backward(
            dinp: once[0].p, dweight: once[1].p, dbias: once[2].p, dout: dout.p, inp: x.p, weight: w.p,
            rows: rows, inFeatures: c, outFeatures: oc)
        for _ in 0..<2 {
            Linear.backward(
                dinp: twice[0].p, dweight: twice[1].p, dbias: twice[2].p, dout: dout.p, inp: x.p, weight: w.p,
                rows: rows, inFeatures: c, outFeatures: oc)
        }
        for k in 0..<3 {
            let g1 = zip(once[k].doubles, start[k]).map { $0 - $1 }
            let g2 = zip(twice[k].doubles, start[k]).map { $0 - $1 }
            XCTAssertGreaterThan(g1.map(abs).max()!, 0.1)
            assertClose(g2, g1.map { 2 * $0 }, rtol: 1e-5, atol: 1e-5, "Linear accumulation, gradient \(k)")
        }
    }

    /// The checker itself must reject wrong gradients: one sign-flipped element, and a gradient off by a factor 1.01.
    func testGradientCheckerCatchesWrongGradients() {
        let rows = 3, c = 5, oc = 4
        var rng = Xoshiro256(seed: 5)
        let x = randomValues(rows * c, &rng), w = randomValues(oc * c, &rng), r = randomValues(rows * oc, &rng)
        let dw = zeros(w.count)
        Linear.backward(
            dinp: nil, dweight: dw.p, dbias: nil, dout: buffer(r).p, inp: buffer(x).p, weight: buffer(w).p,
            rows: rows, inFeatures: c, outFeatures: oc)
        let fd = numericalGradient([x, w], wrt: 1, weights: r) { linearReference($0[0], $0[1], nil, rows: rows, inFeatures: c, outFeatures: oc) }
        var good = dw.doubles
        XCTAssertEqual(compare(good, fd, rtol: gradRtol, atol: gradAtol).failures, 0)
        let i = good.indices.max { abs(good[$0]) < abs(good[$1]) }!
        good[i] = -good[i]
        XCTAssertEqual(compare(good, fd, rtol: gradRtol, atol: gradAtol).failures, 1)
        XCTAssertGreaterThan(compare(dw.doubles.map { $0 * 1.01 }, fd, rtol: gradRtol, atol: gradAtol).failures, 0)
    }
}
