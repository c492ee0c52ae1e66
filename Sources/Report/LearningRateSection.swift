import Foundation
import Stats

/// The report's learning-rate section: how each cell's learning rate was chosen, the table of selection losses, the
/// edge warnings and the μTransfer figure (final loss vs learning rate, one line per width).
enum LearningRateSection {
    /// Learning rates as written in grid files (C-locale `%g`: 0.003, 0.01, 1e-05).
    static func lrText(_ lr: Double) -> String { String(format: "%g", lr) }

    static func panelTitle(_ slice: GridSlices.Slice, arm: String) -> String {
        let parts = (slice.parametrization.map { [$0] } ?? []) + slice.settings.map { "\($0.axis) = \($0.label)" }
        return parts.isEmpty ? arm : "\(arm) (\(parts.joined(separator: ", ")))"
    }

    /// The arms of a slice that tried at least two learning rates at some size (the ones a μTransfer panel can show).
    static func sweptArms(_ slice: GridSlices.Slice) -> [String] {
        guard let sel = slice.selection else { return [] }
        return allArms(slice).filter { arm in sel.choices.values.contains { $0.arm == arm && $0.candidates.count >= 2 } }
    }

    /// Every arm of the slice's selection in the analysis' order, then arms with no eligible learning rate (absent
    /// from the analysis).
    static func allArms(_ slice: GridSlices.Slice) -> [String] {
        let all = Set(slice.selection?.choices.values.map(\.arm) ?? [])
        return slice.tuned.arms.filter(all.contains) + all.subtracting(slice.tuned.arms).sorted()
    }

    static func sizes(_ slice: GridSlices.Slice) -> [ModelShape] {
        Set(slice.selection?.choices.values.map(\.size) ?? []).sorted()
    }

    // MARK: markdown

    static func findings(_ g: GridSlices) -> String {
        var s = ""
        for slice in g.slices {
            guard let sel = slice.selection else { continue }
            let edges = sel.choices.values.filter(\.atEdge).sorted { ($0.arm, $0.size) < ($1.arm, $1.size) }
            for c in edges {
                s += "- **Learning rate at the edge of the sweep**: `\(panelTitle(slice, arm: c.arm))` at "
                s +=
                    "\(sizeLabel(slice, c.size)) is best at \(lrText(c.best!)), the \(c.best == c.candidates.first!.learningRate ? "smallest" : "largest") "
                s += "learning rate tried: the optimum may lie outside; extend the sweep.\n"
            }
            for c in sel.choices.values.filter({ $0.best == nil }).sorted(by: { ($0.arm, $0.size) < ($1.arm, $1.size) }) {
                s += "- `\(panelTitle(slice, arm: c.arm))` at \(sizeLabel(slice, c.size)): no eligible learning rate "
                s += "(every one has a diverged or failed run, or no finished run with a training loss): left out.\n"
            }
            let waiting = sel.choices.values.filter { $0.candidates.contains(where: \.waitsForRuns) }
            for c in waiting.sorted(by: { ($0.arm, $0.size) < ($1.arm, $1.size) }) {
                let rates = c.candidates.filter(\.waitsForRuns).map { lrText($0.learningRate) }.joined(separator: ", ")
                s += "- `\(panelTitle(slice, arm: c.arm))` at \(sizeLabel(slice, c.size)): learning rate \(rates) still has "
                s += "unfinished runs and is not compared until they finish; the choice may change.\n"
            }
            for arm in sweptArms(slice) { s += "- μTransfer, `\(panelTitle(slice, arm: arm))`: \(transferSentence(slice, arm: arm)).\n" }
        }
        return s
    }

    static func sizeLabel(_ slice: GridSlices.Slice, _ size: ModelShape) -> String {
        GridAnalysis.labels(sizes(slice))[size] ?? size.label
    }

    /// Where the best learning rate lies at each width and whether it moved, from the data, with its resolution.
    static func transferSentence(_ slice: GridSlices.Slice, arm: String) -> String {
        guard let sel = slice.selection else { return "" }
        let best = sel.bestByWidth(arm, sizes: sizes(slice))
        guard !best.isEmpty else { return "no size has an eligible learning rate" }
        let listed = best.map { "\(lrText($0.lr)) at \(sizeLabel(slice, $0.size))" }.joined(separator: ", ")
        let logs = best.map { log10($0.lr) }
        let spread = logs.max()! - logs.min()!
        let seeds = Set(best.flatMap { b in sel.choices[.init(arm: arm, size: b.size)]!.candidates.map(\.finished) })
        let seedText = seeds.count == 1 ? "\(seeds.first!) seed\(seeds.first! == 1 ? "" : "s")" : "\(seeds.min()!)–\(seeds.max()!) seeds"
        let resolution = sel.resolutionDecades.map { "\(Format.fixed($0, 2)) decades" } ?? "one learning rate"
        var s = "best learning rate \(listed)"
        guard best.count >= 2 else { return s + " (one width only: nothing to transfer)" }
        if spread == 0 {
            s += " — the same at all \(best.count) widths, to the sweep's resolution (\(resolution))"
        } else {
            let direction = logs.last! < logs.first! ? "lower" : logs.last! > logs.first! ? "higher" : "different"
            s += " — it moves across widths (spread of log₁₀ LR: \(Format.fixed(spread, 2)) decades; the widest is "
            s += "\(direction) than the narrowest); the sweep resolves \(resolution) and each choice rests on "
            s += "\(seedText) per learning rate, so a move of one grid step can come from selection noise"
        }
        return s
    }

    static func section(_ g: GridSlices, figure: String?) -> String {
        var s = "Each (strategy, parametrization, size) cell of a slice is analysed at its own best learning rate, chosen on the "
        s += "**training loss** (metrics.jsonl `train_loss`, mean over the last \(Int(LearningRateSelection.selectionWindow * 100)) % "
        s += "of the logged steps, averaged over the cell's finished seeds at that learning rate), never on the validation "
        s += "loss the report compares: training batches come from the training split, disjoint from the validation "
        s += "batches, so the choice avoids selecting on the evaluation set (the winner's curse of picking each arm's "
        s += "luckiest evaluation). Seed noise is shared by a run's training and validation loss, so it still biases the "
        s += "chosen cell's validation loss slightly downwards, more for arms with more learning rates. A learning rate "
        s += "at which any run diverged or failed is not eligible; one with unfinished runs is not compared while "
        s += "another rate of the cell has all its runs finished. "
        s += "A shared-learning-rate comparison (every strategy at the baseline's best learning rate) is shown per "
        s += "slice (parametrization and other axes) for reference.\n\n"
        s += "Selection loss per learning rate (mean training loss, nats per token; n finished runs); **bold** = chosen; "
        s += "final validation loss of the chosen learning rate (nats per token, as summary.json records it) for reference.\n\n"
        let rates = Set(g.slices.flatMap { $0.selection?.learningRates ?? [] }).sorted()
        s += "| strategy | size | " + rates.map { "LR \(lrText($0))" }.joined(separator: " | ") + " | best LR | final val loss at best (nats) |\n"
        s += "|---|---|" + rates.map { _ in "---:|" }.joined() + "---:|---:|\n"
        for slice in g.slices {
            guard let sel = slice.selection else { continue }
            for arm in allArms(slice) {
                for size in sizes(slice) {
                    guard let c = sel.choices[.init(arm: arm, size: size)] else { continue }
                    s += "| `\(panelTitle(slice, arm: arm))` | \(sizeLabel(slice, size)) | "
                    for lr in rates {
                        guard let k = c.candidates.first(where: { $0.learningRate == lr }) else { s += "— | "; continue }
                        var cell = k.selectionLoss.map { Format.loss($0) + " (n = \(k.finished))" } ?? "no train loss"
                        if k.failed > 0 { cell += ", \(k.failed) diverged/failed" }
                        if k.unfinished > 0 { cell += ", \(k.unfinished) unfinished" + (k.waitsForRuns ? ", not compared" : "") }
                        s += (c.best == lr ? "**\(cell)**" : cell) + " | "
                    }
                    let chosen = c.candidates.first { $0.learningRate == c.best }
                    s += "\(c.best.map(lrText) ?? "none")\(c.atEdge ? " (edge)" : "") | "
                    s += "\(chosen?.finalValLoss.map { Format.loss($0.mean) } ?? "—") |\n"
                }
            }
        }
        let without = g.slices.flatMap { $0.selection?.withoutLearningRate ?? [] }
        if !without.isEmpty {
            s += "\nLeft out (config.json records no learning rate): \(without.map { "`\($0)`" }.joined(separator: ", ")).\n"
        }
        if let figure {
            s += "\n![Final validation loss vs learning rate](\(figure))\n\n"
            s += "**μTransfer.** Final validation loss (nats per token) vs learning rate (log scale), mean ± \(Markdown.pct(g.level)) t "
            s += "interval over seeds, one panel per strategy and parametrization, one line per size; the black square "
            s += "marks the learning rate chosen on the training loss. Under μP the optimum should stay put across "
            s += "widths, under SP it tends to move; the findings state what this grid shows.\n"
        }
        return s
    }

    // MARK: figure

    static func transferFigure(_ g: GridSlices) -> Figures.Output? {
        var panels = [SVGPlot.Panel]()
        let allSizes = Set(g.slices.flatMap { sizes($0) }).sorted()
        let labels = GridAnalysis.labels(allSizes)
        for slice in g.slices {
            guard let sel = slice.selection else { continue }
            for arm in sweptArms(slice) {
                var series = [SVGPlot.Series]()
                var best = [SVGPlot.Point]()
                for (i, size) in allSizes.enumerated() {
                    guard let c = sel.choices[.init(arm: arm, size: size)] else { continue }
                    let style = SVGPlot.Style(
                        color: SVGPlot.palette[i % SVGPlot.palette.count], marker: SVGPlot.markers[i % SVGPlot.markers.count])
                    let bars = c.candidates.compactMap { k -> SVGPlot.ErrorBar? in
                        guard let m = k.finalValLoss else { return nil }
                        return SVGPlot.ErrorBar(
                            x: k.learningRate, y: m.mean, lower: m.interval?.lower ?? m.mean, upper: m.interval?.upper ?? m.mean)
                    }
                    var line = style
                    line.marker = .none
                    series.append(.line(bars.map { SVGPlot.Point($0.x, $0.y) }, line))
                    series.append(.errorBars(bars, style))
                    if let b = c.candidates.first(where: { $0.learningRate == c.best }), let m = b.finalValLoss {
                        best.append(SVGPlot.Point(b.learningRate, m.mean))
                    }
                }
                series.append(.scatter(best, SVGPlot.Style(color: "#000000", marker: .square)))
                panels.append(
                    SVGPlot.Panel(
                        title: panelTitle(slice, arm: arm), x: SVGPlot.Axis("learning rate", scale: .log10, format: .shortest),
                        y: SVGPlot.Axis("final validation loss (nats)"), series: series))
            }
        }
        guard !panels.isEmpty else { return nil }
        var legend = allSizes.enumerated().map { i, size in
            SVGPlot.LegendEntry(
                labels[size] ?? size.label,
                SVGPlot.Style(color: SVGPlot.palette[i % SVGPlot.palette.count], marker: SVGPlot.markers[i % SVGPlot.markers.count]))
        }
        legend.append(SVGPlot.LegendEntry("chosen (training loss)", SVGPlot.Style(color: "#000000", marker: .square)))
        let figure = SVGPlot.Figure(
            title: "Final validation loss vs learning rate (mean ± \(Markdown.pct(g.level)) t interval; square: chosen on training loss)",
            panels: panels, columns: min(3, panels.count), legend: legend)
        return Figures.Output(fileName: "learning_rate_transfer.svg", svg: figure.render())
    }
}
