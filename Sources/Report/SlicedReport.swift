import Foundation
import Stats

/// The README.md and figures of a sliced grid (`GridSlices`: an LR sweep, a parametrization axis and/or setting axes):
/// every slice gets the same sections and figures as an unsliced report (`AnalysisSections`, figures prefixed by the
/// slice's parametrization and settings), plus the learning-rate section, the μTransfer figure and the μP
/// decompositions.
struct SlicedReport {
    let grid: GridSlices
    /// One per slice, in `grid.slices` order.
    let slices: [AnalysisSections]
    /// The μTransfer figure, then each slice's figures.
    let figures: [Figures.Output]
    let markdown: String

    init(_ g: GridSlices) {
        grid = g
        let slices = zip(g.slices, SlicedReport.figurePrefixes(g.slices)).map { AnalysisSections($0.tuned, prefix: $1) }
        self.slices = slices
        let transfer = LearningRateSection.transferFigure(g)
        figures = (transfer.map { [$0] } ?? []) + slices.flatMap(\.figures)
        markdown = SlicedReport.render(g, slices, transferFigure: transfer?.fileName)
    }

    /// Each slice's `figurePrefix`, numbered where two would be equal (labels that differ only in characters a file
    /// name cannot hold), so no slice's figures overwrite another's.
    static func figurePrefixes(_ slices: [GridSlices.Slice]) -> [String] {
        var used = Set<String>()
        return slices.enumerated().map { i, slice in
            var prefix = figurePrefix(slice)
            if used.contains(prefix) { prefix += "\(i + 1)-" }
            used.insert(prefix)
            return prefix
        }
    }

    /// e.g. "mup-weight_decay-0.1-", or "strategy_options-init_std_0.02-" for the label "{init_std: 0.02}": file-name
    /// characters only (a label may hold any text), each run of others one "_", none at either end of a part.
    static func figurePrefix(_ slice: GridSlices.Slice) -> String {
        let parts = (slice.parametrization.map { [$0] } ?? []) + slice.settings.flatMap { [$0.axis, $0.label] }
        let safe = parts.map { part in
            var out = ""
            for c in part.unicodeScalars {
                let kept = CharacterSet.alphanumerics.contains(c) && c.isASCII || "._-".unicodeScalars.contains(c)
                if kept { out.unicodeScalars.append(c) } else if !out.isEmpty && !out.hasSuffix("_") { out += "_" }
            }
            while out.hasSuffix("_") { out.removeLast() }
            return out.isEmpty ? "_" : out
        }
        return safe.map { $0 + "-" }.joined()
    }

    static func render(_ g: GridSlices, _ sections: [AnalysisSections], transferFigure: String?) -> String {
        var md = "# Report: `\(g.gridName)`\n\n" + overview(g) + "\n"
        md += "## Findings\n\n"
        for (slice, r) in zip(g.slices, sections) {
            md += "### \(heading(g, slice))\n\n" + Markdown.findings(r.analysis) + Markdown.probeFindings(r.analysis, r.probes) + "\n"
        }
        let lrFindings = LearningRateSection.findings(g)
        if !lrFindings.isEmpty { md += "### Learning rate\n\n" + lrFindings + "\n" }
        for d in g.decompositions { md += "### \(decompositionTitle(d))\n\n" + ParametrizationSection.findings(d.decomposition) + "\n" }
        if !g.settingEffects.isEmpty {
            md += "### Settings\n\n" + SettingEffect.findings(g.settingEffects, unit: g.slices[0].tuned.metric.unit) + "\n"
        }
        if g.variesLearningRate {
            md += "## Learning rate\n\n" + LearningRateSection.section(g, figure: transferFigure) + "\n"
        }
        for (slice, r) in zip(g.slices, sections) {
            md += "## \(heading(g, slice))\n\n"
            for section in r.sections {
                md += "### \(section.title)\n\n" + demoted(section.body)
                if section.title == "Tables", let shared = slice.sharedLR { md += sharedLearningRate(shared) }
            }
        }
        if !g.settingEffects.isEmpty {
            md += "## Gaps across settings\n\n"
            md += SettingEffect.table(g.settingEffects, unit: g.slices[0].tuned.metric.unit, level: g.level, tunedLR: g.variesLearningRate)
            md += "\n"
        } else if let note = g.settingEffectsNote {
            md += "## Gaps across settings\n\n" + note.prefix(1).uppercased() + note.dropFirst() + ".\n\n"
        }
        for d in g.decompositions {
            md += "## \(decompositionTitle(d))\n\n"
            md += ParametrizationSection.section(d.decomposition, level: g.level, tunedLR: g.variesLearningRate) + "\n"
        }
        md += "## Runs not in the analysis\n\n" + problems(g) + "\n"
        md += "## Methods\n\n" + methods(g, sections)
        return md
    }

    static func sharedLearningRate(_ shared: GridAnalysis) -> String {
        var s = "### Shared learning rate (reference)\n\n"
        s += "Every strategy at `\(shared.baseline)`'s best learning rate of the same size — what a study with one "
        s += "learning rate tuned for the baseline would report. Its gaps mix the strategy's effect with how far "
        s += "that learning rate is from the strategy's own optimum; the tuned comparison above is the one to "
        s += "read. Strategies that did not train at that learning rate are absent.\n\n"
        return s + Markdown.differenceTable(shared) + "\n"
    }

    static func heading(_ g: GridSlices, _ slice: GridSlices.Slice) -> String {
        let who =
            GridSlices.scope(slice).map { "\($0), strategies against `\(slice.tuned.baseline)`" }
            ?? "Strategies against `\(slice.tuned.baseline)`"
        return who + (g.variesLearningRate ? ", each at its own best learning rate" : "")
    }

    /// "μP decomposition", scoped by the settings when the grid has setting axes.
    static func decompositionTitle(_ d: GridSlices.Decomposition) -> String {
        "μP decomposition" + (d.settings.isEmpty ? "" : ", " + GridSlices.settingsText(d.settings))
    }

    /// Headings one level deeper, so a section written for the top level nests under a slice's heading.
    static func demoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\n### ", with: "\n#### ").replacingOccurrences(of: "\n## ", with: "\n### ")
            .replacingOccurrences(of: "^### ", with: "#### ", options: .regularExpression)
    }

    static func overview(_ g: GridSlices) -> String {
        let readable = g.runs.filter { $0.state != .unreadable }
        let finished = g.runs.filter { $0.state == .finished }.count
        var s = "\(g.runs.count) run folders, \(finished) finished and analysed"
        if g.problems.count > 0 { s += ", \(g.problems.count) missing, diverged, failed, unfinished or unreadable" }
        var arms: [String] = []  // each once, in slice order (slices that differ only in a setting repeat them)
        for slice in g.slices {
            for arm in slice.tuned.arms.map({ (slice.parametrization.map { p in "`\(p)`: " } ?? "") + "`\($0)`" }) where !arms.contains(arm) {
                arms.append(arm)
            }
        }
        s += ". Strategies: \(arms.joined(separator: ", ")). "
        let sizes = Set(g.slices.flatMap(\.tuned.sizes)).sorted()
        let labels = GridAnalysis.labels(sizes)
        s += "Sizes: \(sizes.map { (labels[$0] ?? $0.label) + Figures.nonEmbeddingText($0) }.joined(separator: ", ")). "
        s += "Seeds: \(Set(readable.map(\.seed)).sorted().map(String.init).joined(separator: ", ")). "
        s += "Parametrizations: \(Set(readable.map(\.parametrization)).sorted().map { "`\($0)`" }.joined(separator: ", "))."
        let rates = Set(readable.compactMap(\.learningRate)).sorted()
        if !rates.isEmpty { s += " Learning rates: \(rates.map(LearningRateSection.lrText).joined(separator: ", "))." }
        s += "\n"
        for why in Set(g.slices.compactMap(\.tuned.metric.reason)).sorted() { s += "\n**Bits per byte:** \(why).\n" }
        if g.variesLearningRate {
            s += "\n**This grid sweeps the learning rate:** every comparison, fit, figure and table below uses each "
            s += "cell at its own best learning rate, chosen on the training loss (see [Learning rate](#learning-rate)).\n"
        } else {
            for (slice, rates) in fixedRates(g) {
                s += "\n**Learning rate per strategy** (\(slice); fixed by the grid, config.json "
                s += "`learning_rate`; not selected by this report): \(rates).\n"
            }
        }
        if !g.settingAxes.isEmpty {
            let values = g.settingAxes.map { axis in
                let labels = GridSlices.sortedLabels(Set(g.slices.flatMap { $0.settings.filter { $0.axis == axis }.map(\.label) }))
                return "`\(axis)` (\(labels.map(GridSlices.labelText).joined(separator: ", ")))"
            }
            s += "\n**Other axes:** \(values.joined(separator: "; ")). Each combination of their values is analysed on its "
            s += "own, with its own baseline, tests and Holm family: runs that differ in one are never pooled into a cell. "
            s += "How each setting changes the strategies' gaps to the baseline is tested in "
            s += "[Gaps across settings](#gaps-across-settings).\n"
        }
        if g.splitsParametrization {
            s += "\n**Parametrization is an axis:** embedding strategies are compared within a parametrization, each "
            s += "against the learned table of the same network (under μP without a `learned` arm: the `mup` strategy, "
            s += "which is `learned` with μP's table); never an SP arm against a μP arm.\n"
        }
        if !g.problems.isEmpty {
            s += "\n**Incomplete grid:** \(g.problems.count) runs are missing or did not finish; see "
            s += "[Runs not in the analysis](#runs-not-in-the-analysis). Every number below uses the finished runs only.\n"
        }
        for slice in g.slices {
            for w in slice.tuned.warnings { s += "\n**Warning** (\(heading(g, slice))): \(w).\n" }
            if !slice.tuned.hasBaseline {
                s += "\n**No `\(slice.tuned.baseline)` runs** (\(heading(g, slice))): no differences or tests there"
                s += (slice.tuned.baselineElsewhere.map { " (\($0))" } ?? "") + ".\n"
            }
        }
        return s
    }

    /// (slice heading, each arm's learning rate) for the slices whose arms train at different fixed rates.
    static func fixedRates(_ g: GridSlices) -> [(slice: String, rates: String)] {
        g.slices.compactMap { slice in Markdown.learningRateText(slice.tuned).map { (heading(g, slice), $0) } }
    }

    static func problems(_ g: GridSlices) -> String {
        guard !g.problems.isEmpty else { return "None: every run present finished.\n" }
        return Markdown.problemTable(
            g.problems,
            lead: "Runs that did not finish or cannot be compared, and runs grid.json lists without a folder (without "
                + "grid.json, missing runs of a grid with a learning-rate, parametrization or other axis are not inferred).")
    }

    /// Provenance over every run; then each slice's own metric, test counts and Holm family (one slice: "this grid").
    static func methods(_ g: GridSlices, _ sections: [AnalysisSections]) -> String {
        var s = Markdown.provenanceMethods(gridName: g.gridName, runs: g.runs)
        if g.slices.count == 1 {
            s += Markdown.analysisMethods(g.slices[0].tuned, scope: "this grid")
        } else {
            for slice in g.slices {
                let lines = Markdown.analysisMethods(slice.tuned, scope: "this slice").split(separator: "\n")
                s += "- \(heading(g, slice)):\n" + lines.map { "  \($0)\n" }.joined()
            }
        }
        if g.variesLearningRate {
            s += "- Learning rate: per (strategy, parametrization, size) cell, the learning rate with the lowest mean "
            s += "training loss over the last \(Int(LearningRateSelection.selectionWindow * 100)) % of logged steps "
            s += "(mean over the cell's finished seeds; ties go to the smaller rate); rates with a diverged or failed run "
            s += "are not eligible, nor are rates with unfinished runs while another rate of the cell is complete. The "
            s += "choice avoids selecting on the evaluation set; seed noise shared by a run's training and validation "
            s += "loss still biases the chosen cell's validation loss slightly downwards. The tests treat the chosen "
            s += "rate as fixed; they do not account for the selection itself.\n"
        } else {
            for (slice, rates) in fixedRates(g) {
                s += "- Learning rate (\(slice)): as config.json records it, fixed per strategy by the grid rather than "
                s += "selected by this report: \(rates).\n"
            }
        }
        if g.splitsParametrization {
            s += "- Parametrization: read from config.json `config.parametrization` (absent: `sp`); each parametrization "
            s += "is analysed on its own, with its own Holm family.\n"
        }
        for d in g.decompositions {
            s += "- \(decompositionTitle(d)): \(d.decomposition.effects.filter { $0.pValue != nil }.count) paired t-tests "
            s += "(effect × size) over seed-matched final losses, Holm-adjusted as one family.\n"
        }
        if !g.settingAxes.isEmpty {
            s += "- Other axes: read from each run's grid-run.json `axes` (\(g.settingAxes.map { "`\($0)`" }.joined(separator: ", "))); "
            s += "each combination of their values is analysed on its own, with its own Holm family.\n"
            s += "- Gaps across settings: \(g.settingEffects.filter { $0.pValue != nil }.count) one-sample t-tests of the "
            s += "per-seed difference of gaps (setting value vs the axis's first value; strategy × size), Holm-adjusted "
            s += "as one family.\n"
        }
        s += "- Missing runs: those grid.json lists without a folder (without grid.json they are not inferred in a grid "
        s += "with a learning-rate, parametrization or other axis); diverged, failed and unfinished runs are excluded from every "
        s += "statistic.\n"
        if let probed = sections.first(where: \.probes.hasProbes) { s += Markdown.probeMethods(probed.analysis, probed.probes) }
        return s
    }
}
