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

    /// The backward overwrites dinp: the result does not depend on what the buffer held (NaN, or earlier values) and
    /// equals, bit for bit, the former accumulation into a zeroed buffer (0 + d; only an exact zero's sign could
    /// differ, and none occurs here). 103 elements, and 1 and 15 (tail only).
    func testBackwardOverwrites() {
        let x = inputs()
        var rng = Xoshiro256(seed: 23)
        let r = buffer(randomValues(x.count, &rng)), xb = buffer(x)
        for count in [x.count, 1, 15] {
            let fromNaN = filled(.nan, count), fromValues = buffer(randomValues(count, &rng))
            GELU.backward(dinp: fromNaN.p, inp: xb.p, dout: r.p, count: count)
            GELU.backward(dinp: fromValues.p, inp: xb.p, dout: r.p, count: count)
            XCTAssertEqual(fromValues.floats.map(\.bitPattern), fromNaN.floats.map(\.bitPattern), "count \(count)")
            XCTAssertEqual(fromNaN.floats.map { (Float(0) + $0).bitPattern }, fromNaN.floats.map(\.bitPattern), "count \(count)")
            XCTAssertTrue(fromNaN.floats.allSatisfy(\.isFinite), "count \(count)")
        }
    }
}
