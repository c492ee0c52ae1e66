import Foundation
import Report
import TestSupport
import XCTest

/// Every figure must render with rsvg-convert (librsvg). PNGs go to $ABLATE_REPORT_PNG_DIR when set (to look at
/// them), otherwise to a temporary folder.
final class SVGTests: XCTestCase {
    func rsvg() throws -> String {
        for p in ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"] where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        throw XCTSkip("rsvg-convert not installed (Debian: librsvg2-bin)")
    }

    func render(_ out: Report.Output, prefix: String, into dir: URL, tool: String) throws {
        try Data(out.markdown.utf8).write(to: dir.appendingPathComponent("\(prefix)-README.md"))
        for (name, svg) in out.figures {
            let svgURL = dir.appendingPathComponent("\(prefix)-\(name)")
            let png = svgURL.deletingPathExtension().appendingPathExtension("png")
            try Data(svg.utf8).write(to: svgURL)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = ["-o", png.path, svgURL.path]
            let err = Pipe()
            p.standardError = err
            try p.run()
            p.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 0, "\(prefix)-\(name): \(message)")
            let size = (try? FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int) ?? 0
            XCTAssertGreaterThan(size, 1000, "\(prefix)-\(name): empty PNG")
        }
    }

    func testEveryFigureRenders() throws {
        let tool = try rsvg()
        let dir: URL
        if let d = ProcessInfo.processInfo.environment["ABLATE_REPORT_PNG_DIR"] {
            dir = URL(fileURLWithPath: d)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } else {
            dir = try temporaryFolder(self)
        }
        try render(
            try Report.build(gridFolder: FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name)),
            prefix: "fixture", into: dir, tool: tool)
        var five = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random", "hashed", "mup", "lowrank"],
            shapes: [.init(64, 2, 2), .init(128, 4, 4), .init(256, 4, 4), .init(384, 6, 6)],
            seeds: [1, 2, 3])
        five.probes = true
        var probesN1 = SyntheticGrid.Spec(strategies: ["learned", "frozen-random"], shapes: [.init(64, 2, 2)], seeds: [1])
        probesN1.probes = true
        let cases: [(String, SyntheticGrid.Spec)] = [
            ("n1", .init(strategies: ["learned", "frozen-random"], shapes: [.init(64, 2, 2), .init(128, 4, 4)], seeds: [1])),
            ("nobaseline", .init(strategies: ["frozen-random", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2])),
            ("five", five),
            ("probes-n1", probesN1),
        ]
        for (name, spec) in cases {
            try render(
                try syntheticReport(self, spec, name: name, function: "svg-\(name)"), prefix: name, into: dir,
                tool: tool)
        }
    }

    func testTicks() {
        XCTAssertEqual(AxisMap.linearTicks(0.03, 0.97), [0.2, 0.4, 0.6, 0.8])
        XCTAssertEqual(AxisMap.labels([2.5, 3, 3.5], format: .decimal), ["2.5", "3.0", "3.5"])
        XCTAssertEqual(AxisMap.labels([100_000, 1_000_000, 2_500_000], format: .si), ["100k", "1M", "2.5M"])
        let log = AxisMap(scale: .log10, lo: 4.9, hi: 7.1, pixelLo: 0, pixelHi: 100)
        XCTAssertEqual(log.ticks().major, [1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7])
        // Less than a decade: linear ticks placed on the log axis.
        let narrow = AxisMap(scale: .log10, lo: log10(2.4), hi: log10(3.7), pixelLo: 0, pixelHi: 100)
        XCTAssertEqual(narrow.ticks().major, [2.5, 3, 3.5])
    }
}
