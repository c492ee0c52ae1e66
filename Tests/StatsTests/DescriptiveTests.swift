import Stats
import XCTest

final class DescriptiveTests: XCTestCase {
    let x = [3.1, 2.9, 3.3, 3.6, 2.7, 3.0, 4.2]

    func testMomentsAndOrderStatisticsMatchNumPy() throws {
        let s = try Sample(x)
        assertClose(s.mean, 3.257142857142857)  // np.mean(x)
        assertClose(s.standardDeviation, 0.5061526214398936)  // np.std(x, ddof=1)
        assertClose(s.standardError, 0.19130770882476825)  // scipy.stats.sem(x)
        assertClose(s.median, 3.1)  // np.median(x)
        // np.quantile(x, [0.1, 0.25, 0.9]) -> [2.82, 2.95, 3.8400000000000003] (method='linear', type 7)
        assertClose(try [0.1, 0.25, 0.9].map { try s.quantile($0) }, [2.82, 2.95, 3.8400000000000003])
        XCTAssertEqual(s.min, 2.7)
        XCTAssertEqual(s.max, 4.2)
        XCTAssertEqual(s.count, 7)
    }

    func testInterquartileMean() throws {
        // n = 7: drop ⌊0.25·7⌋ = 1 from each end, mean of the middle 5.
        assertClose(try Sample(x).interquartileMean, 3.18)  // scipy.stats.trim_mean(x, 0.25)
        // Hand-checkable: sorted 1 2 | 3 4 5 6 | 7 100 → (3+4+5+6)/4 = 4.5; the outlier 100 is ignored.
        // scipy.stats.trim_mean([7,1,100,3,5,2,6,4], 0.25) -> 4.5
        XCTAssertEqual(try Sample([7, 1, 100, 3, 5, 2, 6, 4]).interquartileMean, 4.5)
        // n ≤ 3 drops nothing: IQM = mean.
        XCTAssertEqual(try Sample([1, 2, 6]).interquartileMean, 3)
        // trim 0.5 is the median (GSL's convention).
        XCTAssertEqual(try Sample([1, 2, 6, 10]).trimmedMean(0.5), 4)
    }

    func testDegenerateInputs() throws {
        assertThrows(.tooFewValues(needed: 1, got: 0)) { try Sample([]) }
        assertThrows(.nonFinite) { try Sample([1, .nan]) }
        assertThrows(.nonFinite) { try Sample([1, .infinity]) }
        let one = try Sample([2.5])
        XCTAssertEqual(one.mean, 2.5)
        XCTAssertEqual(one.median, 2.5)
        XCTAssertEqual(one.interquartileMean, 2.5)
        XCTAssertNil(one.standardDeviation)
        XCTAssertNil(one.variance)
        XCTAssertNil(one.standardError)
        let flat = try Sample([4, 4, 4])
        XCTAssertEqual(flat.standardDeviation, 0)
        XCTAssertEqual(flat.mean, 4)
        assertThrows(.invalidArgument("quantile 1.5 not in [0, 1]")) { try flat.quantile(1.5) }
    }
}
