import Stats
import XCTest

final class ScalingFitTests: XCTestCase {
    let sizes: [Double] = [1e5, 2e5, 5e5, 1e6, 2e6, 5e6]
    // np.round(2.0 + 60.0*N**-0.3 + np.random.default_rng(20261125).normal(0, 0.005, 6), 6)  (E=2, A=60, α=0.3)
    let losses = [3.887769, 3.539298, 3.17637, 2.956016, 2.765656, 2.586521]

    /// Tolerance 1e-5 relative: two different iterative solvers (GSL trust region vs MINPACK LM) stop at slightly
    /// different points on a flat χ² valley (E and A trade off), and the covariance is evaluated at those points.
    /// Observed agreement is ~1e-7; 1e-5 leaves room for platform libm differences, and is far below the SEs.
    func testMatchesCurveFit() throws {
        let f = try ScalingFit(sizes: sizes, losses: losses)
        XCTAssertEqual(f.method, .nonlinearLeastSquares)
        // scipy.optimize.curve_fit(lambda N,E,A,a: E+A*N**-a, N, L, p0=[1.8,50,0.25], ftol=xtol=gtol=1e-15)
        //   -> [1.946600726142799, 51.69763955625042, 0.28506809538146044]
        assertClose(f.E, 1.946600726142799, rel: 1e-5)
        assertClose(f.A, 51.69763955625042, rel: 1e-5)
        assertClose(f.alpha, 0.28506809538146044, rel: 1e-5)
        // np.sqrt(np.diag(pcov)) -> [0.03625808946839322, 4.334839724176496, 0.008757308901063372]
        assertClose(f.eStandardError, 0.03625808946839322, rel: 1e-5)
        assertClose(f.aStandardError, 4.334839724176496, rel: 1e-5)
        assertClose(f.alphaStandardError, 0.008757308901063372, rel: 1e-5)
        // pcov[0, 2] -> 0.0003130331910805109
        assertClose(f.covariance?[2], 0.0003130331910805109, rel: 1e-5)
        // sum((law(N, *p) - L)**2) -> 8.036927943144335e-05
        assertClose(f.residualSumOfSquares, 8.036927943144335e-05, rel: 1e-5)
        XCTAssertGreaterThan(f.iterations, 0)
        XCTAssertNotEqual(f.convergence, .closedForm)
        XCTAssertGreaterThan(f.reciprocalConditionNumber!, 0)
        XCTAssertLessThanOrEqual(f.reciprocalConditionNumber!, 1)
        // The generating parameters lie within ~2 SE of the fit.
        XCTAssertEqual(f.alpha, 0.3, accuracy: 2 * f.alphaStandardError!)
    }

    func testFourSizesIsTheSmallestNonlinearFit() throws {
        let f = try ScalingFit(sizes: Array(sizes.prefix(4)), losses: Array(losses.prefix(4)))
        XCTAssertEqual(f.method, .nonlinearLeastSquares)
        // curve_fit(law, N[:4], L[:4], p0=[1.8,50,0.25], ftol=xtol=gtol=1e-15)
        //   -> [1.9621776906500763, 52.40246073115584, 0.2869713337569425]
        assertClose(f.E, 1.9621776906500763, rel: 1e-5)
        assertClose(f.A, 52.40246073115584, rel: 1e-5)
        assertClose(f.alpha, 0.2869713337569425, rel: 1e-5)
        // np.sqrt(np.diag(pcov4)) (n − p = 1) -> [0.03273909405867403, 3.175408956034361, 0.006699484324349984]
        assertClose(f.eStandardError, 0.03273909405867403, rel: 1e-5)
        assertClose(f.aStandardError, 3.175408956034361, rel: 1e-5)
        assertClose(f.alphaStandardError, 0.006699484324349984, rel: 1e-5)
    }

    func testRecoversNoiselessParameters() throws {
        let exact = sizes.map { 2.0 + 60.0 * pow($0, -0.3) }
        let f = try ScalingFit(sizes: sizes, losses: exact)
        assertClose(f.E, 2, rel: 1e-6)
        assertClose(f.A, 60, rel: 1e-6)
        assertClose(f.alpha, 0.3, rel: 1e-6)
        assertClose(f.predict(1e7), 2.0 + 60.0 * pow(1e7, -0.3), rel: 1e-9)
    }

    func testFewerThanFourSizesFallBackToLogLogLine() throws {
        let f = try ScalingFit(sizes: Array(sizes.prefix(3)), losses: Array(losses.prefix(3)))
        XCTAssertEqual(f.method, .logLogLine)
        XCTAssertEqual(f.convergence, .closedForm)
        XCTAssertEqual(f.E, 0)
        XCTAssertNil(f.eStandardError)
        XCTAssertNil(f.covariance)
        XCTAssertNil(f.reciprocalConditionNumber)
        // r = scipy.stats.linregress(np.log(N[:3]), np.log(L[:3]))
        //   -> A=exp(intercept)=16.385641098230327, alpha=-slope=0.1251776028448045,
        //      A*intercept_stderr=0.9867545858011929, stderr=0.004896734962287688
        assertClose(f.A, 16.385641098230327)
        assertClose(f.alpha, 0.1251776028448045)
        assertClose(f.aStandardError, 0.9867545858011929, rel: 1e-8)
        assertClose(f.alphaStandardError, 0.004896734962287688, rel: 1e-8)
        // Two sizes: the exact line, no standard errors.
        let two = try ScalingFit(sizes: [1e5, 1e6], losses: [4, 3])
        XCTAssertEqual(two.method, .logLogLine)
        XCTAssertNil(two.alphaStandardError)
        assertClose(two.alpha, log10(4.0 / 3.0))
    }

    func testDegenerateInputs() {
        assertThrows(.tooFewValues(needed: 2, got: 1)) { try ScalingFit(sizes: [1e5], losses: [3]) }
        assertThrows(.lengthMismatch(2, 1)) { try ScalingFit(sizes: [1e5, 1e6], losses: [3]) }
        assertThrows(.nonFinite) { try ScalingFit(sizes: [1e5, 1e6, 1e7, 1e8], losses: [3, .nan, 2, 1]) }
        assertThrows(.invalidArgument("sizes and losses must be positive")) {
            try ScalingFit(sizes: [1e5, 1e6, 1e7, 1e8], losses: [3, 0, 2, 1])
        }
        assertThrows(.zeroVariance) { try ScalingFit(sizes: [1e6, 1e6, 1e6, 1e6], losses: [3, 2.9, 3.1, 3]) }
        assertThrows(.zeroVariance) { try ScalingFit(sizes: sizes, losses: [3, 3, 3, 3, 3, 3]) }
        // An iteration budget too small to converge is reported, not returned as numbers.
        XCTAssertThrowsError(try ScalingFit(sizes: sizes, losses: losses, maxIterations: 1)) { error in
            guard case .notConverged? = error as? StatsError else { return XCTFail("\(error)") }
        }
        // No finite optimum: the same losses at N = 1…6 drift towards α → 0, E → −∞
        // (scipy.optimize.curve_fit(law, np.arange(1.,7.), L, p0=[2.3,1.6,0.3]) "converges" to E≈−6209, A≈6213,
        // α≈1.2e-4 with SE(E)≈5.5e6); loss rising with N has none either. Both are reported as `.notConverged`.
        for (n, l) in [([1.0, 2, 3, 4, 5, 6], losses), (sizes, [2.5, 2.7, 2.9, 3.1, 3.3, 3.5])] {
            XCTAssertThrowsError(try ScalingFit(sizes: n, losses: l)) { error in
                guard case .notConverged? = error as? StatsError else { return XCTFail("\(error)") }
            }
        }
    }
}
