import Stats
import XCTest

final class BootstrapTests: XCTestCase {
    let bx = [2.31, 2.27, 2.35, 2.29, 2.44]
    let mean: ([Double]) -> Double = { $0.reduce(0, +) / Double($0.count) }

    /// An independent re-implementation (NumPy's MT19937 with GSL's seeding, GSL's uniform_int rejection rule,
    /// np.quantile type 7; `boot` in scipy_reference.py) gives the same interval bit for bit (up to summation order).
    func testMatchesIndependentReimplementation() throws {
        let one = try Bootstrap.percentile(bx, resamples: 2000, level: 0.95, seed: 42, statistic: mean)
        // boot([[2.31, 2.27, 2.35, 2.29, 2.44]], np.mean, B=2000, seed=42, level=0.95) -> [2.2860000000000005, 2.388]
        assertClose(one.interval.lower, 2.2860000000000005, rel: 1e-12)
        assertClose(one.interval.upper, 2.388, rel: 1e-12)
        assertClose(one.estimate, 2.332)
        XCTAssertEqual(one.resamples, 2000)

        let two = try Bootstrap.percentile(bx, [2.47, 2.51, 2.44, 2.58], resamples: 1000, level: 0.9, seed: 7) {
            self.mean($0) - self.mean($1)
        }
        // boot([bx, [2.47, 2.51, 2.44, 2.58]], mean(u)-mean(v), B=1000, seed=7, level=0.9)
        //   -> [-0.23449999999999974, -0.10850000000000026]
        assertClose(two.interval.lower, -0.23449999999999974, rel: 1e-12)
        assertClose(two.interval.upper, -0.10850000000000026, rel: 1e-12)
    }

    func testSameSeedSameIntervalAndSanity() throws {
        let a = try Bootstrap.percentile(bx, resamples: 500, seed: 2024, statistic: mean)
        let b = try Bootstrap.percentile(bx, resamples: 500, seed: 2024, statistic: mean)
        let c = try Bootstrap.percentile(bx, resamples: 500, seed: 2025, statistic: mean)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.interval, c.interval)
        XCTAssertTrue(a.interval.contains(mean(bx)))
        XCTAssertLessThan(a.interval.lower, a.interval.upper)
        XCTAssertGreaterThanOrEqual(a.interval.lower, bx.min()!)
        XCTAssertLessThanOrEqual(a.interval.upper, bx.max()!)
        // GSL's mt19937 maps seed 0 to 4357.
        XCTAssertEqual(
            try Bootstrap.percentile(bx, resamples: 50, seed: 0, statistic: mean).interval,
            try Bootstrap.percentile(bx, resamples: 50, seed: 4357, statistic: mean).interval)
    }

    func testDegenerateInputs() throws {
        assertThrows(.tooFewValues(needed: 1, got: 0)) { try Bootstrap.percentile([], seed: 1, statistic: self.mean) }
        assertThrows(.nonFinite) { try Bootstrap.percentile([1, .nan], seed: 1, statistic: self.mean) }
        assertThrows(.invalidArgument("resamples must be ≥ 1")) {
            try Bootstrap.percentile(bx, resamples: 0, seed: 1, statistic: self.mean)
        }
        assertThrows(.nonFiniteStatistic) {
            try Bootstrap.percentile(bx, resamples: 10, seed: 1) { _ in .nan }
        }
        let flat = try Bootstrap.percentile([3, 3, 3], resamples: 100, seed: 1, statistic: mean)
        XCTAssertEqual(flat.interval, ConfidenceInterval(lower: 3, upper: 3, level: 0.95))
    }

    func testProbabilityOfImprovement() throws {
        // scipy.stats.mannwhitneyu([2.45, 2.52, 2.6], [2.4, 2.45, 2.45, 2.5]).statistic / 12 -> 0.8333333333333334
        // (pairs with candidate < baseline, ties counting ½: 10 of 12)
        assertClose(
            try probabilityOfImprovement(candidate: [2.40, 2.45, 2.45, 2.50], baseline: [2.45, 2.52, 2.60]),
            0.8333333333333334)
        XCTAssertEqual(try probabilityOfImprovement(candidate: [1, 2], baseline: [1, 2]), 0.5)
        assertThrows(.tooFewValues(needed: 1, got: 0)) { try probabilityOfImprovement(candidate: [], baseline: [1]) }
        assertThrows(.nonFinite) { try probabilityOfImprovement(candidate: [1], baseline: [.nan]) }
    }
}
