import Foundation
import TestSupport
import XCTest
import Report

/// Fixture run folders → the exact expected README.md.
/// Regenerate the fixture runs with ABLATE_UPDATE_FIXTURES=1, the expected report with ABLATE_UPDATE_GOLDEN=1.
final class GoldenTests: XCTestCase {
    let env = ProcessInfo.processInfo.environment

    func testRegenerateFixtures() throws {
        guard env["ABLATE_UPDATE_FIXTURES"] == "1" else { throw XCTSkip("set ABLATE_UPDATE_FIXTURES=1 to regenerate") }
        let grid = FixtureGrid.sourceFixtures.appendingPathComponent(FixtureGrid.name)
        try? FileManager.default.removeItem(at: grid)
        try SyntheticGrid.write(FixtureGrid.spec, to: grid)
    }

    func testGoldenReport() throws {
        let grid = FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name)
        let output = try Report.build(gridFolder: grid)
        let expectedURL = FixtureGrid.sourceFixtures.appendingPathComponent("expected-README.md")
        if env["ABLATE_UPDATE_GOLDEN"] == "1" {
            try Data(output.markdown.utf8).write(to: expectedURL)
            throw XCTSkip("golden report rewritten: \(expectedURL.path)")
        }
        let expected = try String(contentsOf: FixtureGrid.bundled.appendingPathComponent("expected-README.md"),
                                  encoding: .utf8)
        if output.markdown != expected {
            let a = output.markdown.split(separator: "\n", omittingEmptySubsequences: false)
            let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
            XCTFail("report differs from the golden file at line \((first?.offset ?? min(a.count, b.count)) + 1):\n"
                    + "got:      \(first.map { String($0.element.0) } ?? "(length \(a.count))")\n"
                    + "expected: \(first.map { String($0.element.1) } ?? "(length \(b.count))")\n"
                    + "(ABLATE_UPDATE_GOLDEN=1 regenerates it after a deliberate change)")
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
