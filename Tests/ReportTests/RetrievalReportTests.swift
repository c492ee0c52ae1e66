import Foundation
import Report
import Stats
import TestSupport
import XCTest

/// The retrieval part of the probe section (MAP table, figure, neighbours) against the probes.json files read
/// independently, and the stabilisation verdict: "not testable at this budget" while the loss still falls, a verdict
/// once it has plateaued.
final class RetrievalReportTests: XCTestCase {
    func spec(steps: Int = 200) -> SyntheticGrid.Spec {
        var spec = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random"], shapes: [.init(64, 2, 2), .init(256, 4, 4)], seeds: [1, 2, 3])
        spec.probes = true
        spec.retrieval = true
        spec.steps = steps
        return spec
    }

    func testRetrievalTableFigureAndNeighboursMatchTheFiles() throws {
        let root = try temporaryFolder(self)
        let grid = root.appendingPathComponent("g-retrieval")
        try SyntheticGrid.write(spec(), to: grid)
        let out = try Report.build(gridFolder: grid)
        let r = out.probes.retrieval
        XCTAssertTrue(r.hasRetrieval)
        XCTAssertTrue(out.figures.map(\.name).contains("probe_retrieval.svg"))
        let md = out.markdown
        XCTAssertTrue(md.contains("### Retrieval by the input table alone"), md)
        XCTAssertTrue(md.contains("1261 windows of 64 tokens of the validation text of 42 works (at most 32 per work, seeded)"))
        XCTAssertTrue(md.contains("![Retrieval MAP vs embedding dimension](probe_retrieval.svg)"))
        // The chance level the files record (one tokenizer: one value).
        XCTAssertEqual(r.chance, 0.0312...0.0312)
        XCTAssertTrue(md.contains(" Chance level: MAP 0.031, what a random ranking of the passages scores on average"), md)
        // Each cell's trained MAP: mean and t half-width over the three seeds' files, read with JSONSerialization.
        let big = out.analysis.sizes.last!
        for arm in ["learned", "frozen-random"] {
            var values = [Double](), initials = [Double]()
            for seed in 1...3 {
                let id = SyntheticGrid.runID(arm, .init(256, 4, 4), vocab: 2048, seed: UInt64(seed))
                let data = try Data(contentsOf: grid.appendingPathComponent(id).appendingPathComponent("probes.json"))
                let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
                let retrieval = try XCTUnwrap(obj["retrieval"] as? [String: Any])
                values.append(try XCTUnwrap(retrieval["trained"] as? Double))
                initials.append(try XCTUnwrap(retrieval["init"] as? Double))
            }
            let cell = try XCTUnwrap(r.cell(arm, big))
            let m = try MeanEstimate(values)
            XCTAssertEqual(cell.trained!.mean, m.mean, accuracy: 1e-12)
            XCTAssertEqual(cell.trained!.interval, m.interval)
            XCTAssertEqual(cell.initial!.mean, initials.reduce(0, +) / 3, accuracy: 1e-12)
            XCTAssertEqual(cell.croppedWidth, 64)
            XCTAssertNil(cell.padded)  // the largest width is not padded
            let section = try XCTUnwrap(md.components(separatedBy: "### Retrieval by the input table alone").last)
            let row = try XCTUnwrap(section.split(separator: "\n").first { $0.hasPrefix("| `\(arm)` | d256-L4 (D = 256) | 3 | ") })
            XCTAssertTrue(row.contains(String(format: "%.3f ± %.3f", m.mean, m.interval.upper - m.mean)), String(row))
            XCTAssertTrue(row.contains("(k = 64)"), String(row))
            // MAP over training: the mean of the seeds at each snapshot.
            XCTAssertEqual(cell.overTraining.count, SyntheticGrid.probeSnapshotSteps(200).count)
            XCTAssertEqual(cell.overTraining.last!.mean, m.mean, accuracy: 1e-12)
        }
        // Neighbours: the lowest seed of each strategy at the largest size; skipped words named once.
        XCTAssertEqual(r.largest, big)
        XCTAssertEqual(r.neighbours.map(\.arm), ["learned", "frozen-random"])
        XCTAssertEqual(r.neighbours.map(\.run), ["learned-d256-L4-v2048-s1", "frozen-random-d256-L4-v2048-s1"])
        XCTAssertTrue(md.contains("| `·king` | `le·king0` "), md)
        XCTAssertTrue(md.contains("Not a single token in the tokenizer, so left out: `·heaven`."))
    }

    /// probes.json written before retrieval existed: no retrieval section, no figure, and the golden fixture's other
    /// figures unchanged.
    func testOlderProbesHaveNoRetrievalSection() throws {
        let out = try Report.build(gridFolder: FixtureGrid.bundled.appendingPathComponent(FixtureGrid.name))
        XCTAssertFalse(out.probes.retrieval.hasRetrieval)
        XCTAssertFalse(out.markdown.contains("Retrieval by the input table alone"))
        XCTAssertFalse(out.figures.map(\.name).contains("probe_retrieval.svg"))
    }

    /// (L(0.5·T) − L(T)) / L(0.5·T), L(0.5·T) interpolated; hand-computed values.
    func testLossFall() throws {
        func curve(_ p: [(Double, Double)]) -> [CurvePoint] { p.map { CurvePoint(tokens: $0.0, loss: $0.1) } }
        XCTAssertEqual(ProbeAnalysis.lossFallWindow, 0.5)
        XCTAssertEqual(ProbeAnalysis.lossFallLimit, 0.03)
        // A point at exactly 50: (5.5 − 5.335) / 5.5 = 0.03 — on the limit, so still testable.
        let onLimit = try XCTUnwrap(ProbeAnalysis.lossFall(curve([(0, 10), (40, 6), (50, 5.5), (100, 5.335)])))
        XCTAssertEqual(onLimit, 0.03, accuracy: 1e-12)
        XCTAssertTrue(ProbeAnalysis.isTestable(0.03))
        XCTAssertFalse(ProbeAnalysis.isTestable(0.0301))
        XCTAssertFalse(ProbeAnalysis.isTestable(nil))
        // Interpolated between 45 (6.0) and 55 (5.0): L(50) = 5.5; (5.5 − 4.95) / 5.5 = 0.1.
        XCTAssertEqual(try XCTUnwrap(ProbeAnalysis.lossFall(curve([(0, 10), (45, 6), (55, 5), (100, 4.95)]))), 0.1, accuracy: 1e-12)
        // A run that flattens only in its last tenth (as a cosine schedule makes every run do) is still falling over
        // its second half: (6 − 5.0) / 6 ≈ 0.167, though (5.02 − 5.0) / 5.02 < 1 % over the last 10 %.
        let annealed = curve([(0, 10), (50, 6), (90, 5.02), (100, 5.0)])
        XCTAssertEqual(try XCTUnwrap(ProbeAnalysis.lossFall(annealed)), 1.0 / 6, accuracy: 1e-12)
        XCTAssertLessThan(try XCTUnwrap(ProbeAnalysis.lossFall(annealed, window: 0.1)), 0.01)
        // A rising loss is a negative fall (testable); unsorted input is sorted first.
        XCTAssertEqual(try XCTUnwrap(ProbeAnalysis.lossFall(curve([(100, 5.5), (0, 10), (50, 5)]))), -0.1, accuracy: 1e-12)
        XCTAssertNil(ProbeAnalysis.lossFall(curve([(100, 5)])))
        XCTAssertNil(ProbeAnalysis.lossFall(curve([(55, 5), (100, 4.9)])))  // nothing at or before 50 %
        // A WSD run read on the points before its decay: with end = 80, T = 80 and L(40) = 6 (interpolated between 30
        // and 50): (6 − 5.82) / 6 = 0.03, whatever the decay did after 80. A decay starting between two evaluations
        // (end = 90) reads the same points: the one at 100 is already decayed and never enters, not even through
        // interpolation.
        let wsd = curve([(0, 10), (30, 6.05), (50, 5.95), (80, 5.82), (100, 5.5), (120, 4.0)])
        XCTAssertEqual(try XCTUnwrap(ProbeAnalysis.lossFall(wsd, end: 80)), 0.03, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(ProbeAnalysis.lossFall(wsd, end: 90)), 0.03, accuracy: 1e-12)
        let l60 = 5.95 + (5.82 - 5.95) * 10 / 30  // read as cosine: from 60 (between 50 and 80) to 120
        XCTAssertEqual(try XCTUnwrap(ProbeAnalysis.lossFall(wsd)), (l60 - 4.0) / l60, accuracy: 1e-12)
        XCTAssertNil(ProbeAnalysis.lossFall(wsd, end: 20))  // one point at or before the end
    }

    /// A run whose config.json records a WSD schedule is judged on its stable phase (the second half of the steps
    /// before the decay), and the report says so; runs without the record (cosine) keep the second half of training.
    func testStabilisationOfWSDRunsReadsTheStablePhase() throws {
        var s = spec(steps: 200)
        s.wsdDecayStart = 160
        let out = try syntheticReport(self, s, name: "g-wsd")
        let size = out.analysis.sizes[0]
        let falls = try XCTUnwrap(out.probes.cell("learned", size, .input)).lossFall
        let runs = out.analysis.runs.filter { $0.id.hasPrefix("learned-d64") }.sorted { $0.seed < $1.seed }
        XCTAssertEqual(runs.map { $0.schedule?.decayStartTokens }, runs.map { _ in 160 * s.batchSize * s.contextLength })
        let stable = runs.map { ProbeAnalysis.lossFall($0.curve, end: Double(160 * s.batchSize * s.contextLength)) }
        XCTAssertEqual(falls, stable)
        XCTAssertNotEqual(falls, runs.map { ProbeAnalysis.lossFall($0.curve) })
        XCTAssertTrue(out.markdown.contains("over the last 50 % of the steps before the decay (WSD: the peak rate held"), out.markdown)
        XCTAssertTrue(out.markdown.contains("for a WSD run T = its last evaluation before the decay"))
        XCTAssertFalse(out.markdown.contains("over the last 50 % of training"))
    }

    /// 200 synthetic steps: the loss still falls by more than 3 % over the last 50 % in every run, so the report
    /// says "not testable at this budget" and never "did not stabilise".
    func testStabilisationNotTestableWhileLossStillFalls() throws {
        let out = try syntheticReport(self, spec(steps: 200), name: "g-short")
        let md = out.markdown
        let line = try XCTUnwrap(md.split(separator: "\n").first { $0.contains("- `learned` input embedding:") })
        XCTAssertTrue(line.contains("not testable at this budget (loss still falling by "), String(line))
        XCTAssertTrue(line.contains("over the last 50 % of training) in all 6 runs"), String(line))
        XCTAssertFalse(line.contains("did not stabilise"), String(line))
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| `learned` | input embedding |") }
        XCTAssertEqual(rows.count, 2)
        for row in rows { XCTAssertTrue(row.contains("| not testable (loss still falling "), String(row)) }
        // No mean stabilisation point from runs stopped while still learning (the verdicts leave them out too).
        for row in rows { XCTAssertTrue(row.contains("| — (none testable) |"), String(row)) }
        XCTAssertTrue(out.analysis.sizes.allSatisfy { out.probes.cell("learned", $0, .input)?.stabilised == nil })
        let size = out.analysis.sizes[0]
        let falls = try XCTUnwrap(out.probes.cell("learned", size, .input)).lossFall
        XCTAssertEqual(falls.count, 3)
        for f in falls { XCTAssertGreaterThan(try XCTUnwrap(f), ProbeAnalysis.lossFallLimit) }
        // The per-run fall is the curve's own: recomputed from the run records.
        let runs = out.analysis.runs.filter { $0.id.hasPrefix("learned-d64") }.sorted { $0.seed < $1.seed }
        XCTAssertEqual(falls, runs.map { ProbeAnalysis.lossFall($0.curve) })
    }

    /// 4,000 synthetic steps: the loss has plateaued, so the stabilisation verdict is given for every run.
    func testStabilisationVerdictOnceLossPlateaued() throws {
        let out = try syntheticReport(self, spec(steps: 4000), name: "g-long")
        let md = out.markdown
        for line in md.split(separator: "\n") where line.hasPrefix("  - `") || line.hasPrefix("| `") {
            XCTAssertFalse(line.contains("not testable"), String(line))
        }
        let line = try XCTUnwrap(md.split(separator: "\n").first { $0.contains("- `learned` input embedding:") })
        XCTAssertTrue(line.contains("of training (6 runs over 2 sizes"), String(line))
        XCTAssertTrue(line.contains("stabilised before the end in 3 of 6, by 10 % in 0 of 6"), String(line))
        for size in out.analysis.sizes {
            let c = try XCTUnwrap(out.probes.cell("learned", size, .input))
            XCTAssertEqual(c.testableStabilisedAt, c.stabilisedAt)
            XCTAssertEqual(c.stabilised?.n, c.stabilisedAt.count)
        }
    }
}
