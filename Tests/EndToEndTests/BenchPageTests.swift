import Foundation
import TestSupport
import XCTest

/// `ablate bench` with the real binary on one small shape: the page it writes names the command that measured it
/// (so `make bench BENCH_ARGS=…` can measure it again), and holds the cell's row, its profile and its target lines.
/// Timings are not checked: they are measurements, not results.
final class BenchPageTests: XCTestCase {
    func testPageNamesItsCommandAndHoldsTheCell() throws {
        guard let url = AblateBinary.find() else { throw XCTSkip("the ablate binary is not built next to the tests") }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: tmp) }
        let ablate = AblateBinary(url: url, folder: tmp)
        let options = [
            "--shapes", "g48", "--threads", "1", "--steps", "1", "--windows", "1", "--min-seconds", "0", "--profile-steps", "1",
            "--no-torch",
        ]
        let r = try ablate.run(["bench"] + options + ["--out", "page/bench.md"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        let page = try String(contentsOf: tmp.appendingPathComponent("page/bench.md"), encoding: .utf8)
        XCTAssertTrue(
            page.contains(
                "Written by `ablate bench --shapes g48 --threads 1 --steps 1 --windows 1 --min-seconds 0.0 --profile-steps 1 --no-torch` "),
            page)
        // --min-seconds 0: exactly the one window asked for (threads, then windows).
        let row = try XCTUnwrap(page.split(separator: "\n").first { $0.hasPrefix("| (g48) 2048, 48, 2, 2, 64, 16 | ") })
        XCTAssertEqual(row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }[2...3], ["1", "1"], String(row))
        XCTAssertTrue(page.contains("\n### g48 (2048, 48, 2, 2, 64, 16)\n"), page)
        XCTAssertTrue(page.contains("\n- g48 ("), page)
    }
}
