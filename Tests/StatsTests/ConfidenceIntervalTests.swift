import Stats
import XCTest

final class ConfidenceIntervalTests: XCTestCase {
    let t4 = [2.31, 2.27, 2.35, 2.29]

    func testStudentTIntervalMatchesSciPy() throws {
        let e95 = try MeanEstimate(t4)
        // scipy.stats.t.interval(0.95, 3, loc=np.mean(t4), scale=scipy.stats.sem(t4))
        assertClose(e95.interval.lower, 2.250649382324079)
        assertClose(e95.interval.upper, 2.3593506176759202)
        XCTAssertEqual(e95.interval.level, 0.95)
        XCTAssertEqual(e95.degreesOfFreedom, 3)
        assertClose(e95.mean, 2.305)
        let e90 = try MeanEstimate(t4, level: 0.9)
        // scipy.stats.t.interval(0.9, 3, loc=np.mean(t4), scale=scipy.stats.sem(t4))
        assertClose(e90.interval.lower, 2.2648086679152932)
        assertClose(e90.interval.upper, 2.345191332084706)
        XCTAssertTrue(e90.interval.contains(e90.mean))
    }

    func testDegenerateInputs() throws {
        assertThrows(.tooFewValues(needed: 2, got: 1)) { try MeanEstimate([1]) }
        assertThrows(.tooFewValues(needed: 2, got: 0)) { try MeanEstimate([]) }
        assertThrows(.nonFinite) { try MeanEstimate([1, .nan, 2]) }
        assertThrows(.invalidArgument("confidence level 1.0 not in (0, 1)")) { try MeanEstimate(t4, level: 1) }
        // All equal: the formula's zero-width interval, no NaN.
        let flat = try MeanEstimate([3, 3, 3])
        XCTAssertEqual(flat.interval, ConfidenceInterval(lower: 3, upper: 3, level: 0.95))
    }
}
