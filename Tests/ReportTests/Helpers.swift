import Foundation
import TestSupport
import XCTest
import Report

/// The fixture grid: 4 strategies × 3 sizes × 3 seeds, one run missing, one diverged; synthetic probes.json in
/// every finished run but one.
enum FixtureGrid {
    static let name = "fixture-grid"
    static let missing = "hashed-d256-L4-v2048-s3"
    static let diverged = "frozen-random-d128-L4-v2048-s2"
    /// A finished run without probes.json (not probed yet).
    static let unprobed = "mup-d64-L2-v2048-s3"

    static var spec: SyntheticGrid.Spec {
        var s = SyntheticGrid.Spec(strategies: ["learned", "frozen-random", "hashed", "mup"],
                                   shapes: [.init(64, 2, 2), .init(128, 4, 4), .init(256, 4, 4)], seeds: [1, 2, 3])
        s.missing = [missing]
        s.diverged = [diverged]
        s.probes = true
        s.withoutProbes = [unprobed]
        return s
    }

    /// Tests/ReportTests/Fixtures in the source tree (for regenerating fixtures and the golden file).
    static var sourceFixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// The committed fixtures as copied into the test bundle.
    static var bundled: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }
}

/// A fresh temporary folder, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase, _ name: String = #function) throws -> URL {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("ablate-report-tests-\(ProcessInfo.processInfo.processIdentifier)-\(clean)")
    try? FileManager.default.removeItem(at: url)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Writes a synthetic grid to a temporary folder and builds its report.
func syntheticReport(_ test: XCTestCase, _ spec: SyntheticGrid.Spec, name: String = "synthetic",
                     function: String = #function) throws -> Report.Output {
    let root = try temporaryFolder(test, function)
    let grid = root.appendingPathComponent(name)
    try SyntheticGrid.write(spec, to: grid)
    return try Report.build(gridFolder: grid)
}

/// No NaN/inf anywhere in the numbers (the run list may quote a trainer's reason such as "loss (nan)").
func assertNoNonFinite(_ markdown: String, file: StaticString = #filePath, line: UInt = #line) {
    let text = markdown.components(separatedBy: "## Runs not in the analysis").first! +
        (markdown.components(separatedBy: "## Methods").dropFirst().first ?? "")
    for bad in ["nan", "NaN", "inf", "Inf"] {
        let words = text.components(separatedBy: CharacterSet.alphanumerics.inverted)
        XCTAssertFalse(words.contains(bad), "report contains '\(bad)'", file: file, line: line)
    }
}
