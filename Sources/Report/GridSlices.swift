import Foundation
import RunFormat
import Stats

/// The slice layer between the run folders and the per-size analysis: a grid that sweeps `learning_rate` (some
/// (strategy, parametrization, size) cell trained at several rates), or trains table strategies under more than one
/// parametrization, is cut into slices — one per parametrization, each cell at its own best learning rate — and every
/// slice gets the ordinary `GridAnalysis`. Grids with neither axis (including grids that give each strategy its own
/// fixed learning rate: there is nothing to select) take the ordinary, unsliced report.
public struct GridSlices: Sendable {
    public struct Slice: Sendable {
        /// The network parametrization of this slice; nil when the grid is not split by parametrization.
        public let parametrization: String?
        /// nil when the grid does not sweep the learning rate.
        public let selection: LearningRateSelection?
        /// Every cell at its own best learning rate (all runs when the learning rate is not swept).
        public let tuned: GridAnalysis
        /// Every arm at the baseline's best learning rate of the same size (for reference); nil without an LR sweep.
        public let sharedLR: GridAnalysis?
    }

    public let gridName: String
    public let runs: [RunRecord]
    public let level: Double
    public let splitsParametrization: Bool
    public let variesLearningRate: Bool
    public let slices: [Slice]
    /// The 2×2 μP decomposition, when the grid has its four arms.
    public let decomposition: MuPDecomposition?
    /// Runs that did not finish or that the primary metric sets aside, and runs grid.json lists without a folder.
    public let problems: [RunProblem]

    /// Does this grid need slices (an LR sweep, or table strategies under several parametrizations)?
    public static func needsSlicing(_ runs: [RunRecord]) -> Bool {
        variesLearningRate(runs) || splitsParametrization(runs)
    }

    /// True when some (strategy, parametrization, size) cell holds runs at more than one learning rate: only then is
    /// there a learning rate to select. A rate fixed per strategy (or per size) by the grid varies only across cells.
    static func variesLearningRate(_ runs: [RunRecord]) -> Bool {
        struct Cell: Hashable { let arm: String, parametrization: String, size: ModelShape }
        let readable = runs.filter { $0.state != .unreadable }
        let armName = GridAnalysis.armNamer(readable)
        var rates = [Cell: Set<Double>]()
        for r in readable {
            if let lr = r.learningRate { rates[Cell(arm: armName(r), parametrization: r.parametrization, size: r.shape), default: []].insert(lr) }
        }
        return rates.values.contains { $0.count > 1 }
    }

    /// True when strategies other than `mup` (which always means a μP network) run under more than one
    /// parametrization: then embedding strategies are compared within a parametrization, never across.
    static func splitsParametrization(_ runs: [RunRecord]) -> Bool {
        Set(runs.filter { $0.state != .unreadable && $0.strategy != MuPDecomposition.mupStrategy }.map(\.parametrization)).count > 1
    }

    public init(
        gridName: String, runs: [RunRecord], baseline: String = "learned", level: Double = 0.95,
        expectedRunIDs: [String]? = nil
    ) {
        self.gridName = gridName
        self.runs = runs
        self.level = level
        splitsParametrization = GridSlices.splitsParametrization(runs)
        variesLearningRate = GridSlices.variesLearningRate(runs)
        let groups: [(String?, [RunRecord])]
        if splitsParametrization {
            let names = Set(runs.filter { $0.state != .unreadable }.map(\.parametrization))
            groups = names.sorted { ($0 == "sp" ? 0 : 1, $0) < ($1 == "sp" ? 0 : 1, $1) }.map { p in (p, runs.filter { $0.parametrization == p }) }
        } else {
            groups = [(nil, runs)]
        }
        let sweeps = variesLearningRate
        slices = groups.map { parametrization, rs in
            let armName = GridAnalysis.armNamer(rs.filter { $0.state != .unreadable })
            let base = GridSlices.baseline(baseline, in: rs, armName: armName)
            // Slices list no missing runs of their own (expectedRunIDs: []): the grid's problems are listed once.
            func analysis(_ runs: [RunRecord]) -> GridAnalysis {
                GridAnalysis(gridName: gridName, runs: runs, baseline: base, level: level, expectedRunIDs: [], armName: armName)
            }
            guard sweeps else {
                return Slice(parametrization: parametrization, selection: nil, tuned: analysis(rs), sharedLR: nil)
            }
            let selection = LearningRateSelection(runs: rs, armName: armName, level: level)
            return Slice(
                parametrization: parametrization, selection: selection,
                tuned: analysis(selection.tunedRuns(rs, armName: armName)),
                sharedLR: analysis(selection.sharedRuns(rs, baseline: base, armName: armName)))
        }
        decomposition = MuPDecomposition(slices.map(\.tuned), level: level)
        // Through the grid's primary metric, so a finished run it cannot compare (no bits per byte) is listed too.
        problems = GridAnalysis.problems(
            PrimaryMetric(runs).primary(runs), arms: [], sizes: [], seeds: [], armName: { $0.id }, expectedRunIDs: expectedRunIDs)
    }

    /// The baseline of one slice: `baseline` when the slice has it; under μP without a `learned` arm, the `mup`
    /// strategy's arm, which is `learned` with μP's table.
    static func baseline(_ baseline: String, in runs: [RunRecord], armName: (RunRecord) -> String) -> String {
        let readable = runs.filter { $0.state != .unreadable }
        if readable.contains(where: { armName($0) == baseline }) { return baseline }
        if baseline == "learned", let mup = readable.filter({ $0.strategy == MuPDecomposition.mupStrategy }).map(armName).sorted().first {
            return mup
        }
        return baseline
    }

    /// The slice's heading name, e.g. "`mup` network".
    func title(_ slice: Slice) -> String {
        slice.parametrization.map { "`\($0)` network" } ?? "all runs"
    }
}
