import Foundation

/// The vocabulary section's figures: final bits per byte vs vocabulary size per strategy, and the gap
/// `arm − baseline` vs vocabulary size, both on a log₂ x axis with Student-t / paired-t intervals.
enum VocabularyFigures {
    /// One panel per model shape (usually one).
    static func bitsPerByte(_ a: GridAnalysis, _ v: VocabularyAnalysis) -> Figures.Output {
        let panels = v.shapes.map { shape -> SVGPlot.Panel in
            var series = [SVGPlot.Series]()
            for (k, arm) in v.arms.enumerated() {
                let bars = v.vocabularies.compactMap { size -> SVGPlot.ErrorBar? in
                    guard let c = v.cell(arm, shape, size) else { return nil }
                    let x = Double(size) * dodge(k, of: v.arms.count)
                    return SVGPlot.ErrorBar(
                        x: x, y: c.final.mean, lower: c.final.interval?.lower ?? c.final.mean, upper: c.final.interval?.upper ?? c.final.mean)
                }
                series += connected(bars, Figures.style(a, arm))
            }
            return SVGPlot.Panel(
                title: v.shapes.count > 1 ? shape.label : "",
                x: vocabularyAxis(v),
                y: SVGPlot.Axis("final validation bits per byte"), series: series)
        }
        let figure = SVGPlot.Figure(
            title: "Final bits per byte vs vocabulary size (mean over seeds, \(Markdown.pct(v.level)) t interval)",
            panels: panels, columns: min(2, max(panels.count, 1)), panelWidth: 620, panelHeight: 380,
            legend: Figures.legend(a, arms: v.arms))
        return Figures.Output(fileName: "vocab_bpb.svg", svg: figure.render())
    }

    static func gap(_ a: GridAnalysis, _ v: VocabularyAnalysis) -> Figures.Output {
        let compared = v.arms.filter { $0 != v.baseline }
        let panels = v.shapes.map { shape -> SVGPlot.Panel in
            var series: [SVGPlot.Series] = [.horizontalLine(y: 0, color: "#000000", dash: "4 3")]
            for (k, arm) in compared.enumerated() {
                let bars = v.gaps(shape).filter { $0.arm == arm }.map { g in
                    SVGPlot.ErrorBar(
                        x: Double(g.size.vocabSize) * dodge(k, of: compared.count), y: g.delta, lower: g.interval?.lower ?? g.delta,
                        upper: g.interval?.upper ?? g.delta)
                }
                series += connected(bars, Figures.style(a, arm))
            }
            return SVGPlot.Panel(
                title: v.shapes.count > 1 ? shape.label : "",
                x: vocabularyAxis(v),
                y: SVGPlot.Axis("strategy − \(v.baseline), final bits per byte", include: [0]), series: series,
                emptyText: "no vocabulary with both \(v.baseline) and another strategy")
        }
        let noCI = v.gaps.filter { $0.interval == nil }.map { "\($0.arm) at V = \($0.size.vocabSize)" }
        let figure = SVGPlot.Figure(
            title: "strategy − \(v.baseline) vs vocabulary size (\(Markdown.pct(v.level)) CI; above 0 = \(v.baseline) better)",
            panels: panels, columns: min(2, max(panels.count, 1)), panelWidth: 620, panelHeight: 380,
            legend: Figures.legend(a, arms: compared),
            footnotes: noCI.isEmpty ? [] : ["No CI (too few runs, or no spread): " + noCI.joined(separator: ", ") + "."])
        return Figures.Output(fileName: "vocab_gap.svg", svg: figure.render())
    }

    /// Error bars joined by a line in the strategy's colour.
    static func connected(_ bars: [SVGPlot.ErrorBar], _ style: SVGPlot.Style) -> [SVGPlot.Series] {
        var line = style
        line.marker = .none
        return [.line(bars.map { SVGPlot.Point($0.x, $0.y) }, line), .errorBars(bars, style)]
    }

    static func vocabularyAxis(_ v: VocabularyAnalysis) -> SVGPlot.Axis {
        SVGPlot.Axis("vocabulary size V", scale: .log2, format: .shortest, include: v.vocabularies.map(Double.init))
    }

    /// Multiplicative x offsets on the log₂ axis so the bars of different strategies at one V do not overlap.
    static func dodge(_ index: Int, of count: Int) -> Double { pow(2, 0.06 * (Double(index) - Double(count - 1) / 2)) }
}
