import Foundation
import Report
import RunFormat
import Stats
import TestSupport
import XCTest

/// Behaviour of the report on partial grids, tiny cells, missing baselines and unpaired seeds.
final class ReportTests: XCTestCase {
    func fixture() throws -> Report.Output {
        try Report.build(gridFolder: FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name))
    }

    func testPartialGridListsMissingAndDivergedRuns() throws {
        let out = try fixture()
        let problems = out.analysis.problems
        XCTAssertEqual(problems.map(\.id), [FixtureGrid.diverged, FixtureGrid.missing])
        XCTAssertEqual(problems.map(\.kind), [.diverged, .missing])
        XCTAssertTrue(out.markdown.contains("| `\(FixtureGrid.missing)` | missing | no run folder |"))
        XCTAssertTrue(out.markdown.contains("| `\(FixtureGrid.diverged)` | diverged | diverged after 80 of 200 steps"))
        XCTAssertTrue(out.markdown.contains("**Incomplete grid:**"))
        // The diverged run is out of every statistic: its cell has 2 runs, paired on 2 seeds.
        let size = out.analysis.sizes[1]
        XCTAssertEqual(out.analysis.cell("frozen-random", size)?.seeds, [1, 3])
        let c = try XCTUnwrap(out.analysis.comparisons.first { $0.arm == "frozen-random" && $0.size == size })
        XCTAssertEqual(c.test, .paired)
        XCTAssertEqual(c.pairs, 2)
    }

    func testUnfinishedAndUnreadableRunsAreListed() throws {
        var spec = SyntheticGrid.Spec(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2, 3])
        spec.running = ["hashed-d64-L2-v2048-s2"]
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("g")
        try SyntheticGrid.write(spec, to: grid)
        let broken = grid.appendingPathComponent("learned-d64-L2-v2048-s9")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data("{\"state\":\"running\"}".utf8).write(to: broken.appendingPathComponent("status.json"))
        let out = try Report.build(gridFolder: grid)
        let kinds = Dictionary(uniqueKeysWithValues: out.analysis.problems.map { ($0.id, $0.kind) })
        XCTAssertEqual(kinds["hashed-d64-L2-v2048-s2"], .unfinished)
        XCTAssertEqual(kinds["learned-d64-L2-v2048-s9"], .unreadable)
        XCTAssertTrue(out.markdown.contains("not finished (100 of 200 steps)"))
        XCTAssertTrue(out.markdown.contains("no config.json"))
    }

    /// With a grid.json (written by `ablate grid run`) the missing runs are the listed ones without a folder, even
    /// those the runs present cannot imply (a seed no run has); without one they are inferred.
    func testMissingRunsComeFromGridJSON() throws {
        var spec = SyntheticGrid.Spec(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        spec.missing = ["hashed-d64-L2-v2048-s2"]
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("g")
        try SyntheticGrid.write(spec, to: grid)
        XCTAssertEqual(try Report.build(gridFolder: grid).analysis.problems.map(\.id), ["hashed-d64-L2-v2048-s2"])

        let listed = [
            "learned-d64-L2-v2048-s1", "learned-d64-L2-v2048-s2", "hashed-d64-L2-v2048-s1",
            "hashed-d64-L2-v2048-s2", "hashed-d64-L2-v2048-s3",
        ]
        try writeGridIndex(listing: listed, in: grid)
        let out = try Report.build(gridFolder: grid)
        XCTAssertEqual(out.analysis.problems.map(\.id), ["hashed-d64-L2-v2048-s2", "hashed-d64-L2-v2048-s3"])
        XCTAssertTrue(out.markdown.contains("| `hashed-d64-L2-v2048-s3` | missing | no run folder (listed in grid.json) |"))
    }

    func testSingleRunCellsSayNTooSmall() throws {
        let spec = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random"], shapes: [.init(64, 2, 2), .init(128, 4, 4)],
            seeds: [1])
        let out = try syntheticReport(self, spec)
        XCTAssertTrue(out.analysis.comparisons.allSatisfy { $0.test == .none && $0.pValue == nil && $0.interval == nil })
        XCTAssertTrue(out.markdown.contains("(n = 1, n too small for a CI)"))
        XCTAssertTrue(out.markdown.contains("n too small, no CI or test"))
        XCTAssertTrue(out.markdown.contains("0 paired, 0 Welch, 2 without a test"))
        assertNoNonFinite(out.markdown)
        for f in out.figures { XCTAssertFalse(f.svg.contains("nan"), f.name) }
    }

    func testNoBaselineInGrid() throws {
        let spec = SyntheticGrid.Spec(
            strategies: ["frozen-random", "hashed"], shapes: [.init(64, 2, 2), .init(128, 4, 4)],
            seeds: [1, 2])
        let out = try syntheticReport(self, spec)
        XCTAssertFalse(out.analysis.hasBaseline)
        XCTAssertTrue(out.analysis.comparisons.isEmpty)
        XCTAssertEqual(out.figures.map(\.name), ["loss_curves.svg", "scaling.svg"])
        XCTAssertTrue(out.markdown.contains("**No `learned` runs in this grid:**"))
        XCTAssertFalse(out.markdown.contains("### Difference to"))
        assertNoNonFinite(out.markdown)
    }

    func testStrategyWithoutBaselineAtSomeSizes() throws {
        var spec = SyntheticGrid.Spec(
            strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2), .init(128, 4, 4)],
            seeds: [1, 2, 3])
        spec.missing = Set((1...3).map { "learned-d128-L4-v2048-s\($0)" })
        let out = try syntheticReport(self, spec)
        XCTAssertEqual(out.analysis.comparisons.count, 1)
        XCTAssertEqual(out.analysis.problems.filter { $0.kind == .missing }.count, 3)
        assertNoNonFinite(out.markdown)
    }

    func testWelchWhenSeedsAreNotShared() throws {
        var spec = SyntheticGrid.Spec(
            strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2), .init(128, 4, 4)],
            seeds: [1, 2, 3])
        spec.seedShift = ["hashed": 10]
        let out = try syntheticReport(self, spec)
        XCTAssertEqual(out.analysis.comparisons.map(\.test), [.welch, .welch])
        // Welch against Stats directly.
        let size = out.analysis.sizes[0]
        let a = try XCTUnwrap(out.analysis.cell("hashed", size)).finals
        let b = try XCTUnwrap(out.analysis.cell("learned", size)).finals
        let w = try WelchTest(a, b)
        XCTAssertEqual(out.analysis.comparisons[0].pValue, w.pValue)
        XCTAssertEqual(out.analysis.comparisons[0].delta, w.meanDifference)
        XCTAssertTrue(out.markdown.contains("0 paired, 2 Welch"))
    }

    func testPairedTestAndHolmMatchStats() throws {
        let out = try fixture()
        let a = out.analysis
        let raw = a.comparisons.map { $0.pValue! }
        XCTAssertEqual(a.comparisons.map { $0.holmPValue! }, try HolmCorrection.adjustedPValues(raw))
        let size = a.sizes[0]
        let x = try XCTUnwrap(a.cell("hashed", size)).finals, y = try XCTUnwrap(a.cell("learned", size)).finals
        let t = try PairedTTest(x, y)
        let c = try XCTUnwrap(a.comparisons.first { $0.arm == "hashed" && $0.size == size })
        XCTAssertEqual(c.pValue, t.pValue)
        XCTAssertEqual(c.interval, t.interval)
    }

    func testFourSizesUseTheNonlinearFit() throws {
        let spec = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random"],
            shapes: [.init(64, 2, 2), .init(128, 4, 4), .init(256, 4, 4), .init(384, 6, 6)],
            seeds: [1, 2, 3])
        let out = try syntheticReport(self, spec)
        for arm in ["learned", "frozen-random"] {
            let r = try XCTUnwrap(out.analysis.fits[arm])
            XCTAssertNotNil(r.fit, r.note ?? "")
            if r.note == nil { XCTAssertEqual(r.fit?.method, .nonlinearLeastSquares) }
        }
        XCTAssertTrue(out.markdown.contains("nonlinear least squares"))
        assertNoNonFinite(out.markdown)
    }

    func testTokensToTarget() throws {
        let out = try fixture()
        let a = out.analysis
        for size in a.sizes {
            let learned = try XCTUnwrap(a.tokensToTarget[.init(arm: "learned", size: size)])
            XCTAssertNotNil(learned.tokens)
            // frozen-random is far behind: never reaches the target; μP is slightly ahead: reaches it early.
            XCTAssertNil(a.tokensToTarget[.init(arm: "frozen-random", size: size)]?.tokens)
            let mup = try XCTUnwrap(a.tokensToTarget[.init(arm: "mup", size: size)]?.ratio)
            XCTAssertLessThan(mup, 1)
        }
        XCTAssertTrue(out.markdown.contains("not reached"))
    }

    /// The trainer's final loss is on other batches than the curve, here 0.08 nats below it: the target
    /// must be read on the curves' own set, or the baseline never reaches its own final loss.
    func testTokensToTargetReadsTheCurvesEvaluationSet() throws {
        var spec = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random", "mup"], shapes: [.init(64, 2, 2), .init(128, 4, 4)], seeds: [1, 2, 3])
        spec.finalSetOffset = -0.08
        let out = try syntheticReport(self, spec)
        let a = out.analysis
        XCTAssertFalse(out.markdown.contains("Some curves end before the last step"))
        let budget = Double(spec.steps * spec.batchSize * spec.contextLength)
        for size in a.sizes {
            let learned = try XCTUnwrap(a.tokensToTarget[.init(arm: "learned", size: size)])
            let cell = try XCTUnwrap(a.cell("learned", size))
            XCTAssertEqual(learned.target, cell.curve.last?.mean)
            XCTAssertEqual(learned.target - cell.final.mean, 0.08, accuracy: 1e-5)
            XCTAssertEqual(learned.ratio, 1)
            XCTAssertEqual(learned.budget, budget)
            XCTAssertNil(a.tokensToTarget[.init(arm: "frozen-random", size: size)]?.tokens)
            XCTAssertLessThan(try XCTUnwrap(a.tokensToTarget[.init(arm: "mup", size: size)]?.ratio), 1)
        }
    }

    /// Runs written before the final evaluation was recorded apart hold it as the last line's val_loss (and val_bpb):
    /// it is the run's final loss and, on other batches than the curve's, not a point of its curve.
    func testFinalEvaluationOfOlderRunsIsNotOnTheCurve() throws {
        var spec = SyntheticGrid.Spec(strategies: ["learned", "mup"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        spec.finalSetOffset = -0.08
        spec.finalRecordedApart = false
        spec.bitsPerByte = true
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("older")
        try SyntheticGrid.write(spec, to: grid)
        // One run without summary.json: its final loss and bits per byte come from metrics.jsonl alone.
        let bare = SyntheticGrid.runID("mup", spec.shapes[0], vocab: spec.vocabSize, seed: 1)
        try FileManager.default.removeItem(at: grid.appendingPathComponent(bare).appendingPathComponent(RunFiles.summary))
        let out = try Report.build(gridFolder: grid)
        let a = out.analysis
        XCTAssertTrue(out.markdown.contains("Some curves end before the last step"))
        let tokensPerStep = Double(spec.batchSize * spec.contextLength)
        for arm in ["learned", "mup"] {
            for run in try XCTUnwrap(a.cell(arm, a.sizes[0])?.runs) {
                XCTAssertEqual(run.curve.last?.tokens, Double(spec.steps - spec.evalInterval) * tokensPerStep, run.id)
                XCTAssertEqual(run.bpbCurve.last?.tokens, run.curve.last?.tokens, run.id)
                let final = try XCTUnwrap(run.finalFromMetrics, run.id)
                XCTAssertEqual(final.loss, run.finalValLoss, run.id)
                XCTAssertEqual(final.bpb, run.finalValBpb, run.id)
                XCTAssertNotNil(final.bpb, run.id)
            }
        }
        XCTAssertEqual(a.cell("mup", a.sizes[0])?.runs.count, 2)
        XCTAssertEqual(a.tokensToTarget[.init(arm: "learned", size: a.sizes[0])]?.ratio, 1)
    }

    /// When the final evaluation used the curve's batches (`final_eval_batches` = `eval_batches`), an older run's
    /// last line is a point of its curve like any other.
    func testFinalEvaluationOnTheCurvesBatchesStaysOnTheCurve() throws {
        var spec = SyntheticGrid.Spec(strategies: ["learned"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        spec.finalRecordedApart = false
        spec.finalEvalBatches = 4
        let a = try syntheticReport(self, spec).analysis
        let run = try XCTUnwrap(a.cell("learned", a.sizes[0])?.runs.first)
        XCTAssertEqual(run.curve.last?.tokens, Double(spec.steps * spec.batchSize * spec.contextLength))
        XCTAssertEqual(run.curve.last?.loss, run.finalValLoss)
    }

    func testFirstCrossingInterpolates() {
        let curve = [(0.0, 5.0), (100.0, 4.0), (200.0, 3.0)].map {
            CurveSummaryPoint(tokens: $0.0, mean: $0.1, lower: nil, upper: nil, n: 1)
        }
        XCTAssertEqual(GridAnalysis.firstCrossing(curve, 3.5), 150)
        XCTAssertEqual(GridAnalysis.firstCrossing(curve, 6), 0)
        XCTAssertNil(GridAnalysis.firstCrossing(curve, 2.9))
    }

    func testTQuantileMatchesScipy() {
        // scipy.stats.t.ppf(0.975, df) for df = 1, 2, 7
        XCTAssertEqual(GridAnalysis.tQuantile(level: 0.95, degreesOfFreedom: 1)!, 12.706204736174698, accuracy: 1e-9)
        XCTAssertEqual(GridAnalysis.tQuantile(level: 0.95, degreesOfFreedom: 2)!, 4.302652729749464, accuracy: 1e-9)
        XCTAssertEqual(GridAnalysis.tQuantile(level: 0.95, degreesOfFreedom: 7)!, 2.3646242515927844, accuracy: 1e-9)
        XCTAssertNil(GridAnalysis.tQuantile(level: 0.95, degreesOfFreedom: 0))
    }

    func testWriteIsAtomicAndComplete() throws {
        let out = try fixture()
        let dir = try temporaryFolder(self).appendingPathComponent("reports/fixture-grid")
        let files = try Report.write(out, to: dir)
        XCTAssertEqual(
            files.map(\.lastPathComponent),
            [
                "loss_curves.svg", "scaling.svg", "gap.svg", "tokens_to_target.svg", "probes_vs_size.svg",
                "probe_drift.svg", "README.md",
            ])
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(
            listing,
            [
                "README.md", "gap.svg", "loss_curves.svg", "probe_drift.svg", "probes_vs_size.svg",
                "scaling.svg", "tokens_to_target.svg",
            ])
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8), out.markdown)
    }

    /// A figure the replaced README.md linked and this report does not draw (here one named as a slice's would be)
    /// is removed; every other file stays, an SVG the old report did not link included.
    func testRewriteRemovesStaleFiguresOnly() throws {
        let out = try fixture()
        let dir = try temporaryFolder(self).appendingPathComponent("reports/fixture-grid")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["weight_decay-0.1-gap.svg", "mine.svg", "notes.txt"] { try Data("x".utf8).write(to: dir.appendingPathComponent(name)) }
        try Data("![Gap](weight_decay-0.1-gap.svg)\n![Curves](loss_curves.svg)\n[mine](mine.svg)\n".utf8)
            .write(to: dir.appendingPathComponent("README.md"))
        try Report.write(out, to: dir)
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(
            listing,
            [
                "README.md", "gap.svg", "loss_curves.svg", "mine.svg", "notes.txt", "probe_drift.svg", "probes_vs_size.svg",
                "scaling.svg", "tokens_to_target.svg",
            ])
    }

    func testMissingGridFolderIsAClearError() {
        XCTAssertThrowsError(try Report.build(gridFolder: URL(fileURLWithPath: "/nonexistent/grid"))) { e in
            XCTAssertTrue("\(e)".contains("no such grid folder"))
        }
    }

    func testDuplicateSeedsInACellAreFlagged() throws {
        let spec = SyntheticGrid.Spec(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("g")
        try SyntheticGrid.write(spec, to: grid)
        // A copy of a run under another name: same strategy, size and seed (e.g. a learning-rate axis).
        try FileManager.default.copyItem(
            at: grid.appendingPathComponent("hashed-d64-L2-v2048-s1"),
            to: grid.appendingPathComponent("hashed-d64-L2-v2048-s1-lr3e-4"))
        let out = try Report.build(gridFolder: grid)
        XCTAssertEqual(out.analysis.warnings.count, 1)
        XCTAssertTrue(out.markdown.contains("**Warning:** runs `hashed-d64-L2-v2048-s1`, `hashed-d64-L2-v2048-s1-lr3e-4` share"))
    }

    /// `mup` trains under μP while `learned` is SP: the overview says that their difference is the network's
    /// parametrization, not the table alone; a grid whose arms share one parametrization gets no such note.
    func testArmsUnderAnotherParametrizationAreNamed() throws {
        let root = try temporaryFolder(self)
        let mixed = root.appendingPathComponent("mixed"), plain = root.appendingPathComponent("plain")
        try SyntheticGrid.write(.init(strategies: ["learned", "hashed", "mup"], shapes: [.init(64, 2, 2)], seeds: [1, 2]), to: mixed)
        try SyntheticGrid.write(.init(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2]), to: plain)
        let out = try Report.build(gridFolder: mixed)
        XCTAssertNil(out.slices)
        XCTAssertTrue(
            out.markdown.contains(
                "**Parametrization per strategy:** `learned` SP, `hashed` SP, `mup` μP. A difference between `mup` and `learned` is "
                    + "therefore that of the whole network's parametrization"), out.markdown)
        XCTAssertFalse(try Report.build(gridFolder: plain).markdown.contains("Parametrization per strategy"))
    }

    /// A run folder copied in from another grid (its grid-run.json names that grid) is set aside with the reason,
    /// never analysed as one of this grid's runs; a grid folder copied under another name still reads as its grid.
    func testRunFromAnotherGridIsSetAside() throws {
        let spec = SyntheticGrid.Spec(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("g")
        let ids = try SyntheticGrid.write(spec, to: grid)
        func stamp(_ id: String, grid name: String, in folder: URL) throws {
            let record = GridRunFile<JSONValue>(grid: name, runID: id, configHash: "h", blasKernel: nil, axes: [:], config: .object([:]))
            try RunJSON.write(record, to: folder.appendingPathComponent(id).appendingPathComponent(RunFiles.gridRun))
        }
        for id in ids { try stamp(id, grid: "g", in: grid) }
        let stray = "hashed-d64-L2-v2048-s3"
        try FileManager.default.copyItem(at: grid.appendingPathComponent("hashed-d64-L2-v2048-s1"), to: grid.appendingPathComponent(stray))
        try stamp(stray, grid: "f04", in: grid)

        for folder in [grid, root.appendingPathComponent("g-copy")] {
            if folder != grid { try FileManager.default.copyItem(at: grid, to: folder) }
            let out = try Report.build(gridFolder: folder)
            XCTAssertEqual(out.analysis.cell("hashed", out.analysis.sizes[0])?.runs.count, 2, folder.lastPathComponent)
            XCTAssertEqual(out.analysis.cell("learned", out.analysis.sizes[0])?.runs.count, 2, folder.lastPathComponent)
            XCTAssertTrue(
                out.markdown.contains("trained by grid 'f04' (its grid-run.json), not by 'g': move it to that grid's runs folder"),
                out.markdown)
        }
        // Once grid.json lists it (a grid renamed from f04: `grid run` accepts the folder by its id and config hash),
        // it is this grid's run.
        try writeGridIndex(listing: ids + [stray], in: grid)
        let renamed = try Report.build(gridFolder: grid)
        XCTAssertEqual(renamed.analysis.cell("hashed", renamed.analysis.sizes[0])?.runs.count, 3)
        XCTAssertFalse(renamed.markdown.contains("trained by grid 'f04'"), renamed.markdown)
    }

    /// Runs from two OpenBLAS kernels / CPUs in one grid (a heterogeneous cluster): the report names both and warns
    /// that such runs are comparable to rounding only; runs from one machine type get no such warning.
    func testMixedMachinesAreListedAndWarnedAbout() throws {
        let spec = SyntheticGrid.Spec(strategies: ["learned", "hashed"], shapes: [.init(64, 2, 2)], seeds: [1, 2])
        let grid = try temporaryFolder(self).appendingPathComponent("g")
        try SyntheticGrid.write(spec, to: grid)
        let single = try Report.build(gridFolder: grid)
        XCTAssertFalse(single.analysis.warnings.contains { $0.contains("kernel / CPU") }, "\(single.analysis.warnings)")
        XCTAssertTrue(single.markdown.contains("- Machines: `OpenBLAS Haswell on an unrecorded CPU`."))

        let url = grid.appendingPathComponent("hashed-d64-L2-v2048-s2").appendingPathComponent("config.json")
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var provenance = try XCTUnwrap(config["provenance"] as? [String: Any])
        provenance["blas_core"] = "Zen"
        provenance["cpu"] = "AMD EPYC (family 25, model 1: Zen 3, AVX2)"
        config["provenance"] = provenance
        try JSONSerialization.data(withJSONObject: config).write(to: url)

        let mixed = try Report.build(gridFolder: grid)
        let warning = try XCTUnwrap(mixed.analysis.warnings.first { $0.contains("kernel / CPU") })
        XCTAssertTrue(warning.contains("2 different OpenBLAS kernel / CPU combinations"), warning)
        XCTAssertTrue(warning.contains("OpenBLAS Haswell on an unrecorded CPU: 3 runs"), warning)
        XCTAssertTrue(warning.contains("OpenBLAS Zen on AMD EPYC (family 25, model 1: Zen 3, AVX2): 1 run"), warning)
        XCTAssertTrue(mixed.markdown.contains("**Warning:** the finished runs come from 2 different"))
    }
}
