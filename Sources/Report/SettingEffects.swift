import Foundation
import Stats

/// How a setting changes each strategy's gap to the baseline (`GridSlices.settingAxes`): for every value of a setting
/// axis against the axis's first value (the reference), with the parametrization and the other settings held equal,
/// per strategy and size, the seed-paired difference of gaps
///     Δgap = (strategy − baseline at the value) − (strategy − baseline at the reference),
/// a one-sample t over the per-seed differences of differences (the seeds all four cells share), Holm-adjusted over
/// the whole family. Negative: at the value the strategy does better relative to the baseline.
public struct SettingEffect: Sendable, HasPairedResult {
    public let axis: String
    public let value: String
    public let reference: String
    /// The slice's other coordinates (parametrization, other settings), e.g. "`mup` network"; nil when there are none.
    public let scope: String?
    public let arm: String
    public let baseline: String
    public let size: ModelShape
    public let sizeLabel: String
    /// The test; its Δ is Δgap = (strategy − baseline at the value) − (strategy − baseline at the reference), over the
    /// seeds all four cells share.
    public var result: PairedResult

    /// Every effect of `slices`' setting axes, Holm-adjusted as one family; empty without setting axes, or with the
    /// reason when gaps cannot be compared across the settings. `metric` is the grid's over all its runs: when the
    /// settings span vocabularies or corpora, a slice's gap in nats per token is not comparable with another's.
    static func all(
        _ slices: [GridSlices.Slice], settingAxes: [String], metric: PrimaryMetric, level: Double
    ) -> (
        effects: [SettingEffect], note: String?
    ) {
        guard !settingAxes.isEmpty else { return ([], nil) }
        if slices.contains(where: { $0.tuned.metric.kind != metric.kind }) {
            return (
                [],
                "not testable here: the settings change the corpus or the vocabulary, so a gap in nats per token at one "
                    + "value is not comparable with a gap at another (each value's own comparisons above are)"
            )
        }
        var effects = [SettingEffect]()
        for (k, axis) in settingAxes.enumerated() {
            guard let reference = GridSlices.sortedLabels(Set(slices.map { $0.settings[k].label })).first else { continue }
            // A value that is not recorded ("") is left out: there is no setting to compare.
            for slice in slices where slice.settings[k].label != reference && !slice.settings[k].label.isEmpty {
                // The reference slice: the same parametrization and other settings, the reference value on this axis.
                var wanted = slice.settings
                wanted[k] = GridSlices.Setting(axis: axis, label: reference)
                guard let ref = slices.first(where: { $0.parametrization == slice.parametrization && $0.settings == wanted }) else { continue }
                let a = slice.tuned, r = ref.tuned
                guard a.baseline == r.baseline else { continue }
                var others = slice.settings
                others.remove(at: k)
                let scope = GridSlices.scope(parametrization: slice.parametrization, settings: others)
                for arm in a.arms where arm != a.baseline && r.arms.contains(arm) {
                    for size in a.sizes where r.sizes.contains(size) {
                        guard let armAt = a.cell(arm, size), let baseAt = a.cell(a.baseline, size),
                            let armRef = r.cell(arm, size), let baseRef = r.cell(r.baseline, size)
                        else { continue }
                        let (seeds, v) = SeedPairedTest.matched([armAt, baseAt, armRef, baseRef].map(\.finalsBySeed))
                        guard !seeds.isEmpty else { continue }
                        let t = SeedPairedTest(zip(v[0], v[1]).map { $0 - $1 }, minus: zip(v[2], v[3]).map { $0 - $1 }, level: level)
                        effects.append(
                            SettingEffect(
                                axis: axis, value: slice.settings[k].label, reference: reference,
                                scope: scope, arm: arm, baseline: a.baseline,
                                size: size, sizeLabel: a.label(size),
                                result: PairedResult(t, pairs: seeds.count, fewPairs: "fewer than 2 seeds shared by the four cells: no test")))
                    }
                }
            }
        }
        SeedPairedTest.applyHolm(&effects, pValue: \.pValue, adjusted: \.holmPValue)
        return (effects, nil)
    }

    /// "`weight_decay` = 0.1 vs 0.0" and its scope.
    var settingText: String {
        "`\(axis)` = \(GridSlices.labelText(value)) vs \(GridSlices.labelText(reference))" + (scope.map { " (\($0))" } ?? "")
    }

    // MARK: markdown

    /// One line per (axis, value) comparison: in how many tested strategy × size cells the strategy's loss relative
    /// to the baseline moved significantly, and which way.
    static func findings(_ effects: [SettingEffect], unit: String) -> String {
        var s = ""
        var seen: [String] = []
        for e in effects where !seen.contains(e.settingText) { seen.append(e.settingText) }
        for setting in seen {
            let ts = effects.filter { $0.settingText == setting }
            let tested = ts.filter { $0.pValue != nil }
            let lower = tested.filter { Markdown.significantP($0.holmPValue) && $0.delta < 0 }.count
            let higher = tested.filter { Markdown.significantP($0.holmPValue) && $0.delta > 0 }.count
            s += "- Gap to the baseline at \(setting): "
            if tested.isEmpty {
                s += "no test possible in any of the \(ts.count) strategy × size cells (see the notes in the table)"
            } else {
                let of =
                    "of \(tested.count) tested strategy × size cell\(tested.count == 1 ? "" : "s")"
                    + (tested.count < ts.count ? " (\(ts.count) in all)" : "")
                if lower == 0 && higher == 0 {
                    s += "no change distinguishable from 0 in any \(of) at this n"
                } else {
                    var parts = [String]()
                    if lower > 0 { parts.append("the strategy does better relative to the baseline in \(lower)") }
                    if higher > 0 { parts.append("worse in \(higher)") }
                    s += parts.joined(separator: ", ") + " \(of) (family-wise α = 0.05, Holm)"
                }
            }
            s += "; Δgap: " + ts.map { "`\($0.arm)` \($0.sizeLabel) \(Format.signed($0.delta))" }.joined(separator: ", ") + " \(unit).\n"
        }
        return s
    }

    static func table(_ effects: [SettingEffect], unit: String, level: Double, tunedLR: Bool) -> String {
        let m = effects.filter { $0.pValue != nil }.count
        var s = "Does a setting change a strategy's gap to the baseline? Each value of a setting axis against its first "
        s += "value, the parametrization and other settings held equal: Δgap = (strategy − baseline at the value) − "
        s += "(strategy − baseline at the reference value), in final validation loss (\(unit)); negative = at the value "
        s += "the strategy does better relative to the baseline (a positive gap narrows, a negative one widens). A "
        s += "one-sample t over the per-seed differences of differences (the seeds all four cells share; a strategy or "
        s += "size missing on either side is left out); p-values two-sided, "
        s += m == 0 ? "but no cell allows a test here." : "\(Markdown.holm(over: m, of: "the table"))."
        if tunedLR {
            s += " Each of the four cells is at its own best learning rate, so Δgap is the change in the tuned gaps, "
            s += "including any shift of the best rates; the tests treat the chosen rates as fixed."
        }
        s += "\n\n"
        s += "| setting | strategy | baseline | size | Δgap | \(Markdown.pct(level)) CI (unadjusted) | p | p (Holm) | n pairs | note |\n"
        s += "|---|---|---|---|---:|---|---:|---:|---:|---|\n"
        for e in effects {
            let ci = e.interval.map { Format.interval($0.lower, $0.upper) } ?? "—"
            s += "| \(e.settingText) | `\(e.arm)` | `\(e.baseline)` | \(e.sizeLabel) | \(Format.signed(e.delta)) | \(ci) | "
            s += "\(e.pValue.map(Format.p) ?? "—") | \(e.holmPValue.map(Format.p) ?? "—") | \(e.pairs) | \(e.note ?? "") |\n"
        }
        return s
    }
}
