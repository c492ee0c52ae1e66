import Kernels
import XCTest

/// Per row: (x − mean)/√(var + eps)·w + b with the biased variance, in Double.
func layerNormReference(
    _ x: [Double], _ w: [Double], _ b: [Double]?, rows: Int, features c: Int, eps: Double = 1e-5
)
    -> (out: [Double], mean: [Double], rstd: [Double])
{
    var out = [Double](repeating: 0, count: rows * c), mean = [Double](), rstd = [Double]()
    for n in 0..<rows {
        let row = Array(x[(n * c)..<(n * c + c)])
        let m = row.reduce(0, +) / Double(c)
        let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(c)
        let s = 1 / (v + eps).squareRoot()
        for i in 0..<c { out[n * c + i] = (row[i] - m) * s * w[i] + (b?[i] ?? 0) }
        mean.append(m); rstd.append(s)
    }
    return (out, mean, rstd)
}

final class LayerNormTests: XCTestCase {
    // features = 37: two 16-lane blocks plus a 5-element tail; 64: blocks only.
    func testWithBias() { check(rows: 5, c: 37, bias: true, seed: 11) }
    func testWithoutBias() { check(rows: 4, c: 64, bias: false, seed: 12) }
    func testShortRows() { check(rows: 3, c: 7, bias: true, seed: 13) }

    func check(rows: Int, c: Int, bias: Bool, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        // Rows with a non-zero mean and a spread of scales, like a residual stream.
        var x = [Double]()
        for _ in 0..<rows { x += randomValues(c, &rng, scale: 0.5 + 2 * rng.nextDouble(), offset: rng.nextNormal()) }
        let w = randomValues(c, &rng, scale: 0.3, offset: 1), b = bias ? randomValues(c, &rng, scale: 0.3) : nil
        let r = randomValues(rows * c, &rng)

        let bx = buffer(x), bw = buffer(w), bb = b.map { buffer($0) }
        let out = zeros(rows * c), mean = zeros(rows), rstd = zeros(rows)
        LayerNorm.forward(out: out.p, mean: mean.p, rstd: rstd.p, inp: bx.p, weight: bw.p, bias: bb?.p, rows: rows, features: c)
        let ref = layerNormReference(x, w, b, rows: rows, features: c)
        assertClose(out.doubles, ref.out, rtol: forwardRtol, atol: forwardAtol, "LayerNorm out")
        assertClose(mean.doubles, ref.mean, rtol: forwardRtol, atol: forwardAtol, "LayerNorm mean")
        assertClose(rstd.doubles, ref.rstd, rtol: forwardRtol, atol: forwardAtol, "LayerNorm rstd")

        let dx = zeros(x.count), dw = zeros(c), db = zeros(c)
        LayerNorm.backward(
            dinp: dx.p, dweight: dw.p, dbias: bias ? db.p : nil, dout: buffer(r).p, inp: bx.p, weight: bw.p,
            mean: mean.p, rstd: rstd.p, rows: rows, features: c)
        let f: ([[Double]]) -> [Double] = { layerNormReference($0[0], $0[1], bias ? $0[2] : nil, rows: rows, features: c).out }
        let inputs = [x, w, b ?? []]
        assertClose(dx.doubles, numericalGradient(inputs, wrt: 0, weights: r, f), rtol: gradRtol, atol: gradAtol, "LayerNorm dinp")
        assertClose(dw.doubles, numericalGradient(inputs, wrt: 1, weights: r, f), rtol: gradRtol, atol: gradAtol, "LayerNorm dweight")
        if bias {
            assertClose(db.doubles, numericalGradient(inputs, wrt: 2, weights: r, f), rtol: gradRtol, atol: gradAtol, "LayerNorm dbias")
        } else {
            XCTAssertEqual(db.floats, [Float](repeating: 0, count: c), "dbias = nil must not be written")
        }
    }

    func testBackwardAccumulatesAndNilGradientsAreSkipped() {
        let rows = 6, c = 40
        var rng = Xoshiro256(seed: 14)
        let x = buffer(randomValues(rows * c, &rng, scale: 2, offset: 1)), w = buffer(randomValues(c, &rng, offset: 1))
        let b = buffer(randomValues(c, &rng)), dout = buffer(randomValues(rows * c, &rng))
        let out = zeros(rows * c), mean = zeros(rows), rstd = zeros(rows)
        LayerNorm.forward(out: out.p, mean: mean.p, rstd: rstd.p, inp: x.p, weight: w.p, bias: b.p, rows: rows, features: c)
        let start = [randomValues(rows * c, &rng), randomValues(c, &rng), randomValues(c, &rng)]
        let once = start.map { buffer($0) }, twice = start.map { buffer($0) }
        LayerNorm.backward(
            dinp: once[0].p, dweight: once[1].p, dbias: once[2].p, dout: dout.p, inp: x.p, weight: w.p,
            mean: mean.p, rstd: rstd.p, rows: rows, features: c)
        for _ in 0..<2 {
            LayerNorm.backward(
                dinp: twice[0].p, dweight: twice[1].p, dbias: twice[2].p, dout: dout.p, inp: x.p, weight: w.p,
                mean: mean.p, rstd: rstd.p, rows: rows, features: c)
        }
        for k in 0..<3 {
            let g1 = zip(once[k].doubles, start[k]).map { $0 - $1 }, g2 = zip(twice[k].doubles, start[k]).map { $0 - $1 }
            XCTAssertGreaterThan(g1.map(abs).max()!, 0.1)
            assertClose(g2, g1.map { 2 * $0 }, rtol: 1e-5, atol: 1e-5, "LayerNorm accumulation, gradient \(k)")
        }
        // dweight/dbias nil: dinp is the same as with them.
        let alone = buffer(start[0])
        LayerNorm.backward(
            dinp: alone.p, dweight: nil, dbias: nil, dout: dout.p, inp: x.p, weight: w.p,
            mean: mean.p, rstd: rstd.p, rows: rows, features: c)
        XCTAssertEqual(alone.floats, once[0].floats)
    }
}
