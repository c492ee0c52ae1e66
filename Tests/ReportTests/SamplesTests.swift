import Foundation
import Report
import RunFormat
import TestSupport
import XCTest

/// samples.json (written by `ablate sample --save` through `RunSamples.write`) read back into the Samples section.
final class SamplesTests: XCTestCase {
    func testSamplesSectionShowsTheLargestSizeOncePerStrategy() throws {
        let grid = try temporaryFolder(self).appendingPathComponent("g")
        try SyntheticGrid.write(
            SyntheticGrid.Spec(
                strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2), .init(128, 4, 4)],
                seeds: [1, 2]), to: grid)
        func sample(_ text: String) -> RunSamples {
            RunSamples(prompt: "ROMEO:", text: text, seed: 1337, temperature: 0.8, topK: 200, tokens: 5, checkpoint: "step-0000200")
        }
        let written = sample(" zzz `art` ```here")
        try written.write(toRun: grid.appendingPathComponent("learned-d128-L4-v2048-s2"))
        try sample(" seed one").write(toRun: grid.appendingPathComponent("learned-d128-L4-v2048-s1"))
        try sample(" hashed text\n").write(toRun: grid.appendingPathComponent("hashed-d128-L4-v2048-s2"))
        try sample(" small model").write(toRun: grid.appendingPathComponent("hashed-d64-L2-v2048-s1"))
        XCTAssertEqual(try RunSamples.read(fromRun: grid.appendingPathComponent("learned-d128-L4-v2048-s2")), written)

        let md = try Report.build(gridFolder: grid).markdown
        let after = try XCTUnwrap(md.components(separatedBy: "## Samples\n\n").dropFirst().first)
        let section = after.components(separatedBy: "\n## ").first!
        XCTAssertTrue(section.contains("**`learned`** (run `learned-d128-L4-v2048-s1`, step-0000200, temperature 0.8, top-k 200, seed 1337)"))
        XCTAssertTrue(section.contains("```text\nROMEO: seed one\n```"))
        XCTAssertTrue(section.contains("```text\nROMEO: hashed text\n```"))
        XCTAssertFalse(section.contains("small model"), "only the largest size")
        XCTAssertFalse(section.contains("zzz"), "the lowest seed with a sample")
        XCTAssertLessThan(section.range(of: "`hashed`")!.lowerBound, section.range(of: "`learned`")!.lowerBound)
    }

    func testNoSamplesNoSection() throws {
        let out = try syntheticReport(self, SyntheticGrid.Spec(strategies: ["learned"], shapes: [.init(64, 2, 2)], seeds: [1, 2]))
        XCTAssertFalse(out.markdown.contains("## Samples"))
    }

    func testUnreadableSamplesFileIsAnError() throws {
        let run = try temporaryFolder(self)
        try Data("{not json".utf8).write(to: run.appendingPathComponent(RunSamples.fileName))
        XCTAssertThrowsError(try RunSamples.read(fromRun: run)) { XCTAssertTrue("\($0)".contains("samples.json")) }
    }
}
