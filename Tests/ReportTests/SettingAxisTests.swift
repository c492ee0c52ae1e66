import Foundation
import Report
import RunFormat
import TestSupport
import XCTest

/// Grids with another axis beside strategy, size, seed, learning rate and parametrization (here weight_decay): each
/// of its values is a slice of its own, never pooled with the others into one cell (`GridSlices.settingAxes`).
final class SettingAxisTests: XCTestCase {
    static let shapes: [SyntheticGrid.Shape] = [.init(64, 2, 2), .init(128, 2, 2)]
    static let arms: [SyntheticSweep.Arm] = [.init("learned", strategy: "learned"), .init("hashed", strategy: "hashed", gap: 0.05)]

    func build(_ spec: SyntheticSweep.Spec, function: String = #function) throws -> (Report.Output, URL) {
        let grid = try temporaryFolder(self, function).appendingPathComponent("weight-decay")
        try SyntheticSweep.write(spec, to: grid)
        return (try Report.build(gridFolder: grid), grid)
    }

    func testEachValueIsItsOwnSliceWithItsOwnCells() throws {
        var spec = SyntheticSweep.Spec(arms: Self.arms, shapes: Self.shapes, seeds: [1, 2, 3], learningRates: [1e-2])
        // Written out of order, with a label that sorts last as text but not as a number.
        spec.setting = .init("weight_decay", [.init("0.1", gap: 0.3), .init("0"), .init("1e-3", gap: 0.1)])
        let (out, grid) = try build(spec)
        let slices = try XCTUnwrap(out.slices)
        XCTAssertEqual(slices.settingAxes, ["weight_decay"])
        XCTAssertFalse(slices.variesLearningRate)
        XCTAssertEqual(slices.slices.map { $0.settings.map(\.label) }, [["0"], ["1e-3"], ["0.1"]])
        XCTAssertFalse(out.markdown.contains("share strategy, size and seed"), out.markdown)
        for (slice, value) in zip(slices.slices, ["0", "1e-3", "0.1"]) {
            XCTAssertEqual(slice.tuned.arms, ["learned", "hashed"])
            for arm in Self.arms {
                for shape in slices.slices[0].tuned.sizes {
                    // The cell holds exactly this value's three seeds: its mean is theirs, read from summary.json.
                    let cell = try XCTUnwrap(slice.tuned.cell(arm.label, shape))
                    let finals = try spec.seeds.map { seed in
                        let shapeSpec = try XCTUnwrap(Self.shapes.first { $0.dModel == shape.dModel })
                        let setting = try XCTUnwrap(spec.setting?.values.first { $0.label == value })
                        let id = SyntheticSweep.runID(arm, shapeSpec, lr: 1e-2, vocab: 2048, seed: seed, setting: setting)
                        return try RunJSON.read(RunSummary.self, from: grid.appendingPathComponent(id).appendingPathComponent(RunFiles.summary))
                            .finalValLoss
                    }
                    XCTAssertEqual(cell.runs.count, 3)
                    XCTAssertEqual(cell.final.mean, finals.reduce(0, +) / 3, accuracy: 1e-12)
                }
            }
            // The comparison is seed-paired within the value (3 pairs), one Holm family per slice.
            XCTAssertEqual(slice.tuned.comparisons.map(\.pairs), [3, 3])
        }
        XCTAssertTrue(out.markdown.contains("**Other axes:** `weight_decay` (0, 1e-3, 0.1)."), out.markdown)
        XCTAssertTrue(out.markdown.contains("## `weight_decay` = 1e-3, strategies against `learned`\n"), out.markdown)
        XCTAssertTrue(out.figures.map(\.name).contains("weight_decay-1e-3-loss_curves.svg"), "\(out.figures.map(\.name))")
        assertNoNonFinite(out.markdown)
    }

    /// A learning rate that differs only between the setting's values is fixed by the grid, not swept: nothing is
    /// selected, and every run stays in the analysis.
    func testRateFixedPerValueIsNotASweep() throws {
        var spec = SyntheticSweep.Spec(arms: Self.arms, shapes: Self.shapes, seeds: [1, 2], learningRates: [1e-2])
        spec.setting = .init("batch_size", [.init("16", learningRates: [1e-2]), .init("64", learningRates: [3e-2])])
        let (out, _) = try build(spec)
        let slices = try XCTUnwrap(out.slices)
        XCTAssertFalse(slices.variesLearningRate)
        XCTAssertTrue(slices.slices.allSatisfy { $0.selection == nil })
        XCTAssertEqual(slices.slices.map { $0.tuned.runs.count }, [8, 8])
        XCTAssertFalse(out.markdown.contains("## Learning rate"))
    }

    /// With the μP decomposition's four arms under each value, each value gets its own decomposition.
    func testDecompositionPerValue() throws {
        var spec = DecompositionTests.spec
        spec.seeds = [1, 2, 3]
        spec.setting = .init("lr_schedule", [.init("cosine"), .init("wsd", gap: -0.05)])
        let (out, _) = try build(spec)
        let slices = try XCTUnwrap(out.slices)
        XCTAssertEqual(slices.slices.map(\.parametrization), ["sp", "sp", "mup", "mup"])
        XCTAssertEqual(slices.slices.map { $0.settings.map(\.label) }, [["cosine"], ["wsd"], ["cosine"], ["wsd"]])
        XCTAssertEqual(slices.decompositions.map { $0.settings.map(\.label) }, [["cosine"], ["wsd"]])
        XCTAssertTrue(slices.decompositions.allSatisfy { $0.decomposition.effects.allSatisfy { $0.pairs == 3 } })
        XCTAssertTrue(out.markdown.contains("## μP decomposition, `lr_schedule` = wsd\n"), out.markdown)
        XCTAssertTrue(out.markdown.contains("## `mup` network, `lr_schedule` = cosine, strategies against `mup`\n"), out.markdown)
    }

    /// An axis with one value everywhere separates nothing, nor does a run without the axis recorded (trained outside
    /// the grid): the ordinary, unsliced report.
    func testOneValueIsNoSetting() throws {
        var spec = SyntheticSweep.Spec(arms: Self.arms, shapes: Self.shapes, seeds: [1, 2], learningRates: [1e-2])
        spec.setting = .init("weight_decay", [.init("0.1")])
        let (out, grid) = try build(spec)
        XCTAssertNil(out.slices)
        XCTAssertEqual(out.analysis.cell("learned", out.analysis.sizes[0])?.runs.count, 2)
        let stray = SyntheticSweep.runID(Self.arms[1], Self.shapes[0], lr: 1e-2, vocab: 2048, seed: 1, setting: spec.setting!.values[0])
        try FileManager.default.removeItem(at: grid.appendingPathComponent(stray).appendingPathComponent(RunFiles.gridRun))
        XCTAssertNil(try Report.build(gridFolder: grid).slices)
    }

    /// An axis whose values make different arms (here a strategy_options axis: the same strategy with two tables)
    /// is not a setting: it does not pool runs, and slicing by it would split the arms, and the μP decomposition's
    /// four quadrants, apart.
    func testAxisThatMakesTheArmsIsNoSetting() throws {
        var spec = DecompositionTests.spec
        spec.arms = spec.arms.map { arm in
            var arm = arm
            arm.label = arm.strategy  // the arms differ only in their options, as under a strategy_options axis
            arm.axes = ["strategy_options": arm.options["input_multiplier"] == 10 ? "scaled" : "plain"]
            return arm
        }
        let (out, _) = try build(spec)
        let slices = try XCTUnwrap(out.slices)
        XCTAssertEqual(slices.settingAxes, [])
        XCTAssertEqual(slices.slices.map(\.parametrization), ["sp", "mup"])
        XCTAssertEqual(slices.decompositions.count, 1)
    }

    /// A strategy_options axis crossed with every strategy (`strategy_options: [{init_std: 0.02}, {init_std: 0.1}]`)
    /// is a setting: each strategy stays one arm under each value, so `learned` is the baseline of both slices (named
    /// by options, the arms were `learned(init_std=0.02)`, `learned(init_std=0.1)`, … with no `learned` to compare
    /// against), and the gaps across settings say which gap the table's scale changes (here frozen-random's, by 0.1).
    func testOptionAxisOverEveryStrategyIsASetting() throws {
        let strategies: [(String, Double)] = [("learned", 0), ("frozen-random", 0.1), ("hashed", 0.05)]
        var arms: [SyntheticSweep.Arm] = []
        // Labelled as a grid labels mapping values.
        for (value, std) in [("{init_std: 0.02}", 0.02), ("{init_std: 0.1}", 0.1)] {
            for (strategy, gap) in strategies {
                let narrowed = strategy == "frozen-random" && std == 0.1 ? 0.1 : 0
                var arm = SyntheticSweep.Arm(strategy, strategy: strategy, options: ["init_std": std], gap: gap + narrowed)
                arm.axes = ["strategy_options": value]
                arms.append(arm)
            }
        }
        let (out, _) = try build(SyntheticSweep.Spec(arms: arms, shapes: Self.shapes, seeds: [1, 2, 3], learningRates: [1e-2]))
        let slices = try XCTUnwrap(out.slices)
        XCTAssertEqual(slices.settingAxes, ["strategy_options"])
        XCTAssertEqual(slices.slices.map { $0.settings.map(\.label) }, [["{init_std: 0.02}"], ["{init_std: 0.1}"]])
        for slice in slices.slices {
            XCTAssertEqual(slice.tuned.arms, ["learned", "frozen-random", "hashed"])
            XCTAssertEqual(slice.tuned.comparisons.map(\.pairs), [3, 3, 3, 3])
        }
        let effects = slices.settingEffects
        XCTAssertEqual(effects.map(\.arm), ["frozen-random", "frozen-random", "hashed", "hashed"])
        for e in effects {
            XCTAssertEqual(e.delta, e.arm == "frozen-random" ? 0.1 : 0, accuracy: 0.02, "\(e.arm) at d\(e.size.dModel)")
        }
        XCTAssertTrue(out.markdown.contains("## `strategy_options` = {init_std: 0.1}, strategies against `learned`\n"), out.markdown)
        // File names keep the label's letters, digits and dots, one "_" for each run of anything else.
        XCTAssertTrue(out.figures.map(\.name).contains("strategy_options-init_std_0.1-gap.svg"), "\(out.figures.map(\.name))")
    }

    /// The arms of a strategy_options axis that not every strategy runs at every value of (as `exclude` leaves it;
    /// every run labelled, as a grid writes them), each strategy's runs at `values` (label, init_std).
    func optionAxisGrid(_ values: [String: [(String, Double)]], function: String = #function) throws -> (Report.Output, URL) {
        var arms: [SyntheticSweep.Arm] = []
        for (strategy, gap) in [("learned", 0.0), ("frozen-random", 0.1)] {
            for (value, std) in values[strategy]! {
                var arm = SyntheticSweep.Arm(strategy, strategy: strategy, options: ["init_std": std], gap: gap)
                arm.axes = ["strategy_options": value]
                arms.append(arm)
            }
        }
        return try build(SyntheticSweep.Spec(arms: arms, shapes: Self.shapes, seeds: [1, 2], learningRates: [1e-2]), function: function)
    }

    /// A frozen table's init_std swept while `learned` runs at one value: not a setting (the 0.1 slice would have no
    /// baseline); the frozen arms are told apart by their options, and each is compared against `learned`.
    func testOptionAxisCutDownIsNoSetting() throws {
        let (out, _) = try optionAxisGrid([
            "learned": [("std0.02", 0.02)], "frozen-random": [("std0.02", 0.02), ("std0.1", 0.1)],
        ])
        XCTAssertTrue(out.slices == nil, "sliced by \(out.slices?.settingAxes ?? [])")
        XCTAssertEqual(out.analysis.arms.count, 3)
        XCTAssertEqual(out.analysis.arms.first, "learned")
        XCTAssertEqual(out.analysis.comparisons.count, 4)
    }

    /// The reverse, `learned` swept and the frozen table at one value: there is no `learned` arm, so the report names
    /// the arms its strategy runs as and how to compare against one, and that advice works.
    func testOptionsOnTheBaselineOnlyPointToItsArms() throws {
        let (out, grid) = try optionAxisGrid([
            "learned": [("std0.02", 0.02), ("std0.1", 0.1)], "frozen-random": [("std0.02", 0.02)],
        ])
        XCTAssertTrue(out.slices == nil, "sliced by \(out.slices?.settingAxes ?? [])")
        let baselines = out.analysis.arms.filter { $0.hasPrefix("learned(") }
        guard baselines.count == 2 else { return XCTFail("arms \(out.analysis.arms)") }
        XCTAssertTrue(
            out.markdown.contains(
                "its strategy runs here as `\(baselines[0])`, `\(baselines[1])`; compare against one of them "
                    + "with `ablate report … --baseline '\(baselines[0])'`"), out.markdown)
        let chosen = try Report.build(gridFolder: grid, baseline: baselines[0])
        XCTAssertEqual(chosen.analysis.comparisons.count, 4)
    }

    static var gapSpec: SyntheticSweep.Spec {
        var spec = SyntheticSweep.Spec(
            arms: Self.arms + [.init("frozen-random", strategy: "frozen-random", gap: 0.1)], shapes: Self.shapes, seeds: [1, 2, 3, 4],
            learningRates: [1e-2])
        spec.setting = .init("weight_decay", [.init("0.0"), .init("0.1", gap: 0.2, armGaps: ["hashed": -0.03])])
        return spec
    }

    /// Reference: SciPy 1.17.1 on this fixture's final losses (setting_effects_reference.py holds them and prints
    /// these): `scipy.stats.ttest_rel(gap at 0.1, gap at 0.0)` per strategy and size, gap = strategy − learned of the
    /// same seed, with `confidence_interval(0.95)`; Holm over the 4 p-values by hand. (strategy, d, Δgap, CI low,
    /// CI high, p, p Holm)
    static let scipy: [(String, Int, Double, Double, Double, Double, Double)] = [
        ("hashed", 64, -0.028325499999999892, -0.04864152988647323, -0.008009470113526557, 0.021279285296830402, 0.06383785589049121),
        ("hashed", 128, -0.034869250000000074, -0.047989894519065476, -0.02174860548093467, 0.003469676425461006, 0.013878705701844024),
        ("frozen-random", 64, 0.0014264999999997752, -0.0027491584975009586, 0.005602158497500509, 0.3564946243128109, 0.7129892486256219),
        ("frozen-random", 128, 0.00030774999999994, -0.005302283548018821, 0.005917783548018701, 0.8725268973055407, 0.8725268973055407),
    ]

    /// The setting makes `hashed`'s gap 0.03 smaller and leaves `frozen-random`'s: the difference-of-gaps tests
    /// must be SciPy's, and the findings must say which gap changed.
    func testGapAcrossSettingsMatchesSciPy() throws {
        let (out, grid) = try build(Self.gapSpec)
        // The fixture is the one the constants were computed on.
        let first = SyntheticSweep.runID(Self.arms[0], Self.shapes[0], lr: 1e-2, vocab: 2048, seed: 1, setting: Self.gapSpec.setting!.values[0])
        XCTAssertEqual(
            try RunJSON.read(RunSummary.self, from: grid.appendingPathComponent(first).appendingPathComponent(RunFiles.summary)).finalValLoss,
            3.277181)
        let effects = try XCTUnwrap(out.slices?.settingEffects)
        XCTAssertEqual(effects.count, Self.scipy.count)
        for (arm, width, delta, low, high, p, holm) in Self.scipy {
            let e = try XCTUnwrap(effects.first { $0.arm == arm && $0.size.dModel == width }, "\(arm) d\(width)")
            XCTAssertEqual([e.axis, e.value, e.reference, e.baseline], ["weight_decay", "0.1", "0.0", "learned"])
            assertMatchesSciPy(e.result, delta: delta, low: low, high: high, p: p, holm: holm, pairs: 4, "\(arm) d\(width)")
        }
        XCTAssertTrue(
            out.markdown.contains(
                "- Gap to the baseline at `weight_decay` = 0.1 vs 0.0: the strategy does better relative to the baseline in 1 of 4 "
                    + "tested strategy × size cells (family-wise α = 0.05, Holm)"),
            out.markdown)
        XCTAssertTrue(out.markdown.contains("| `weight_decay` = 0.1 vs 0.0 | `hashed` | `learned` | d128-L2 | -0.0349 | "), out.markdown)
        assertNoNonFinite(out.markdown)
    }

    /// Arms are named over the whole grid: a strategy whose option sets differ between the values (here `hashed` with
    /// n = 1 only at 0.0 and n = 2 only at 0.1) is two arms, never paired across the setting as if one.
    func testArmsAreNamedOverTheWholeGrid() throws {
        var one = SyntheticSweep.Arm("hashed", strategy: "hashed", options: ["n": 1])
        one.axes = ["strategy_options": "n1"]
        var two = SyntheticSweep.Arm("hashed", strategy: "hashed", options: ["n": 2])
        two.axes = ["strategy_options": "n2"]
        var spec = SyntheticSweep.Spec(
            arms: [Self.arms[0], one, two, .init("frozen-random", strategy: "frozen-random", gap: 0.1)], shapes: Self.shapes, seeds: [1, 2, 3],
            learningRates: [1e-2])
        spec.setting = .init("weight_decay", [.init("0.0"), .init("0.1")])
        let grid = try temporaryFolder(self).appendingPathComponent("weight-decay")
        try SyntheticSweep.write(spec, to: grid)
        for (arm, value) in [(two, spec.setting!.values[0]), (one, spec.setting!.values[1])] {
            for shape in Self.shapes {
                for seed in spec.seeds {
                    let id = SyntheticSweep.runID(arm, shape, lr: 1e-2, vocab: 2048, seed: seed, setting: value)
                    try FileManager.default.removeItem(at: grid.appendingPathComponent(id))
                }
            }
        }
        let slices = try XCTUnwrap(try Report.build(gridFolder: grid).slices)
        XCTAssertEqual(slices.settingAxes, ["weight_decay"])
        XCTAssertEqual(slices.slices.map { $0.tuned.arms.filter { $0.hasPrefix("hashed") }.count }, [1, 1])
        XCTAssertNotEqual(slices.slices[0].tuned.arms, slices.slices[1].tuned.arms)
        XCTAssertEqual(slices.settingEffects.map(\.arm), ["frozen-random", "frozen-random"])
    }
}
