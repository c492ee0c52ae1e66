import Foundation
import Report
import Stats
import TestSupport
import XCTest

/// The "Embedding probes" section: present/absent, frozen tables, runs without or with unusable probes.json,
/// stabilisation and word-similarity statistics against independent computations, and the calibrated wording.
final class ProbeReportTests: XCTestCase {
    func fixture() throws -> Report.Output {
        try Report.build(gridFolder: FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name))
    }

    func section(_ md: String) -> String {
        let after = md.components(separatedBy: "## Embedding probes\n").dropFirst().first ?? ""
        return after.components(separatedBy: "\n## ").first ?? ""
    }

    func testProbeSectionPresentWithFrozenTablesMarked() throws {
        let out = try fixture()
        let p = out.probes
        XCTAssertTrue(p.hasProbes)
        XCTAssertEqual(p.kinds, [.input, .output])
        XCTAssertEqual(p.sets, ["wordsim353", "simlex999", "men"])
        XCTAssertEqual(out.figures.map(\.name).suffix(2), ["probes_vs_size.svg", "probe_drift.svg"])
        let s = section(out.markdown)
        XCTAssertTrue(s.contains("### Input embedding"))
        XCTAssertTrue(s.contains("### Output head"))
        XCTAssertTrue(s.contains("### Stabilisation during training"))
        XCTAssertTrue(s.contains("**in-corpus** pairs"))
        // Frozen input tables are marked (frozen-random, hashed); their output heads train and are not.
        for size in out.analysis.sizes {
            for arm in ["frozen-random", "hashed"] {
                XCTAssertEqual(p.cell(arm, size, .input)?.frozen, true, arm)
                XCTAssertEqual(p.cell(arm, size, .output)?.frozen, false, arm)
            }
            XCTAssertEqual(p.cell("learned", size, .input)?.frozen, false)
        }
        let input = s.components(separatedBy: "### Output head").first!
        let output = s.components(separatedBy: "### Output head").last!.components(separatedBy: "### Stabilisation").first!
        XCTAssertTrue(input.contains("| `frozen-random` (frozen) | d64-L2"))
        XCTAssertTrue(input.contains("| `hashed` (frozen) | d256-L4"))
        XCTAssertFalse(input.contains("| `learned` (frozen)"))
        XCTAssertFalse(output.contains("(frozen)"))
        // A frozen table's final numbers equal its init.
        let c = try XCTUnwrap(p.cell("frozen-random", out.analysis.sizes[0], .input))
        XCTAssertEqual(c.effectiveRank?.mean, c.effectiveRankInit?.mean)
        // Frozen tables have no stabilisation rows.
        XCTAssertFalse(s.contains("| `frozen-random` | input embedding |"))
        XCTAssertTrue(s.contains("| `frozen-random` | output head | d64-L2 |"))
        assertNoNonFinite(out.markdown)
    }

    func testRunWithoutProbesIsListedAndLeftOut() throws {
        let out = try fixture()
        XCTAssertEqual(out.probes.withoutProbes, [FixtureGrid.unprobed])
        XCTAssertEqual(out.probes.probedRuns.count, 33)
        XCTAssertTrue(out.probes.withoutDrift.isEmpty)
        XCTAssertTrue(section(out.markdown).contains("Finished runs without probes.json"))
        XCTAssertTrue(section(out.markdown).contains("`\(FixtureGrid.unprobed)`"))
        let size = out.analysis.sizes[0]
        XCTAssertEqual(out.probes.cell("mup", size, .input)?.n, 2)
        XCTAssertFalse(out.probes.cell("mup", size, .input)!.runs.contains(FixtureGrid.unprobed))
    }

    func testNoProbesSaysHowToProduceThem() throws {
        let spec = SyntheticGrid.Spec(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        let out = try syntheticReport(self, spec, name: "g-noprobes")
        XCTAssertFalse(out.probes.hasProbes)
        XCTAssertEqual(out.figures.map(\.name), ["loss_curves.svg", "scaling.svg", "gap.svg", "tokens_to_target.svg"])
        let s = section(out.markdown)
        XCTAssertTrue(s.contains("No run folder holds a probes.json. Run `ablate probe runs/g-noprobes`"), s)
        XCTAssertFalse(out.markdown.contains("### Input embedding"))
        XCTAssertFalse(out.markdown.contains("When do the tables stop moving"))
    }

    /// Stabilisation numbers against the probes.json files read independently (JSONSerialization) and Stats.
    func testStabilisationMatchesTheFiles() throws {
        let out = try fixture()
        let grid = FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name)
        let size = out.analysis.sizes[2]
        let cell = try XCTUnwrap(out.probes.cell("learned", size, .input))
        var expected = [Double]()
        var drifts = [[Double]]()
        for id in cell.runs {
            let data = try Data(contentsOf: grid.appendingPathComponent(id).appendingPathComponent("probes.json"))
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            let drift = try XCTUnwrap((obj["drift"] as? [String: Any])?["input"] as? [String: Any])
            expected.append(try XCTUnwrap(drift["stabilised_at"] as? Double))
            drifts.append(try XCTUnwrap(drift["remaining_drift"] as? [Double]))
        }
        XCTAssertEqual(cell.stabilisedAt, expected)
        XCTAssertEqual(cell.notStabilised, expected.filter { $0 >= 1 }.count)
        // The mean is over the runs trained to a plateau only (none in this fixture: every loss still falls).
        let testable = zip(expected, cell.lossFall).filter { ProbeAnalysis.isTestable($0.1) }.map(\.0)
        if testable.isEmpty {
            XCTAssertNil(cell.stabilised)
        } else if let m = try? MeanEstimate(testable), m.standardError > 0 {
            XCTAssertEqual(cell.stabilised?.interval, m.interval)
        }
        // The mean drift curve: the mean over runs at each snapshot (all runs share the snapshot grid).
        XCTAssertEqual(cell.remainingDrift.count, drifts[0].count)
        for (i, point) in cell.remainingDrift.enumerated() {
            XCTAssertEqual(point.mean, drifts.map { $0[i] }.reduce(0, +) / Double(drifts.count), accuracy: 1e-12)
        }
        // Findings: pooled over sizes. Every fixture run was still learning (its validation loss falls by more than
        // 3 % over its second half), so none gets a verdict: all 9 are "not testable at this budget".
        let pooled = out.probes.stabilisation(out.analysis, "learned", .input)
        XCTAssertEqual(pooled.count, 9)
        let falls = out.probes.lossFalls(out.analysis, "learned", .input).map { $0! }
        XCTAssertEqual(falls.count, 9)
        let moving = falls.filter { $0 > ProbeAnalysis.lossFallLimit }
        XCTAssertEqual(moving.count, 9)
        let range = String(format: "%.2f–%.2f %%", 100 * moving.min()!, 100 * moving.max()!)
        XCTAssertTrue(
            out.markdown.contains(
                "- `learned` input embedding: not testable at this budget "
                    + "(loss still falling by \(range) over the last 50 % of training) in all 9 runs."
            ), range)
        XCTAssertFalse(out.markdown.contains("the claim does not hold here"))
        XCTAssertFalse(out.markdown.contains("`learned` input embedding: 79 %"))
        XCTAssertTrue(out.markdown.contains("embeddings stabilise by ~10 % of training"))
    }

    func testCalibratedWordSimilarityWording() throws {
        // Default synthetic signal: ρ ≈ 0.02–0.07 with n = 3: nothing to claim.
        let out = try fixture()
        XCTAssertTrue(out.markdown.contains("**Word similarity, `learned` input table**"))
        XCTAssertTrue(out.markdown.contains("no detectable word-similarity signal at this scale"))
        XCTAssertFalse(out.markdown.contains("capture"))
        // A strong synthetic signal is reported, with its interval and the init baseline.
        var spec = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random"], shapes: [.init(64, 2, 2), .init(256, 4, 4)],
            seeds: [1, 2, 3])
        spec.probes = true
        spec.wordSimilaritySignal = 12
        let strong = try syntheticReport(self, spec, name: "g-strong")
        let line = try XCTUnwrap(strong.markdown.split(separator: "\n").first { $0.contains("**Word similarity, `learned`") })
        XCTAssertTrue(line.contains("ρ above 0 and above the init table in"), String(line))
        XCTAssertTrue(line.contains("(init table: "), String(line))
        XCTAssertFalse(strong.markdown.contains("**Word similarity, `frozen-random`"))
        // Single-run cells never count as a signal, however large ρ is.
        spec.seeds = [1]
        let single = try syntheticReport(self, spec, name: "g-single")
        XCTAssertTrue(single.markdown.contains("no detectable word-similarity signal at this scale"))
        XCTAssertTrue(section(single.markdown).contains(" ["), "n = 1 cells show the run's Fisher interval")
    }

    func testUnreadableUnfinishedAndTiedProbes() throws {
        var spec = SyntheticGrid.Spec(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        spec.probes = true
        spec.running = ["hashed-d64-L2-v2048-s2"]
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("g")
        try SyntheticGrid.write(spec, to: grid)
        // A broken probes.json; a probes.json in an unfinished run (ablate probe --unfinished).
        try Data("{\"format\": \"ablate-probes-1\", \"tables\": ".utf8)
            .write(to: grid.appendingPathComponent("learned-d64-L2-v2048-s2/probes.json"))
        try FileManager.default.copyItem(
            at: grid.appendingPathComponent("hashed-d64-L2-v2048-s1/probes.json"),
            to: grid.appendingPathComponent("hashed-d64-L2-v2048-s2/probes.json"))
        // A tied head, and a minimal file: only the keys the report needs (lenient decoding).
        let url = grid.appendingPathComponent("learned-d64-L2-v2048-s1/probes.json")
        var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var tables = try XCTUnwrap(obj["tables"] as? [String: Any])
        tables["output"] = nil
        obj["tables"] = tables
        obj["drift"] = ["input": (obj["drift"] as! [String: Any])["input"]!]
        obj["settings"] = nil
        obj["notes"] = nil
        try JSONSerialization.data(withJSONObject: obj).write(to: url)

        let out = try Report.build(gridFolder: grid)
        let p = out.probes
        XCTAssertEqual(p.probedRuns, ["hashed-d64-L2-v2048-s1", "learned-d64-L2-v2048-s1"])
        XCTAssertEqual(p.unusable.map(\.id), ["hashed-d64-L2-v2048-s2", "learned-d64-L2-v2048-s2"])
        XCTAssertTrue(p.unusable[0].reason.contains("not finished"))
        XCTAssertTrue(p.unusable[1].reason.contains("cannot be read"))
        let s = section(out.markdown)
        XCTAssertTrue(s.contains("probes.json not used:"))
        XCTAssertTrue(s.contains("- `learned-d64-L2-v2048-s2`: probes.json cannot be read"))
        // learned's head is tied: no output cell for it; hashed's head is there.
        let size = out.analysis.sizes[0]
        XCTAssertNil(p.cell("learned", size, .output))
        XCTAssertNotNil(p.cell("hashed", size, .output))
        XCTAssertEqual(p.cell("learned", size, .input)?.n, 1)
        assertNoNonFinite(out.markdown)
        for f in out.figures { XCTAssertFalse(f.svg.contains("nan"), f.name) }
    }

    /// Runs probed without snapshots (snapshots: false): no init column, no drift, no stabilisation — said so.
    func testProbesWithoutSnapshots() throws {
        var spec = SyntheticGrid.Spec(strategies: ["learned", "frozen-random"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        spec.probes = true
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("g")
        let ids = try SyntheticGrid.write(spec, to: grid)
        for id in ids {
            let url = grid.appendingPathComponent(id).appendingPathComponent("probes.json")
            var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            var tables = try XCTUnwrap(obj["tables"] as? [String: Any])
            for k in ["input", "output"] {
                var t = try XCTUnwrap(tables[k] as? [String: Any])
                t["init"] = nil
                tables[k] = t
            }
            obj["tables"] = tables
            obj["drift"] = [String: Any]()
            try JSONSerialization.data(withJSONObject: obj).write(to: url)
        }
        let out = try Report.build(gridFolder: grid)
        XCTAssertTrue(out.probes.hasProbes)
        let c = try XCTUnwrap(out.probes.cell("learned", out.analysis.sizes[0], .input))
        XCTAssertNil(c.effectiveRankInit)
        XCTAssertTrue(c.remainingDrift.isEmpty)
        XCTAssertTrue(section(out.markdown).contains("no drift records (runs without snapshots)"))
        XCTAssertEqual(out.probes.withoutDrift.count, 4)
        XCTAssertTrue(section(out.markdown).contains("**4 probed runs have no drift records**"))
        XCTAssertFalse(out.markdown.contains("When do the tables stop moving"))
        assertNoNonFinite(out.markdown)
        for f in out.figures { XCTAssertFalse(f.svg.contains("nan"), f.name) }
    }
}
