import Foundation
import Report
import RunFormat
import TestSupport
import XCTest

/// Grids that sweep the learning rate and cross arms with parametrizations (`SyntheticSweep`).
final class LearningRateTests: XCTestCase {
    static let shapes: [SyntheticGrid.Shape] = [.init(64, 2, 2), .init(128, 2, 2), .init(256, 2, 2)]
    static let rates = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]

    func build(_ spec: SyntheticSweep.Spec, function: String = #function) throws -> (Report.Output, URL) {
        let root = try temporaryFolder(self, function)
        let grid = root.appendingPathComponent("sweep")
        try SyntheticSweep.write(spec, to: grid)
        return (try Report.build(gridFolder: grid), grid)
    }

    func testSelectionLossIsTheMeanOfTheLastTenPercentOfFiniteTrainingLosses() {
        // 11 finite values: ⌈1.1⌉ = 2 last ones.
        XCTAssertEqual(
            LearningRateSelection.selectionLoss(trainLosses: [9, 8, 7, 6, 5, 4, 3, 2, 1, .nan, 0.5, 0.25]), 0.375)
        XCTAssertEqual(LearningRateSelection.selectionLoss(trainLosses: [3]), 3)
        XCTAssertNil(LearningRateSelection.selectionLoss(trainLosses: [.nan]))
        XCTAssertNil(LearningRateSelection.selectionLoss(trainLosses: []))
    }

    /// The training loss's optimum sits one grid step above the validation loss's: the chosen learning rate must be
    /// the training-loss argmin (recomputed here from metrics.jsonl), which differs from the validation argmin.
    func testChoiceUsesTrainingLossNeverValidationLoss() throws {
        var spec = SyntheticSweep.Spec(
            arms: [.init("learned", strategy: "learned"), .init("hashed", strategy: "hashed", gap: 0.05)],
            shapes: Self.shapes, seeds: [1, 2, 3], learningRates: Self.rates)
        spec.trainOptimumShift = 0.5
        let (out, grid) = try build(spec)
        let slices = try XCTUnwrap(out.slices)
        XCTAssertTrue(slices.variesLearningRate)
        XCTAssertFalse(slices.splitsParametrization)
        let selection = try XCTUnwrap(slices.slices[0].selection)
        var differs = 0
        for arm in spec.arms {
            for shape in spec.shapes {
                var train = [Double: Double](), val = [Double: Double]()
                for lr in spec.learningRates {
                    var ts = [Double](), vs = [Double]()
                    for seed in spec.seeds {
                        let run = grid.appendingPathComponent(SyntheticSweep.runID(arm, shape, lr: lr, vocab: 2048, seed: seed))
                        let records = try MetricsFile.records(at: run.appendingPathComponent(RunFiles.metrics))
                        let tail = records.compactMap(\.trainLoss).suffix(2)  // 20 logged steps: the last 10 % is 2
                        ts.append(tail.reduce(0, +) / 2)
                        vs.append(try RunJSON.read(RunSummary.self, from: run.appendingPathComponent(RunFiles.summary)).finalValLoss)
                    }
                    train[lr] = ts.reduce(0, +) / 3
                    val[lr] = vs.reduce(0, +) / 3
                }
                let trainBest = train.min { $0.value < $1.value }!.key, valBest = val.min { $0.value < $1.value }!.key
                let size = try XCTUnwrap(out.analysis.sizes.first { $0.dModel == shape.dModel })
                let choice = try XCTUnwrap(selection.choices[.init(arm: arm.label, size: size)])
                XCTAssertEqual(choice.best, trainBest, "\(arm.label) d\(shape.dModel)")
                if trainBest != valBest { differs += 1 }
                // The analysis of the cell holds exactly the runs at the chosen learning rate.
                let cell = try XCTUnwrap(out.analysis.cell(arm.label, size))
                XCTAssertEqual(Set(cell.runs.compactMap(\.learningRate)), [trainBest])
                XCTAssertEqual(cell.runs.count, 3)
            }
        }
        XCTAssertGreaterThan(differs, 0, "the fixture must separate the two choices")
        XCTAssertTrue(out.markdown.contains("never on the validation loss"), out.markdown)
        XCTAssertTrue(out.markdown.contains("winner's curse"))
        XCTAssertTrue(out.markdown.contains("### Shared learning rate (reference)"))
        XCTAssertTrue(out.figures.contains { $0.name == "learning_rate_transfer.svg" })
        assertNoNonFinite(out.markdown)
    }

    /// SP's optimum moves with width (1e-2 · 64/d), μP's stays at 1e-2; a sweep capped at 1e-2 puts μP's best at
    /// the edge.
    func testTransferSentencesAndEdgeWarningsComeFromTheData() throws {
        let spec = SyntheticSweep.Spec(
            arms: [
                .init("learned", strategy: "learned"),
                .init("learned", strategy: "learned", parametrization: "mup", options: ["init_std": 0.08, "input_multiplier": 10]),
            ],
            shapes: Self.shapes, seeds: [1, 2], learningRates: [1e-3, 3e-3, 1e-2])
        let (out, _) = try build(spec)
        let slices = try XCTUnwrap(out.slices)
        XCTAssertTrue(slices.splitsParametrization)
        XCTAssertEqual(slices.slices.map(\.parametrization), ["sp", "mup"])
        let md = out.markdown
        XCTAssertTrue(
            md.contains("μTransfer, `learned (mup)`: best learning rate 0.01 at d64-L2, 0.01 at d128-L2, 0.01 at d256-L2 — the same at all 3 widths"),
            md)
        XCTAssertTrue(md.contains("μTransfer, `learned (sp)`: best learning rate 0.01 at d64-L2, 0.003 at d128-L2, 0.003 at d256-L2 — it moves"), md)
        XCTAssertTrue(md.contains("the widest is lower than the narrowest"))
        XCTAssertTrue(
            md.contains("`learned (mup)` at d256-L2 is best at 0.01, the largest learning rate tried: the optimum may lie outside; extend the sweep"),
            md)
        XCTAssertFalse(md.contains("`learned (sp)` at d128-L2 is best at"), "an interior optimum is not at the edge")
    }

    /// A learning rate with a diverged run is never chosen, even when its other runs have the lowest training loss.
    func testDivergedLearningRateIsNotEligible() throws {
        var spec = SyntheticSweep.Spec(
            arms: [.init("learned", strategy: "learned")], shapes: [.init(64, 2, 2)], seeds: [1, 2], learningRates: [3e-3, 1e-2, 3e-2])
        let arm = spec.arms[0]
        spec.diverged = [SyntheticSweep.runID(arm, spec.shapes[0], lr: 1e-2, vocab: 2048, seed: 2)]
        let (out, _) = try build(spec)
        let choice = try XCTUnwrap(out.slices?.slices[0].selection?.choices.values.first)
        XCTAssertEqual(choice.candidates.map(\.failed), [0, 1, 0])
        XCTAssertNotEqual(choice.best, 1e-2)
        XCTAssertNotNil(choice.best)
        XCTAssertTrue(out.markdown.contains("1 diverged/failed"))
    }

    /// A learning rate with unfinished runs is not compared while another rate of the cell is complete, even when its
    /// finished runs have the lowest training loss; the table and findings say so.
    func testRateWithUnfinishedRunsWaitsWhileAnotherIsComplete() throws {
        var spec = SyntheticSweep.Spec(
            arms: [.init("learned", strategy: "learned")], shapes: [.init(64, 2, 2)], seeds: [1, 2], learningRates: [3e-3, 1e-2, 3e-2])
        let arm = spec.arms[0]
        // 1e-2 is the optimum at d64 (the loss model's lr*): without the rule it would be chosen on seed 1 alone.
        spec.running = [SyntheticSweep.runID(arm, spec.shapes[0], lr: 1e-2, vocab: 2048, seed: 2)]
        let (out, _) = try build(spec)
        let choice = try XCTUnwrap(out.slices?.slices[0].selection?.choices.values.first)
        XCTAssertEqual(choice.candidates.map(\.unfinished), [0, 1, 0])
        XCTAssertEqual(choice.candidates.map(\.waitsForRuns), [false, true, false])
        XCTAssertNotNil(choice.candidates[1].selectionLoss, "its finished seed has a training loss")
        XCTAssertNotEqual(choice.best, 1e-2)
        XCTAssertNotNil(choice.best)
        XCTAssertTrue(out.markdown.contains("1 unfinished, not compared"), out.markdown)
        XCTAssertTrue(out.markdown.contains("learning rate 0.01 still has unfinished runs and is not compared until they finish"))

        // When every rate still waits for runs, all are compared on what finished.
        spec.running = Set(spec.learningRates.map { SyntheticSweep.runID(arm, spec.shapes[0], lr: $0, vocab: 2048, seed: 2) })
        let (all, _) = try build(spec, function: #function + "-all")
        let every = try XCTUnwrap(all.slices?.slices[0].selection?.choices.values.first)
        XCTAssertEqual(every.candidates.map(\.waitsForRuns), [false, false, false])
        XCTAssertEqual(every.best, 1e-2)
    }

    /// Equal selection losses: the smaller learning rate wins, whichever order the folders are read in.
    func testTieGoesToTheSmallerLearningRate() throws {
        var spec = SyntheticSweep.Spec(
            arms: [.init("learned", strategy: "learned")], shapes: [.init(64, 2, 2)], seeds: [1, 2], learningRates: [3e-3, 1e-2, 3e-2])
        let arm = spec.arms[0]
        for lr in [1e-2, 3e-2] {
            for seed in spec.seeds { spec.flatTrainLoss[SyntheticSweep.runID(arm, spec.shapes[0], lr: lr, vocab: 2048, seed: seed)] = 1.5 }
        }
        for seed in spec.seeds { spec.flatTrainLoss[SyntheticSweep.runID(arm, spec.shapes[0], lr: 3e-3, vocab: 2048, seed: seed)] = 1.75 }
        let (out, _) = try build(spec)
        let choice = try XCTUnwrap(out.slices?.slices[0].selection?.choices.values.first)
        XCTAssertEqual(choice.candidates.map(\.selectionLoss), [1.75, 1.5, 1.5])
        XCTAssertEqual(choice.best, 1e-2)
    }

    /// A learning rate fixed per strategy (one rate per cell) is not a sweep: the ordinary report, with every section,
    /// states each arm's rate.
    func testPerStrategyLearningRateTakesTheOrdinaryReport() throws {
        var learned = SyntheticSweep.Arm("learned", strategy: "learned"), hashed = SyntheticSweep.Arm("hashed", strategy: "hashed", gap: 0.05)
        learned.learningRates = [1e-2]
        hashed.learningRates = [3e-3]
        var spec = SyntheticSweep.Spec(arms: [learned, hashed], shapes: Self.shapes, seeds: [1, 2], learningRates: [])
        spec.probes = true
        let (out, _) = try build(spec)
        XCTAssertNil(out.slices)
        let md = out.markdown
        XCTAssertTrue(
            md.contains(
                "**Learning rate per strategy** (fixed by the grid, config.json `learning_rate`; not selected by this report): `learned` 0.01, `hashed` 0.003."
            ), md)
        XCTAssertTrue(
            md.contains(
                "- Learning rate: as config.json records it, fixed per strategy by the grid rather than selected by this report: `learned` 0.01, `hashed` 0.003."
            ))
        XCTAssertFalse(md.contains("## Learning rate\n"))
        for heading in ["## Figures", "## Tables", "## Embedding probes"] { XCTAssertTrue(md.contains(heading + "\n"), heading) }
        XCTAssertEqual(
            out.figures.map(\.name),
            ["loss_curves.svg", "scaling.svg", "gap.svg", "tokens_to_target.svg", "probes_vs_size.svg", "probe_drift.svg", "probe_retrieval.svg"])
        XCTAssertFalse(md.contains("share strategy, size and seed"), "one rate per cell: nothing is pooled")
    }

    /// Each slice of a sliced grid has the sections and figures of an ordinary report, its figures and links prefixed
    /// by the slice's parametrization; the methods describe each slice, not only the first.
    func testSlicesKeepEverySectionAndFigure() throws {
        var spec = SyntheticSweep.Spec(
            arms: [
                .init("learned", strategy: "learned"), .init("hashed", strategy: "hashed", gap: 0.05),
                .init("learned", strategy: "learned", parametrization: "mup", options: ["init_std": 0.08, "input_multiplier": 10]),
            ],
            shapes: Self.shapes, seeds: [1, 2], learningRates: [3e-3, 1e-2])
        spec.probes = true
        let (out, _) = try build(spec)
        let slices = try XCTUnwrap(out.slices)
        XCTAssertEqual(slices.slices.map(\.parametrization), ["sp", "mup"])
        let names = Set(out.figures.map(\.name))
        for prefix in ["sp-", "mup-"] {
            for figure in ["loss_curves.svg", "scaling.svg", "probes_vs_size.svg", "probe_drift.svg", "probe_retrieval.svg"] {
                XCTAssertTrue(names.contains(prefix + figure), prefix + figure)
            }
        }
        let md = out.markdown
        XCTAssertTrue(md.contains("](sp-probes_vs_size.svg)"), md)
        XCTAssertTrue(md.contains("](mup-probe_retrieval.svg)"))
        XCTAssertFalse(md.contains("](probes_vs_size.svg)"), "every image link names a written file")
        for link in md.components(separatedBy: "](").dropFirst() {
            let target = String(link.prefix { $0 != ")" })
            if target.hasSuffix(".svg") { XCTAssertTrue(names.contains(target) || target == "learning_rate_transfer.svg", target) }
        }
        XCTAssertTrue(md.contains("- Embedding probes: probes.json"))
        XCTAssertTrue(md.contains("- `sp` network, strategies against `learned`, each at its own best learning rate:\n  - Intervals"), md)
        XCTAssertTrue(md.contains("- `mup` network, strategies against `learned`, each at its own best learning rate:\n"))
        XCTAssertFalse(md.contains("inferred as the full"))
        XCTAssertFalse(md.contains("In this grid:"))
        XCTAssertTrue(md.contains("In this slice: 3 paired"), md)
    }

    /// Without an LR or parametrization axis the report takes the unsliced path (the golden test pins its text).
    func testGridWithoutTheAxesIsNotSliced() throws {
        let out = try syntheticReport(self, SyntheticGrid.Spec(strategies: ["learned", "mup"], shapes: [.init(64, 2, 2)], seeds: [1, 2]))
        XCTAssertNil(out.slices)
    }
}
