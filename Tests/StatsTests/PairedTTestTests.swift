import Stats
import XCTest

final class PairedTTestTests: XCTestCase {
    func testMatchesSciPy() throws {
        let pa = [2.41, 2.38, 2.45, 2.40, 2.52], pb = [2.47, 2.42, 2.44, 2.49, 2.55]
        let p = try PairedTTest(pa, pb)
        // scipy.stats.ttest_rel([2.41, 2.38, 2.45, 2.4, 2.52], [2.47, 2.42, 2.44, 2.49, 2.55])
        //   -> statistic=-2.537312791986729, pvalue=0.06416382963740985, df=4.0
        assertClose(p.t, -2.537312791986729)
        assertClose(p.pValue, 0.06416382963740985)
        XCTAssertEqual(p.degreesOfFreedom, 4)
        // ...confidence_interval(0.95) -> (-0.0879583441137348, 0.003958344113734809)
        assertClose(p.interval.lower, -0.0879583441137348)
        assertClose(p.interval.upper, 0.003958344113734809)
        assertClose(p.meanDifference, -0.042)
        // np.mean(d)/np.std(d, ddof=1), d = pa − pb -> -1.134720776612422
        assertClose(p.cohensDz, -1.134720776612422)
    }

    func testDegenerateInputs() {
        assertThrows(.lengthMismatch(2, 3)) { try PairedTTest([1, 2], [1, 2, 3]) }
        assertThrows(.tooFewValues(needed: 2, got: 1)) { try PairedTTest([1], [2]) }
        assertThrows(.nonFinite) { try PairedTTest([1, .nan], [2, 3]) }
        assertThrows(.zeroVariance) { try PairedTTest([1, 2, 3], [0.5, 1.5, 2.5]) }  // all differences equal
    }
}
