import Foundation
import RunFormat
import Stats

/// The slice layer between the run folders and the per-size analysis: a grid that sweeps `learning_rate` (some
/// (strategy, parametrization, size) cell trained at several rates), trains table strategies under more than one
/// parametrization, or has another axis (weight_decay, lr_schedule, batch_size, …: a `setting`) is cut into slices —
/// one per parametrization and combination of settings, each cell at its own best learning rate — and every slice
/// gets the ordinary `GridAnalysis`, so runs that differ in a setting are never pooled into one cell. Grids with none
/// of these (including grids that give each strategy its own fixed learning rate: there is nothing to select) take
/// the ordinary, unsliced report.
public struct GridSlices: Sendable {
    public struct Slice: Sendable {
        /// The network parametrization of this slice; nil when the grid is not split by parametrization.
        public let parametrization: String?
        /// This slice's value of each setting axis (`settingAxes`), in axis order; empty when the grid has none.
        public let settings: [Setting]
        /// nil when the grid does not sweep the learning rate.
        public let selection: LearningRateSelection?
        /// Every cell at its own best learning rate (all runs when the learning rate is not swept).
        public let tuned: GridAnalysis
        /// Every arm at the baseline's best learning rate of the same size (for reference); nil without an LR sweep.
        public let sharedLR: GridAnalysis?
    }

    /// One value of a setting axis: the axis name and the grid's label of the value (grid-run.json `axes`).
    public struct Setting: Hashable, Sendable {
        public let axis: String
        public let label: String
    }

    /// The scope of μP decompositions: one per combination of settings that holds the four arms.
    public struct Decomposition: Sendable {
        public let settings: [Setting]
        public let decomposition: MuPDecomposition
    }

    public let gridName: String
    public let runs: [RunRecord]
    public let level: Double
    public let splitsParametrization: Bool
    public let variesLearningRate: Bool
    public let slices: [Slice]
    /// The grid axes that would otherwise pool runs into one cell (`settingAxes(_:)`), by name.
    public let settingAxes: [String]
    /// The 2×2 μP decomposition of each combination of settings that has its four arms (at most one without settings).
    public let decompositions: [Decomposition]
    /// How each setting changes the strategies' gaps to the baseline (empty without setting axes).
    public let settingEffects: [SettingEffect]
    /// Why there are no setting effects although the grid has setting axes (nil otherwise).
    public let settingEffectsNote: String?
    /// Runs that did not finish or that the primary metric sets aside, and runs grid.json lists without a folder.
    public let problems: [RunProblem]

    /// Does this grid need slices (an LR sweep, table strategies under several parametrizations, or a setting axis)?
    public static func needsSlicing(_ runs: [RunRecord]) -> Bool {
        let settings = settingAxes(runs)
        return variesLearningRate(runs, settings: settings) || splitsParametrization(runs) || !settings.all.isEmpty
    }

    /// A run's labels on `axes` ("" where it has none recorded).
    static func settingLabels(_ r: RunRecord, _ axes: [String]) -> [String] { axes.map { r.axes[$0] ?? "" } }

    /// True when some (strategy, parametrization, settings, size) cell holds runs at more than one learning rate:
    /// only then is there a learning rate to select. A rate fixed per strategy (or per size or setting) by the grid
    /// varies only across cells.
    static func variesLearningRate(_ runs: [RunRecord], settings: (all: [String], options: [String])) -> Bool {
        struct Cell: Hashable { let arm: String, parametrization: String, settings: [String], size: ModelShape }
        let readable = runs.filter { $0.state != .unreadable }
        let armName = GridAnalysis.armNamer(readable, optionAxes: settings.options)
        var rates = [Cell: Set<Double>]()
        for r in readable {
            guard let lr = r.learningRate else { continue }
            let cell = Cell(arm: armName(r), parametrization: r.parametrization, settings: settingLabels(r, settings.all), size: r.shape)
            rates[cell, default: []].insert(lr)
        }
        return rates.values.contains { $0.count > 1 }
    }

    /// The grid axes that would otherwise pool runs: those on which two readable runs of the same arm,
    /// parametrization, size and seed have different labels (grid-run.json `axes`), by name — except `learning_rate`,
    /// the sweep each cell selects from (`variesLearningRate`). Axes that set the arm (strategy, strategy options for
    /// some strategies only), the parametrization or the size, also as part of a bundle of keys, differ only between
    /// such groups, and an axis with one value separates nothing; neither is a setting. A run with no label recorded
    /// (trained outside the grid) does not make an axis a setting. Also settings: the `optionAxes(_:plain:)`, whose values
    /// set every strategy's options (also returned on their own: they name the arms, `GridAnalysis.armNamer`).
    static func settingAxes(_ runs: [RunRecord]) -> (all: [String], options: [String]) {
        let readable = runs.filter { $0.state != .unreadable }
        let plain = axesVarying(readable, armName: GridAnalysis.armNamer(readable))
        let options = optionAxes(readable, plain: plain)
        return ((plain + options).sorted(), options)
    }

    /// Setting axes whose values change the strategies' options, e.g. `strategy_options: [{init_std: 0.02},
    /// {init_std: 0.1}]` crossed with every strategy: a strategy is then one arm under each value (`learned` stays the
    /// baseline), where naming arms by their options would make `learned(init_std=0.02)` and `learned(init_std=0.1)`
    /// with no `learned` to compare against. Such an axis (not among the `plain` settings) is a setting when it varies
    /// within an arm named with its values as settings, every arm has runs at every one of its values (an axis given
    /// to some strategies only, or cut down by `exclude`/`only` so that, say, `learned` runs at one value while the
    /// frozen table sweeps several, makes arms of them), and it leaves the table's μP scale alone (an axis that
    /// changes `input_multiplier` is the μP decomposition's table factor, whose values are arms).
    private static func optionAxes(_ readable: [RunRecord], plain: [String]) -> [String] {
        guard let first = readable.first else { return [] }
        let labelledEverywhere = Set(first.axes.keys).filter { axis in readable.allSatisfy { !($0.axes[axis] ?? "").isEmpty } }
        return labelledEverywhere.subtracting(plain + [learningRateAxis, "strategy"]).sorted().filter { axis in
            let armName = GridAnalysis.armNamer(readable, optionAxes: [axis])
            return axesVarying(readable, armName: armName).contains(axis) && crossesEveryArm(readable, axis: axis, armName: armName)
                && !changesTableScale(readable, armName: armName)
        }
    }

    /// Group key of `axesVarying` and `changesTableScale`: runs that differ only in settings.
    private struct ArmGroup: Hashable { let arm: String, parametrization: String, size: ModelShape, seed: UInt64 }
    private static func group(_ r: RunRecord, _ armName: (RunRecord) -> String) -> ArmGroup {
        ArmGroup(arm: armName(r), parametrization: r.parametrization, size: r.shape, seed: r.seed)
    }

    /// The axes (but `learning_rate`) on which two of `runs` in one `ArmGroup` have different non-empty labels.
    private static func axesVarying(_ runs: [RunRecord], armName: (RunRecord) -> String) -> [String] {
        var labels = [ArmGroup: [String: Set<String>]]()
        for r in runs {
            for (axis, label) in r.axes where !label.isEmpty && axis != learningRateAxis {
                labels[group(r, armName), default: [:]][axis, default: []].insert(label)
            }
        }
        return Set(labels.values.flatMap { $0.filter { $0.value.count > 1 }.keys }).sorted()
    }

    /// Do two runs of one `ArmGroup` (named with `axis` as an option axis, so they differ only in axis labels) differ
    /// in whether their table is μP-scaled (`MuPDecomposition.isScaled`)?
    private static func changesTableScale(_ runs: [RunRecord], armName: (RunRecord) -> String) -> Bool {
        var scaled = [ArmGroup: Set<Bool>]()
        for r in runs { scaled[group(r, armName), default: []].insert(MuPDecomposition.isScaled(r)) }
        return scaled.values.contains { $0.count > 1 }
    }

    /// Within each parametrization, does every arm have runs at every value of `axis` that the parametrization has?
    private static func crossesEveryArm(_ runs: [RunRecord], axis: String, armName: (RunRecord) -> String) -> Bool {
        var values = [String: Set<String>](), armValues = [String: [String: Set<String>]]()
        for r in runs {
            let label = r.axes[axis] ?? ""
            values[r.parametrization, default: []].insert(label)
            armValues[r.parametrization, default: [:]][armName(r), default: []].insert(label)
        }
        return armValues.allSatisfy { parametrization, arms in arms.values.allSatisfy { $0 == values[parametrization] } }
    }

    /// The grid axis of a learning-rate sweep.
    static let learningRateAxis = "learning_rate"

    /// Labels in a natural order: by value when every recorded label is a finite number (1e-4 before 0.01; equal
    /// values such as 0 and 0.0 by their text), else as text; "" (not recorded) last.
    static func sortedLabels(_ labels: Set<String>) -> [String] {
        let recorded = labels.filter { !$0.isEmpty }
        let values = recorded.compactMap { Double($0) }.filter(\.isFinite)
        let sorted =
            values.count == recorded.count
            ? recorded.sorted { (Double($0)!, $0) < (Double($1)!, $1) }
            : recorded.sorted()
        return sorted + (labels.contains("") ? [""] : [])
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
        let settings = GridSlices.settingAxes(runs)
        let settingAxes = settings.all
        self.settingAxes = settingAxes
        variesLearningRate = GridSlices.variesLearningRate(runs, settings: settings)
        var groups: [(String?, [Setting], [RunRecord])]
        if splitsParametrization {
            let names = Set(runs.filter { $0.state != .unreadable }.map(\.parametrization))
            groups = names.sorted { ($0 == "sp" ? 0 : 1, $0) < ($1 == "sp" ? 0 : 1, $1) }.map { p in (p, [], runs.filter { $0.parametrization == p })
            }
        } else {
            groups = [(nil, [], runs)]
        }
        // Each setting axis splits every group by its values (an unreadable run has no settings: it is listed among
        // the problems only).
        for axis in settingAxes {
            groups = groups.flatMap { parametrization, settings, rs in
                let readable = rs.filter { $0.state != .unreadable }
                return GridSlices.sortedLabels(Set(readable.map { $0.axes[axis] ?? "" })).map { label in
                    (parametrization, settings + [Setting(axis: axis, label: label)], readable.filter { ($0.axes[axis] ?? "") == label })
                }
            }
        }
        let sweeps = variesLearningRate
        // One namer per parametrization over all its settings, so an arm has the same name at every value of a
        // setting (the gaps across settings pair arms by name); options that an option axis sets do not rename it.
        let readableRuns = runs.filter { $0.state != .unreadable }
        func namer(_ parametrization: String?) -> (RunRecord) -> String {
            GridAnalysis.armNamer(
                parametrization.map { p in readableRuns.filter { $0.parametrization == p } } ?? readableRuns, optionAxes: settings.options)
        }
        slices = groups.map { parametrization, settings, rs in
            let armName = namer(parametrization)
            let base = GridSlices.baseline(baseline, in: rs, armName: armName)
            // Slices list no missing runs of their own (expectedRunIDs: []): the grid's problems are listed once.
            func analysis(_ runs: [RunRecord]) -> GridAnalysis {
                GridAnalysis(gridName: gridName, runs: runs, baseline: base, level: level, expectedRunIDs: [], armName: armName)
            }
            guard sweeps else {
                return Slice(parametrization: parametrization, settings: settings, selection: nil, tuned: analysis(rs), sharedLR: nil)
            }
            let selection = LearningRateSelection(runs: rs, armName: armName, level: level)
            return Slice(
                parametrization: parametrization, settings: settings, selection: selection,
                tuned: analysis(selection.tunedRuns(rs, armName: armName)),
                sharedLR: analysis(selection.sharedRuns(rs, baseline: base, armName: armName)))
        }
        // The decomposition contrasts the parametrization slices of one combination of settings.
        let all = slices
        var combinations: [[Setting]] = []
        for slice in all where !combinations.contains(slice.settings) { combinations.append(slice.settings) }
        decompositions = combinations.compactMap { settings in
            MuPDecomposition(all.filter { $0.settings == settings }.map(\.tuned), level: level).map {
                Decomposition(settings: settings, decomposition: $0)
            }
        }
        (settingEffects, settingEffectsNote) = SettingEffect.all(all, settingAxes: settingAxes, metric: PrimaryMetric(runs), level: level)
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

    /// "`weight_decay` = 0.1, `lr_schedule` = wsd" (empty without settings).
    static func settingsText(_ settings: [Setting]) -> String {
        settings.map { "`\($0.axis)` = \(labelText($0.label))" }.joined(separator: ", ")
    }

    /// A setting's label as printed: "" is a run without the axis (trained outside the grid, or before the axis was
    /// added).
    static func labelText(_ label: String) -> String { label.isEmpty ? "(not recorded)" : label }

    /// What sets the slice apart, e.g. "`mup` network, `weight_decay` = 0.1"; nil for the one slice of a grid split
    /// neither by parametrization nor by a setting.
    static func scope(_ slice: Slice) -> String? { scope(parametrization: slice.parametrization, settings: slice.settings) }

    static func scope(parametrization: String?, settings: [Setting]) -> String? {
        let parts = (parametrization.map { ["`\($0)` network"] } ?? []) + (settings.isEmpty ? [] : [settingsText(settings)])
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
