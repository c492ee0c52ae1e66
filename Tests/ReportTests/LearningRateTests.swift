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

    /// Without an LR or parametrization axis the report takes the unsliced path (the golden test pins its text).
    func testGridWithoutTheAxesIsNotSliced() throws {
        let out = try syntheticReport(self, SyntheticGrid.Spec(strategies: ["learned", "mup"], shapes: [.init(64, 2, 2)], seeds: [1, 2]))
        XCTAssertNil(out.slices)
    }
}
