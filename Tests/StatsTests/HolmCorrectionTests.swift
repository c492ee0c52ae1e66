import Stats
import XCTest

final class HolmCorrectionTests: XCTestCase {
    func testMatchesStatsmodels() throws {
        // statsmodels.stats.multitest.multipletests([0.01, 0.04, 0.03, 0.005, 0.2, 0.04], method='holm')[1]
        //   -> [0.05, 0.12, 0.12, 0.03, 0.2, 0.12]   (ties, monotone running max, original order kept)
        // By hand: sorted .005 .01 .03 .04 .04 .2 × (6 5 4 3 2 1) = .03 .05 .12 .12 .08 .2 → running max
        //   .03 .05 .12 .12 .12 .2.
        assertClose(
            try HolmCorrection.adjustedPValues([0.01, 0.04, 0.03, 0.005, 0.20, 0.04]),
            [0.05, 0.12, 0.12, 0.03, 0.2, 0.12], rel: 1e-12)
        // multipletests([0.5, 0.6, 0.01], method='holm')[1] -> [1.0, 1.0, 0.03]   (capped at 1)
        assertClose(try HolmCorrection.adjustedPValues([0.5, 0.6, 0.01]), [1.0, 1.0, 0.03], rel: 1e-12)
        // multipletests([0.0, 1.0], method='holm')[1] -> [0.0, 1.0]
        XCTAssertEqual(try HolmCorrection.adjustedPValues([0.0, 1.0]), [0.0, 1.0])
        XCTAssertEqual(
            try HolmCorrection.rejected([0.01, 0.04, 0.03, 0.005, 0.20, 0.04]),
            [true, false, false, true, false, false])
    }

    func testDegenerateInputs() {
        XCTAssertEqual(try HolmCorrection.adjustedPValues([]), [])
        XCTAssertEqual(try HolmCorrection.adjustedPValues([0.2]), [0.2])
        assertThrows(.invalidArgument("p-values must lie in [0, 1]")) { try HolmCorrection.adjustedPValues([0.1, .nan]) }
        assertThrows(.invalidArgument("p-values must lie in [0, 1]")) { try HolmCorrection.adjustedPValues([1.2]) }
    }
}
