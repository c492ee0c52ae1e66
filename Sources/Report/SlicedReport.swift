import Foundation
import Stats

/// The README.md and figures of a sliced grid (`GridSlices`: an LR sweep and/or a parametrization axis): the
/// per-size sections of `Markdown` once per slice, plus the learning-rate section, the μTransfer figure and the μP
/// decomposition.
enum SlicedReport {
    static func figurePrefix(_ slice: GridSlices.Slice) -> String { slice.parametrization.map { "\($0)-" } ?? "" }

    static func figures(_ g: GridSlices) -> [Figures.Output] {
        var out = [Figures.Output]()
        if let f = LearningRateSection.transferFigure(g) { out.append(f) }
        for slice in g.slices {
            let a = slice.tuned
            var fs = [Figures.lossCurves(a), Figures.scaling(a)]
            if a.hasBaseline { fs += [Figures.gap(a), Figures.tokensToTarget(a)] }
            out += fs.map { Figures.Output(fileName: figurePrefix(slice) + $0.fileName, svg: $0.svg) }
        }
        return out
    }

    static func render(_ g: GridSlices, figures: [String]) -> String {
        var md = "# Report: `\(g.gridName)`\n\n" + overview(g) + "\n"
        md += "## Findings\n\n"
        for slice in g.slices {
            md += "### \(heading(g, slice))\n\n" + Markdown.findings(slice.tuned)
            let probes = ProbeAnalysis(slice.tuned)
            md += Markdown.probeFindings(slice.tuned, probes) + "\n"
        }
        let lrFindings = LearningRateSection.findings(g)
        if !lrFindings.isEmpty { md += "### Learning rate\n\n" + lrFindings + "\n" }
        if let d = g.decomposition { md += "### μP decomposition\n\n" + ParametrizationSection.findings(d) + "\n" }
        if g.variesLearningRate {
            md += "## Learning rate\n\n"
            md += LearningRateSection.section(g, figure: figures.first { $0 == "learning_rate_transfer.svg" }) + "\n"
        }
        for slice in g.slices {
            let a = slice.tuned
            md += "## \(heading(g, slice))\n\n"
            md += "### Figures\n\n" + Markdown.figureSection(a, figures, prefix: figurePrefix(slice))
            md += "### Tables\n\n" + demoted(Markdown.tables(a)) + "\n"
            if let shared = slice.sharedLR {
                md += "### Shared learning rate (reference)\n\n"
                md += "Every strategy at `\(a.baseline)`'s best learning rate of the same size — what a study with one "
                md += "learning rate tuned for the baseline would report. Its gaps mix the strategy's effect with how far "
                md += "that learning rate is from the strategy's own optimum; the tuned comparison above is the one to "
                md += "read. Strategies that did not train at that learning rate are absent.\n\n"
                md += Markdown.differenceTable(shared) + "\n"
            }
            let probes = ProbeAnalysis(a)
            if probes.hasProbes { md += "### Embedding probes\n\n" + demoted(Markdown.probeSection(a, probes, figures: [])) + "\n" }
        }
        if let d = g.decomposition {
            md += "## μP decomposition\n\n" + ParametrizationSection.section(d, level: g.level, tunedLR: g.variesLearningRate) + "\n"
        }
        md += "## Runs not in the analysis\n\n" + problems(g) + "\n"
        md += "## Methods\n\n" + methods(g)
        return md
    }

    static func heading(_ g: GridSlices, _ slice: GridSlices.Slice) -> String {
        let who =
            slice.parametrization.map { "`\($0)` network, strategies against `\(slice.tuned.baseline)`" }
            ?? "Strategies against `\(slice.tuned.baseline)`"
        return who + (g.variesLearningRate ? ", each at its own best learning rate" : "")
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
        let arms = g.slices.flatMap { slice in slice.tuned.arms.map { (slice.parametrization.map { p in "`\(p)`: " } ?? "") + "`\($0)`" } }
        s += ". Strategies: \(arms.joined(separator: ", ")). "
        let sizes = Set(g.slices.flatMap(\.tuned.sizes)).sorted()
        let labels = GridAnalysis.labels(sizes)
        s += "Sizes: \(sizes.map { (labels[$0] ?? $0.label) + Figures.nonEmbeddingText($0) }.joined(separator: ", ")). "
        s += "Seeds: \(Set(readable.map(\.seed)).sorted().map(String.init).joined(separator: ", ")). "
        s += "Parametrizations: \(Set(readable.map(\.parametrization)).sorted().map { "`\($0)`" }.joined(separator: ", "))."
        let rates = Set(readable.compactMap(\.learningRate)).sorted()
        if !rates.isEmpty { s += " Learning rates: \(rates.map(LearningRateSection.lrText).joined(separator: ", "))." }
        s += "\n"
        if g.variesLearningRate {
            s += "\n**This grid sweeps the learning rate:** every comparison, fit, figure and table below uses each "
            s += "cell at its own best learning rate, chosen on the training loss (see [Learning rate](#learning-rate)).\n"
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
                s += "\n**No `\(slice.tuned.baseline)` runs** (\(heading(g, slice))): no differences or tests there.\n"
            }
        }
        return s
    }

    static func problems(_ g: GridSlices) -> String {
        guard !g.problems.isEmpty else { return "None: every run present finished.\n" }
        var s = "Runs that did not finish, and runs grid.json lists without a folder (without grid.json, missing runs "
        s += "of a grid with a learning-rate or parametrization axis are not inferred).\n\n"
        s += "| run | status | detail |\n|---|---|---|\n"
        for p in g.problems {
            s += "| `\(p.id)` | \(p.kind.rawValue) | \(p.detail.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        return s
    }

    static func methods(_ g: GridSlices) -> String {
        var s = Markdown.methods(g.slices[0].tuned)
        if g.variesLearningRate {
            s += "- Learning rate: per (strategy, parametrization, size) cell, the learning rate with the lowest mean "
            s += "training loss over the last \(Int(LearningRateSelection.selectionWindow * 100)) % of logged steps "
            s += "(mean over the cell's finished seeds; ties go to the smaller rate); rates with a diverged or failed run "
            s += "are not eligible. The validation loss never enters the choice, so the reported losses are not biased "
            s += "by it. The tests treat the chosen rate as fixed; they do not account for the selection itself.\n"
        }
        if g.splitsParametrization {
            s += "- Parametrization: read from config.json `config.parametrization` (absent: `sp`); each parametrization "
            s += "is analysed on its own, with its own Holm family.\n"
        }
        if let d = g.decomposition {
            s += "- μP decomposition: \(d.effects.filter { $0.pValue != nil }.count) paired t-tests (effect × size) "
            s += "over seed-matched final losses, Holm-adjusted as one family.\n"
        }
        return s
    }
}
