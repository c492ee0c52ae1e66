import Kernels
import XCTest

final class ElementwiseTests: XCTestCase {
    let n = 5003  // 312 vector blocks and a 11-element tail

    func testAddAccumulateScale() {
        var rng = Xoshiro256(seed: 51)
        let a = randomValues(n, &rng), b = randomValues(n, &rng)
        let ba = buffer(a), bb = buffer(b), out = zeros(n)
        Elementwise.add(out: out.p, ba.p, bb.p, count: n)
        XCTAssertEqual(out.floats, (0..<n).map { Float(a[$0]) + Float(b[$0]) })
        Elementwise.accumulate(into: ba.p, bb.p, count: n)
        XCTAssertEqual(ba.floats, out.floats)
        Elementwise.scale(bb.p, by: -0.5, count: n)
        XCTAssertEqual(bb.floats, b.map { Float($0) * -0.5 })
    }

    func testSumOfSquares() {
        var rng = Xoshiro256(seed: 52)
        let x = randomValues(n, &rng, scale: 3)
        let expected = x.map { $0 * $0 }.reduce(0, +)
        XCTAssertEqual(Elementwise.sumOfSquares(buffer(x).p, count: n), expected, accuracy: 1e-6 * expected)
        XCTAssertEqual(Elementwise.sumOfSquares(buffer([3, 4]).p, count: 2), 25)
        XCTAssertEqual(Elementwise.sumOfSquares(buffer([]).p, count: 0), 0)
    }

    func testAllFinite() {
        var rng = Xoshiro256(seed: 53)
        let x = buffer(randomValues(10_000, &rng, scale: 1e30))
        XCTAssertTrue(Elementwise.allFinite(x.p, count: 10_000))
        XCTAssertTrue(Elementwise.allFinite(x.p, count: 0))
        // Bad values in a vector block, at a block boundary, past the first 4096-block, and in the tail.
        for position in [0, 17, 4095, 4096, 9_000, 9_999] {
            for bad in [Float.nan, .infinity, -.infinity] {
                let saved = x.p[position]
                x.p[position] = bad
                XCTAssertFalse(Elementwise.allFinite(x.p, count: 10_000), "\(bad) at \(position)")
                x.p[position] = saved
            }
        }
        XCTAssertTrue(Elementwise.allFinite(x.p, count: 10_000))
    }
}
