import Stats
import XCTest

final class WelchTestTests: XCTestCase {
    func testEqualSizesMatchSciPy() throws {
        let w = try WelchTest([3.1, 2.9, 3.3], [2.7, 2.8, 2.6])
        // scipy.stats.ttest_ind([3.1, 2.9, 3.3], [2.7, 2.8, 2.6], equal_var=False)
        //   -> statistic=3.098386676965937, pvalue=0.054786766041076296, df=2.9411764705882337
        assertClose(w.t, 3.098386676965937)
        assertClose(w.pValue, 0.054786766041076296)
        assertClose(w.degreesOfFreedom, 2.9411764705882337)
        assertClose(w.meanDifference, 0.4)
        // ...confidence_interval(0.95) -> (-0.015539950318250007, 0.8155399503182508)
        assertClose(w.interval.lower, -0.015539950318250007)
        assertClose(w.interval.upper, 0.8155399503182508)
        // d = Δ/s_p; g = d·exp(gammaln(m/2) − gammaln((m−1)/2))/sqrt(m/2), m = na+nb−2 (numpy/scipy.special, see
        // scipy_reference.py) -> d=2.529822128134707, g=2.0185060176161307
        assertClose(w.cohensD, 2.529822128134707)
        assertClose(w.hedgesG, 2.0185060176161307)
        // ...confidence_interval(0.9) -> (0.09368880649971234, 0.7063111935002881)
        let w90 = try WelchTest([3.1, 2.9, 3.3], [2.7, 2.8, 2.6], level: 0.9)
        assertClose(w90.interval.lower, 0.09368880649971234)
        assertClose(w90.interval.upper, 0.7063111935002881)
    }

    func testUnequalSizesMatchSciPy() throws {
        let w = try WelchTest([2.41, 2.38, 2.45, 2.40, 2.52], [2.47, 2.51, 2.44])
        // scipy.stats.ttest_ind([2.41, 2.38, 2.45, 2.4, 2.52], [2.47, 2.51, 2.44], equal_var=False)
        //   -> statistic=-1.2909664624266324, pvalue=0.24515419503660144, df=5.8787266037160055
        assertClose(w.t, -1.2909664624266324)
        assertClose(w.pValue, 0.24515419503660144)
        assertClose(w.degreesOfFreedom, 5.8787266037160055)
        // ...confidence_interval(0.95) -> (-0.12007041786231196, 0.03740375119564551)
        assertClose(w.interval.lower, -0.12007041786231196)
        assertClose(w.interval.upper, 0.03740375119564551)
        // pooled-sd d and exact-J Hedges' g (scipy_reference.py) -> d=-0.833737093265711, g=-0.7242062898422496
        assertClose(w.cohensD, -0.833737093265711)
        assertClose(w.hedgesG, -0.7242062898422496)
    }

    func testHedgesCorrection() {
        // exp(gammaln(m/2) − gammaln((m−1)/2))/sqrt(m/2) for m in (4, 10) -> 0.7978845608028653, 0.922745608053087
        assertClose(hedgesCorrection(degreesOfFreedom: 4), 0.7978845608028653)
        assertClose(hedgesCorrection(degreesOfFreedom: 10), 0.922745608053087)
    }

    func testOneConstantSampleIsStillDefined() throws {
        let w = try WelchTest([1, 1, 1], [0.5, 0.7, 0.9])
        // scipy.stats.ttest_ind([1,1,1], [0.5,0.7,0.9], equal_var=False)
        //   -> statistic=2.598076211353315, pvalue=0.1216899343463202, df=2.0
        assertClose(w.t, 2.598076211353315)
        assertClose(w.pValue, 0.1216899343463202)
        assertClose(w.degreesOfFreedom, 2)
    }

    func testDegenerateInputs() {
        assertThrows(.tooFewValues(needed: 2, got: 1)) { try WelchTest([1], [1, 2]) }
        assertThrows(.tooFewValues(needed: 2, got: 0)) { try WelchTest([1, 2], []) }
        assertThrows(.nonFinite) { try WelchTest([1, .infinity], [1, 2]) }
        assertThrows(.zeroVariance) { try WelchTest([1, 1, 1], [2, 2]) }  // SciPy: NaN
    }
}
