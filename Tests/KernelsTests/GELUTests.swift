import Foundation
import Kernels
import XCTest

/// The tanh form exactly as written in GPT-2, in Double (independent of the kernel's σ(2u) identity).
func geluReference(_ x: [Double]) -> [Double] {
    x.map { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }
}

final class GELUTests: XCTestCase {
    /// 103 = 6·16 + 7: vector body and tail. Values span the curved region, the far tails (±12, where
    /// e^(−2u) over- or underflows before clamping) and exact zero.
    func inputs() -> [Double] {
        var rng = Xoshiro256(seed: 21)
        var x = randomValues(96, &rng, scale: 2.5)
        x += [0, -12, 12, -5.5, 5.5, -0.25, 1e-3]
        return x
    }

    func testForwardMatchesReference() {
        let x = inputs(), out = zeros(x.count)
        GELU.forward(out: out.p, inp: buffer(x).p, count: x.count)
        assertClose(out.doubles, geluReference(x), rtol: forwardRtol, atol: forwardAtol, "GELU forward")
        XCTAssertEqual(out.p[96], 0)
    }

    func testBackwardMatchesFiniteDifferences() {
        let x = inputs()
        var rng = Xoshiro256(seed: 22)
        let r = randomValues(x.count, &rng)
        let dx = zeros(x.count)
        GELU.backward(dinp: dx.p, inp: buffer(x).p, dout: buffer(r).p, count: x.count)
        let fd = numericalGradient([x], wrt: 0, weights: r) { geluReference($0[0]) }
        assertClose(dx.doubles, fd, rtol: gradRtol, atol: gradAtol, "GELU dinp")
    }

    func testBackwardAccumulates() {
        let x = inputs()
        var rng = Xoshiro256(seed: 23)
        let r = buffer(randomValues(x.count, &rng)), xb = buffer(x)
        let start = randomValues(x.count, &rng)
        let once = buffer(start), twice = buffer(start)
        GELU.backward(dinp: once.p, inp: xb.p, dout: r.p, count: x.count)
        GELU.backward(dinp: twice.p, inp: xb.p, dout: r.p, count: x.count)
        GELU.backward(dinp: twice.p, inp: xb.p, dout: r.p, count: x.count)
        let g1 = zip(once.doubles, start).map { $0 - $1 }, g2 = zip(twice.doubles, start).map { $0 - $1 }
        assertClose(g2, g1.map { 2 * $0 }, rtol: 1e-5, atol: 1e-5, "GELU accumulation")
    }
}
