import Foundation
import Report
import RunFormat
import TestSupport
import XCTest

/// The 2×2 μP decomposition (network sp/mup × table plain/μP-scaled) on a synthetic grid with the four arms.
final class DecompositionTests: XCTestCase {
    static var spec: SyntheticSweep.Spec {
        SyntheticSweep.Spec(
            arms: [
                .init("learned", strategy: "learned", options: ["init_std": 0.02, "input_multiplier": 1]),
                .init("learned-mup-table", strategy: "learned", options: ["init_std": 0.08, "input_multiplier": 10], gap: -0.02),
                .init(
                    "learned-plain-table", strategy: "learned", parametrization: "mup", options: ["init_std": 0.02, "input_multiplier": 1],
                    gap: -0.04),
                .init("mup", strategy: "mup", parametrization: "mup", options: ["init_std": 0.08, "input_multiplier": 10], gap: -0.07),
                .init("hashed", strategy: "hashed", gap: 0.05),
            ],
            shapes: [.init(64, 2, 2), .init(128, 2, 2)], seeds: [1, 2, 3, 4], learningRates: [1e-2])
    }

    /// Reference: SciPy 1.17.1 on the final losses of this fixture's summary.json files (printed alongside):
    /// `scipy.stats.ttest_rel(x, y)` and its `confidence_interval(0.95)` per effect, x/y = network (μP, plain) vs
    /// (SP, plain); table (SP, μP table) vs (SP, plain); both (μP, μP table) vs (SP, plain); interaction
    /// (μP, μP table) − (μP, plain) vs (SP, μP table) − (SP, plain); Holm step-down over the 8 p-values by hand.
    /// (d, effect, Δ, CI low, CI high, p, p Holm)
    static let scipy: [(Int, MuPDecomposition.Effect, Double, Double, Double, Double, Double)] = [
        (64, .network, -0.03616325000000009, -0.04086355106311118, -0.031462948936889, 0.00014933460239492305, 0.0010453422167644613),
        (64, .table, -0.015776250000000047, -0.02295908023609411, -0.008593419763905985, 0.006011102292619429, 0.018033306877858285),
        (64, .both, -0.06638549999999999, -0.07254917944362035, -0.06022182055637962, 5.459574236640633e-05, 0.00043676593893125066),
        (64, .interaction, -0.014445999999999848, -0.023486634384861108, -0.005405365615138586, 0.014694644881558576, 0.029389289763117152),
        (128, .network, -0.06895549999999995, -0.07969887927804345, -0.05821212072195645, 0.00025654816203063115, 0.0015392889721837868),
        (128, .table, -0.021218499999999918, -0.029226250427129792, -0.013210749572870042, 0.003499566268480571, 0.013998265073922284),
        (128, .both, -0.09622299999999984, -0.11410871796002833, -0.07833728203997134, 0.0004340721477763134, 0.002170360738881567),
        (128, .interaction, -0.006048999999999971, -0.010088666728989268, -0.002009333271010675, 0.017550073656211612, 0.029389289763117152),
    ]

    func testEffectsMatchSciPy() throws {
        let grid = try temporaryFolder(self).appendingPathComponent("decomposition")
        try SyntheticSweep.write(Self.spec, to: grid)
        // The fixture is the one the constants were computed on.
        let first = try RunJSON.read(
            RunSummary.self, from: grid.appendingPathComponent("learned-d64-L2-v2048-lr0.01-s1").appendingPathComponent(RunFiles.summary))
        XCTAssertEqual(first.finalValLoss, 3.278481)
        let out = try Report.build(gridFolder: grid)
        let d = try XCTUnwrap(out.slices?.decompositions.first?.decomposition)
        XCTAssertEqual(d.arms[.init(network: "sp", scaledTable: false)], "learned")
        XCTAssertEqual(d.arms[.init(network: "sp", scaledTable: true)], "learned-mup-table")
        XCTAssertEqual(d.arms[.init(network: "mup", scaledTable: false)], "learned-plain-table")
        XCTAssertEqual(d.arms[.init(network: "mup", scaledTable: true)], "mup")
        XCTAssertEqual(d.effects.count, Self.scipy.count)
        for (width, effect, delta, low, high, p, holm) in Self.scipy {
            let t = try XCTUnwrap(d.effects.first { $0.effect == effect && $0.size.dModel == width }, "\(effect) d\(width)")
            assertMatchesSciPy(t.result, delta: delta, low: low, high: high, p: p, holm: holm, pairs: 4, "\(effect) d\(width)")
        }
        // Strategies are compared within a parametrization: μP's baseline is the mup strategy, never SP's learned.
        XCTAssertEqual(out.slices?.slices.map(\.tuned.baseline), ["learned", "mup"])
        XCTAssertEqual(out.slices?.slices[1].tuned.comparisons.map(\.arm), ["learned-plain-table", "learned-plain-table"])
        XCTAssertTrue(out.markdown.contains("- μP decomposition, **μP table (SP network)**: lowers the loss at 2 of 2 sizes"), out.markdown)
        XCTAssertTrue(out.markdown.contains("| d64-L2 | plain | 3.2647 ± "))
        assertNoNonFinite(out.markdown)
    }

    /// Without the four arms there is no decomposition (here: no SP arm with a μP-scaled table).
    func testNoDecompositionWithoutTheFourArms() throws {
        var spec = Self.spec
        spec.arms.remove(at: 1)
        let grid = try temporaryFolder(self).appendingPathComponent("three-arms")
        try SyntheticSweep.write(spec, to: grid)
        let out = try Report.build(gridFolder: grid)
        XCTAssertNotNil(out.slices)
        XCTAssertEqual(out.slices?.decompositions.count, 0)
        XCTAssertFalse(out.markdown.contains("## μP decomposition"))
    }
}
