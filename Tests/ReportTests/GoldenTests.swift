import Foundation
import Report
import TestSupport
import XCTest

/// Fixture run folders → the exact expected README.md.
/// After a deliberate change, `swift run -c release report-fixtures` rewrites the expected report (`--runs`: the
/// fixture runs too).
final class GoldenTests: XCTestCase {
    func testGoldenReport() throws {
        let grid = FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name)
        let output = try Report.build(gridFolder: grid)
        let expected = try String(
            contentsOf: FixtureGrid.bundled.appendingPathComponent("expected-README.md"),
            encoding: .utf8)
        if output.markdown != expected {
            let a = output.markdown.split(separator: "\n", omittingEmptySubsequences: false)
            let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
            XCTFail(
                "report differs from the golden file at line \((first?.offset ?? min(a.count, b.count)) + 1):\n"
                    + "got:      \(first.map { String($0.element.0) } ?? "(length \(a.count))")\n"
                    + "expected: \(first.map { String($0.element.1) } ?? "(length \(b.count))")\n"
                    + "(`swift run -c release report-fixtures` regenerates it after a deliberate change)")
        }
    }

    func testDeterministicIncludingFigures() throws {
        let grid = FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name)
        let a = try Report.build(gridFolder: grid), b = try Report.build(gridFolder: grid)
        XCTAssertEqual(a.markdown, b.markdown)
        XCTAssertEqual(a.figures.map(\.name), b.figures.map(\.name))
        XCTAssertEqual(a.figures.map(\.svg), b.figures.map(\.svg))
        assertNoNonFinite(a.markdown)
    }
}
