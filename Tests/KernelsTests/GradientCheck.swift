import Kernels
import XCTest

// Shared test machinery: Float buffers built from Double values, Double reference helpers, central finite
// differences, and a comparison that reports the worst element so failures are diagnosable.
//
// Every random input is a Double that is exactly representable as a Float (Double(Float(x))), so the Float kernel
// and the Double reference see the same numbers and only the arithmetic differs.

/// A Float buffer owned by the running test (freed in its tear-down, so it outlives every call that uses it).
struct Buf {
    let p: UnsafeMutablePointer<Float>
    let count: Int
    var doubles: [Double] { (0..<count).map { Double(p[$0]) } }
    var floats: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
}

extension XCTestCase {
    func buffer(_ values: [Double]) -> Buf {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, values.count))
        for i in values.indices { p[i] = Float(values[i]) }
        let address = UInt(bitPattern: p)
        addTeardownBlock { UnsafeMutablePointer<Float>(bitPattern: address)?.deallocate() }
        return Buf(p: p, count: values.count)
    }
    func zeros(_ n: Int) -> Buf { buffer([Double](repeating: 0, count: n)) }
    func filled(_ value: Float, _ n: Int) -> Buf {
        let b = zeros(n)
        b.p.update(repeating: value, count: n)
        return b
    }
}

/// n values, normal(offset, scale), rounded to Float precision.
func randomValues(_ n: Int, _ rng: inout Xoshiro256, scale: Double = 1, offset: Double = 0) -> [Double] {
    (0..<n).map { _ in Double(Float(offset + scale * rng.nextNormal())) }
}

func dot(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

/// Central differences of L(x) = Σ f(x) ⊙ r with respect to inputs[which], step h, all in Double.
/// Truncation error ≈ h²·|L'''|/6 ≈ 1e-12; rounding error ≈ 1e-16·|L|/h ≈ 1e-9 for |L| ≲ 10: both far below
/// the 1e-4 tolerance the Float kernels are held to.
func numericalGradient(
    _ inputs: [[Double]], wrt which: Int, weights r: [Double], h: Double = 1e-6,
    _ f: ([[Double]]) -> [Double]
) -> [Double] {
    var x = inputs
    var g = [Double](repeating: 0, count: inputs[which].count)
    for i in g.indices {
        let x0 = x[which][i]
        x[which][i] = x0 + h
        let lp = dot(f(x), r)
        x[which][i] = x0 - h
        let lm = dot(f(x), r)
        x[which][i] = x0
        g[i] = (lp - lm) / (2 * h)
    }
    return g
}

struct Comparison {
    var failures = 0
    var worstExcess = 0.0  // max over elements of |a − e| / (rtol·|e| + atol); ≤ 1 means all pass
    var worstIndex = -1
    var worstActual = 0.0, worstExpected = 0.0
}

/// Element i passes when |actual − expected| ≤ rtol·|expected| + atol.
func compare(_ actual: [Double], _ expected: [Double], rtol: Double, atol: Double) -> Comparison {
    precondition(actual.count == expected.count, "length \(actual.count) vs \(expected.count)")
    var c = Comparison()
    for i in actual.indices {
        let bound = rtol * abs(expected[i]) + atol
        let excess = abs(actual[i] - expected[i]) / bound
        if !(excess <= 1) { c.failures += 1 }
        if !(excess <= c.worstExcess) {
            c.worstExcess = excess.isNaN ? .infinity : excess
            c.worstIndex = i
            c.worstActual = actual[i]; c.worstExpected = expected[i]
        }
    }
    return c
}

func assertClose(
    _ actual: [Double], _ expected: [Double], rtol: Double, atol: Double, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(what): length", file: file, line: line)
    guard actual.count == expected.count else { return }
    let c = compare(actual, expected, rtol: rtol, atol: atol)
    XCTAssertEqual(
        c.failures, 0,
        "\(what): \(c.failures)/\(actual.count) elements out of tolerance; worst [\(c.worstIndex)] "
            + "got \(c.worstActual), expected \(c.worstExpected) (\(c.worstExcess)× the bound)",
        file: file, line: line)
}

// Tolerances, stated once.
//
// Forward (Float kernel vs Double reference): Float's unit roundoff is 2⁻²⁴ ≈ 6e-8; each output here is a short
// chain of operations or a sum of ≤ 40 terms, so its error is ≲ 40·6e-8·Σ|terms| ≈ 2.4e-6 of the terms' scale, or a
// few ulp for the exp-based kernels. rtol 1e-5 with atol 1e-6 (outputs are O(1)) leaves a 4× margin and still
// catches any real formula error, which shows up at the 1e-2 level or worse.
let forwardRtol = 1e-5, forwardAtol = 1e-6
// Backward (Float kernel vs Double central differences): the analytic gradient is a Float computation of chained
// sums (layer norm's three-term difference, attention's softmax backward) so errors reach ~1e-5 of the gradient's
// scale; FD error is ≤ 1e-8 (see numericalGradient). 1e-4 relative + 1e-4 absolute is 10× above both, and a sign
// or factor error still fails by orders of magnitude (testGradientCheckerCatchesWrongGradients proves this).
let gradRtol = 1e-4, gradAtol = 1e-4
