import Foundation
import Report
import TestSupport

// `swift run -c release report-fixtures [--runs]`: rewrites the report's golden file
// (Tests/ReportTests/Fixtures/expected-README.md) from the committed fixture grid, after a deliberate change to the
// report; with --runs, first rewrites the fixture grid itself from `ReportFixtureGrid.spec`. A tool, not a test.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("ReportTests/Fixtures")
let grid = fixtures.appendingPathComponent(ReportFixtureGrid.name)
do {
    if CommandLine.arguments.contains("--runs") {
        try? FileManager.default.removeItem(at: grid)
        try SyntheticGrid.write(ReportFixtureGrid.spec, to: grid)
        print("fixture runs rewritten: \(grid.path)")
    }
    let expected = fixtures.appendingPathComponent("expected-README.md")
    try Data(Report.build(gridFolder: grid).markdown.utf8).write(to: expected)
    print("golden report rewritten: \(expected.path)")
} catch {
    FileHandle.standardError.write(Data("report-fixtures: \(error)\n".utf8))
    exit(1)
}
