import Kernels
import XCTest

/// The accumulators behind `ablate bench --profile`.
final class StepProfileTests: XCTestCase {
    /// Calls are counted per category and summed over slots; `measure` returns its body's value with or without a
    /// profile; `reset` clears everything.
    func testCountsPerCategoryAndSlot() {
        let profile = StepProfile(slots: 2)
        XCTAssertEqual(profile.measure(.adamW, slot: 0) { 7 }, 7)
        profile.measure(.adamW, slot: 1) {}
        profile.measure(.data) {}
        let none: StepProfile? = nil
        XCTAssertEqual(none.measure(.adamW) { 8 }, 8)
        let calls = Dictionary(uniqueKeysWithValues: profile.totals.map { ($0.category, $0.calls) })
        XCTAssertEqual(calls[.adamW], 2)
        XCTAssertEqual(calls[.data], 1)
        XCTAssertEqual(calls.values.reduce(0, +), 3)
        XCTAssertEqual(profile.totals.map(\.category), StepProfile.Category.allCases)
        profile.reset()
        XCTAssertTrue(profile.totals.allSatisfy { $0.calls == 0 && $0.nanoseconds == 0 })
    }

    /// Time spent in a measured body is attributed to its category: a body that waits for the clock to move on by
    /// at least a microsecond records at least that (the clock is the one `measure` uses; no upper bound is asserted).
    func testTimeIsAttributedToTheCategory() {
        let profile = StepProfile(slots: 1)
        profile.measure(.geluForward) {
            let start = StepProfile.now()
            while StepProfile.now() - start < 1000 {}
        }
        let gelu = profile.totals.first { $0.category == .geluForward }!
        XCTAssertGreaterThanOrEqual(gelu.nanoseconds, 1000)
        XCTAssertTrue(profile.totals.filter { $0.category != .geluForward }.allSatisfy { $0.nanoseconds == 0 })
    }
}
