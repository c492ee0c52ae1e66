import Foundation
import Report
import RunFormat
import Stats
import TestSupport
import XCTest

/// The report on a grid that varies the vocabulary: bits per byte everywhere, vocabulary as its own axis (never a
/// model size), and the gap `frozen-random − learned` per vocabulary: the Δ table's comparisons by vocabulary.
final class VocabularyReportTests: XCTestCase {
    /// learned and frozen-random, one model shape, V = 256, 1024, 4096, seeds 1–3, with bits per byte.
    static var spec: SyntheticGrid.Spec {
        var s = SyntheticGrid.Spec(strategies: ["learned", "frozen-random"], shapes: [.init(64, 2, 2)], seeds: [1, 2, 3])
        s.vocabSizes = [256, 1024, 4096]
        s.bitsPerByte = true
        return s
    }

    func build(_ spec: SyntheticGrid.Spec, name: String = #function) throws -> (URL, Report.Output) {
        let grid = try temporaryFolder(self, name).appendingPathComponent("vocab")
        try SyntheticGrid.write(spec, to: grid)
        return (grid, try Report.build(gridFolder: grid))
    }

    /// Every statistic of the vocabulary section against SciPy on the same summary.json files
    /// (`python3 Tests/ReportTests/vocab_reference.py GRID` prints these numbers).
    func testVocabularyStatisticsMatchSciPy() throws {
        let (_, out) = try build(Self.spec)
        let v = try XCTUnwrap(out.vocabulary)
        XCTAssertEqual(v.vocabularies, [256, 1024, 4096])
        XCTAssertEqual(v.shapes.count, 1, "one model shape: vocabulary is not a size")
        let shape = v.shapes[0]
        // scipy.stats.t.interval(0.95, 2, loc=mean, scale=sem)
        let means: [(String, Int, Double, Double, Double)] = [
            ("learned", 256, 5.10404, 5.06276912046296, 5.14531087953704),
            ("frozen-random", 256, 5.71353333333333, 5.65015206553386, 5.77691460113281),
            ("learned", 1024, 2.22654766666667, 2.18811995559963, 2.26497537773371),
            ("frozen-random", 1024, 2.46636166666667, 2.44924319101296, 2.48348014232037),
            ("learned", 4096, 1.31977366666667, 1.30141707119329, 1.33813026214004),
            ("frozen-random", 4096, 1.443483, 1.42466929878424, 1.46229670121576),
        ]
        for (arm, size, mean, lo, hi) in means {
            let c = try XCTUnwrap(v.cell(arm, shape, size), "\(arm) V=\(size)")
            XCTAssertEqual(c.final.mean, mean, accuracy: 1e-12)
            XCTAssertEqual(try XCTUnwrap(c.final.interval).lower, lo, accuracy: 1e-9)
            XCTAssertEqual(try XCTUnwrap(c.final.interval).upper, hi, accuracy: 1e-9)
        }
        // scipy.stats.ttest_rel(frozen_random, learned) and its confidence_interval(0.95); Holm step-down. Strategy −
        // baseline, the sign of the Δ table.
        let gaps: [(Int, Double, Double, Double, Double, Double)] = [
            (256, 0.609493333333333, 0.563415911238803, 0.655570755427864, 0.000308577872521036, 0.000617155745042071),
            (1024, 0.239814, 0.215135403573345, 0.264492596426656, 0.000571540231019115, 0.000617155745042071),
            (4096, 0.123709333333333, 0.12299060427542, 0.124428062391247, 1.82327297921864e-06, 5.46981893765592e-06),
        ]
        XCTAssertEqual(v.gaps.map(\.size.vocabSize), gaps.map(\.0))
        for (g, e) in zip(v.gaps, gaps) {
            XCTAssertEqual(g.arm, "frozen-random")
            XCTAssertEqual(g.pairs, 3)
            XCTAssertEqual(g.delta, e.1, accuracy: 1e-12)
            XCTAssertEqual(try XCTUnwrap(g.interval).lower, e.2, accuracy: 1e-9)
            XCTAssertEqual(try XCTUnwrap(g.interval).upper, e.3, accuracy: 1e-9)
            XCTAssertEqual(try XCTUnwrap(g.pValue), e.4, accuracy: 1e-9 * max(e.4, 1e-6))
            XCTAssertEqual(try XCTUnwrap(g.holmPValue), e.5, accuracy: 1e-9 * max(e.5, 1e-6))
        }
        // One comparison, one sign, one Holm family: the gaps are the Δ table's comparisons, not a second set of tests.
        XCTAssertEqual(v.gaps.map(\.delta), out.analysis.comparisons.map(\.delta))
        XCTAssertEqual(v.gaps.map(\.holmPValue), out.analysis.comparisons.map(\.holmPValue))
        // Training cost beside it: the fixture's train_bytes = 200 steps × 2048 tokens × (1 + 0.6·log₂(V/256)).
        XCTAssertEqual(try XCTUnwrap(v.cell("learned", shape, 1024)?.trainBytes), (409_600 * 2.2).rounded())
        XCTAssertNotNil(v.cell("learned", shape, 1024)?.trainFlops)
    }

    /// Bits per byte everywhere, the reason said once, vocabulary never a size: N without the head, no scaling fit,
    /// no trend over N, the vocabulary figures instead of the figures over N.
    func testVocabularyGridIsInBitsPerByteAndVocabularyIsNotASize() throws {
        let (_, out) = try build(Self.spec)
        let a = out.analysis
        XCTAssertEqual(a.metric.kind, .bitsPerByte)
        XCTAssertEqual(Set(a.sizes.map(\.nonEmbedding)).count, 1, "N must not count the head's V·d")
        XCTAssertEqual(a.sizes.first?.nonEmbedding, 2 * (12 * 64 * 64 + 2 * 64) + 64)
        XCTAssertTrue(a.fits.values.allSatisfy { $0.fit == nil })
        XCTAssertTrue(a.trends.isEmpty)
        // The main Δ table is in bits per byte too: its Δ is the arm's bpb minus the baseline's.
        let c = try XCTUnwrap(a.comparisons.first { $0.size.vocabSize == 1024 })
        XCTAssertEqual(c.delta, 0.239814, accuracy: 1e-12)
        XCTAssertEqual(out.figures.map(\.name), ["loss_curves.svg", "vocab_bpb.svg", "vocab_gap.svg"])
        let md = out.markdown
        XCTAssertTrue(md.contains("**Bits per byte:** This grid varies the vocabulary sizes (256, 1024, 4096)"))
        XCTAssertTrue(md.contains("## Vocabulary\n"))
        XCTAssertTrue(md.contains("| `frozen-random` | 1024 | +0.2398 |"), md)
        XCTAssertTrue(md.contains("Δ = strategy − `learned` in final validation loss (bits/byte; positive = worse)"))
        XCTAssertTrue(md.contains("- Scaling: not fitted: the grid varies the vocabulary"))
        XCTAssertFalse(md.contains("nats"), "no nats-per-token number may be compared across vocabularies")
        let bpbFigure = try XCTUnwrap(out.figures.first { $0.name == "vocab_bpb.svg" }?.svg)
        for label in [">256<", ">1024<", ">4096<"] { XCTAssertTrue(bpbFigure.contains(label), "log₂ ticks at powers of two: \(label)") }
    }

    /// Across vocabularies every vocabulary has the same N: the probe figure over N is left out (the probe tables list
    /// each vocabulary), and the Parameters table shows the N the report uses, without the output head.
    func testProbeFigureOverNAndParametersAcrossVocabularies() throws {
        var spec = Self.spec
        spec.probes = true
        let (_, out) = try build(spec)
        XCTAssertTrue(out.probes.hasProbes)
        XCTAssertFalse(out.figures.map(\.name).contains("probes_vs_size.svg"))
        XCTAssertTrue(out.figures.map(\.name).contains("probe_drift.svg"))
        // SyntheticGrid's N at d = 64, L = 2 without the head: 2·(12·64² + 2·64) + 64 = 98,624 at every vocabulary.
        for v in Self.spec.vocabSizes {
            let row = out.markdown.split(separator: "\n").first { $0.hasPrefix("| `learned` | d64-L2-v\(v) | ") && $0.contains("MiB") }
            XCTAssertEqual(row?.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }[5], "98,624", String(row ?? ""))
        }
        XCTAssertTrue(out.markdown.contains("N leaves out the output head's V·d"))
    }

    /// A finished run without bits per byte (trained before they were recorded) cannot enter a comparison across
    /// vocabularies: it is listed with the reason.
    func testRunWithoutBitsPerByteIsSetAside() throws {
        let (grid, _) = try build(Self.spec)
        let old = grid.appendingPathComponent("learned-d64-L2-v256-s2")
        var summary = try RunJSON.read(RunSummary.self, from: old.appendingPathComponent(RunFiles.summary))
        summary.finalValBpb = nil
        try RunJSON.write(summary, to: old.appendingPathComponent(RunFiles.summary))
        let metrics = try String(contentsOf: old.appendingPathComponent(RunFiles.metrics), encoding: .utf8)
            .replacingOccurrences(of: #","(final_)?val_bpb":[0-9.e-]+"#, with: "", options: .regularExpression)
        try Data(metrics.utf8).write(to: old.appendingPathComponent(RunFiles.metrics))
        let out = try Report.build(gridFolder: grid)
        let problem = try XCTUnwrap(out.analysis.problems.first { $0.id == "learned-d64-L2-v256-s2" })
        XCTAssertEqual(problem.kind, .unreadable)
        XCTAssertTrue(problem.detail.contains("has no val_bpb"))
        XCTAssertEqual(out.vocabulary?.gaps.first?.pairs, 2)
    }

    /// One vocabulary: nats per token stay the primary metric, bits per byte are shown beside them.
    func testOneVocabularyShowsBitsPerByteBesideNats() throws {
        var spec = Self.spec
        spec.vocabSizes = []
        let (_, out) = try build(spec)
        XCTAssertEqual(out.analysis.metric.kind, .natsPerToken)
        XCTAssertNil(out.vocabulary)
        let cell = try XCTUnwrap(out.analysis.cell("learned", out.analysis.sizes[0]))
        let bpb = cell.runs.map { $0.finalValBpb! }.reduce(0, +) / 3
        XCTAssertTrue(out.markdown.contains(String(format: " · %.4f bits/byte", bpb)), out.markdown)
        XCTAssertFalse(out.markdown.contains("## Vocabulary"))
    }
}
