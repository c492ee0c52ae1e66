import Stats
import XCTest

final class CorrelationTests: XCTestCase {
    func testSpearmanWithTiesAndPearsonMatchSciPy() throws {
        let x: [Double] = [1, 2, 2, 3, 4, 4, 5], y: [Double] = [2, 1, 3, 3, 5, 4, 4]
        // scipy.stats.spearmanr([1, 2, 2, 3, 4, 4, 5], [2, 1, 3, 3, 5, 4, 4]).statistic -> 0.8333333333333335
        assertClose(try Correlation.spearman(x, y), 0.8333333333333335)
        // scipy.stats.pearsonr([1, 2, 2, 3, 4, 4, 5], [2, 1, 3, 3, 5, 4, 4]).statistic -> 0.7884862245567702
        assertClose(try Correlation.pearson(x, y), 0.7884862245567702)
        let px = [0.5, 1.7, 2.2, 3.9, 4.1, 6.3], py = [1.2, 0.9, 2.8, 2.7, 4.4, 4.0]
        // scipy.stats.pearsonr([0.5, 1.7, 2.2, 3.9, 4.1, 6.3], [1.2, 0.9, 2.8, 2.7, 4.4, 4.0]).statistic
        //   -> 0.8303179269987342
        assertClose(try Correlation.pearson(px, py), 0.8303179269987342)
        // scipy.stats.spearmanr(same).statistic -> 0.8285714285714287
        assertClose(try Correlation.spearman(px, py), 0.8285714285714287)
    }

    func testDegenerateInputs() throws {
        XCTAssertNil(try Correlation.pearson([1, 2], [3, 5]))  // n < 3
        XCTAssertNil(try Correlation.spearman([], []))
        XCTAssertNil(try Correlation.pearson([1, 2, 3], [4, 4, 4]))  // zero variance (SciPy: NaN)
        XCTAssertNil(try Correlation.spearman([2, 2, 2], [1, 2, 3]))
        assertThrows(.lengthMismatch(3, 2)) { try Correlation.pearson([1, 2, 3], [1, 2]) }
        assertThrows(.nonFinite) { try Correlation.spearman([1, 2, .nan], [1, 2, 3]) }
        assertClose(try Correlation.pearson([1, 2, 3], [2, 4, 6]), 1, rel: 1e-15)  // never above 1
    }
}
