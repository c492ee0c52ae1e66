import Stats
import XCTest

final class LinearFitTests: XCTestCase {
    func testMatchesLinregress() throws {
        let f = try LinearFit(x: [1, 2, 3, 4, 5, 6], y: [2.1, 3.9, 6.2, 7.8, 10.1, 12.2])
        // scipy.stats.linregress([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.1, 3.9, 6.2, 7.8, 10.1, 12.2])
        //   -> intercept=-0.019999999999998685, slope=2.0199999999999996,
        //      intercept_stderr=0.16653327995729902, stderr=0.04276179870599006, rvalue**2=0.9982106661074996
        // The intercept is ≈ 0 and cancels, so it gets an absolute tolerance.
        XCTAssertEqual(f.intercept, -0.019999999999998685, accuracy: 1e-12)
        assertClose(f.slope, 2.0199999999999996)
        assertClose(f.interceptStandardError, 0.16653327995729902)
        assertClose(f.slopeStandardError, 0.04276179870599006)
        assertClose(f.rSquared, 0.9982106661074996)
        // sum((y - (a + b x))**2) -> 0.12799999999999978
        assertClose(f.residualSumOfSquares, 0.12799999999999978, rel: 1e-8)
        assertClose(f.predict(10), -0.02 + 20.2)
    }

    func testPowerLawIsALineInLogLog() throws {
        let f = try PowerLawFit(x: [1, 2, 4, 8], y: [10, 6.1, 3.9, 2.4])
        // r = scipy.stats.linregress(np.log([1,2,4,8]), np.log([10,6.1,3.9,2.4]))
        //   -> exp(intercept)=9.935646843270225, slope=-0.6822016185861346, stderr=0.008917775669849004
        assertClose(f.amplitude, 9.935646843270225)
        assertClose(f.exponent, -0.6822016185861346)
        assertClose(f.line.slopeStandardError, 0.008917775669849004)
    }

    func testDegenerateInputs() throws {
        assertThrows(.tooFewValues(needed: 2, got: 1)) { try LinearFit(x: [1], y: [1]) }
        assertThrows(.lengthMismatch(2, 3)) { try LinearFit(x: [1, 2], y: [1, 2, 3]) }
        assertThrows(.nonFinite) { try LinearFit(x: [1, 2, .nan], y: [1, 2, 3]) }
        assertThrows(.zeroVariance) { try LinearFit(x: [2, 2, 2], y: [1, 2, 3]) }
        // Two points: the exact line, no standard errors.
        let two = try LinearFit(x: [1, 3], y: [2, 6])
        XCTAssertEqual(two.slope, 2)
        XCTAssertEqual(two.intercept, 0)
        XCTAssertNil(two.slopeStandardError)
        XCTAssertNil(two.interceptStandardError)
        // Constant y: slope 0, R² undefined (nil).
        let flat = try LinearFit(x: [1, 2, 3], y: [5, 5, 5])
        XCTAssertEqual(flat.slope, 0)
        XCTAssertNil(flat.rSquared)
        assertThrows(.invalidArgument("a log-log fit needs positive x and y")) { try PowerLawFit(x: [0, 1], y: [1, 2]) }
    }
}
