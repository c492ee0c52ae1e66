import Foundation
import Stats

/// The probe figures: metrics of the final tables vs model size, and drift vs training fraction.
extension Figures {
    // 5. Effective rank, isotropy and word-similarity ρ of the final tables vs N; one row per table kind.
    static func probesVsSize(_ a: GridAnalysis, _ p: ProbeAnalysis) -> Output {
        let sizes = a.sizes.filter { $0.nonEmbedding > 0 }
        // The N range padded beyond the dodge offsets (with one size, the dodge alone would set the axis).
        let allN =
            sizes.map { Double($0.nonEmbedding) }
            + (sizes.isEmpty
                ? []
                : [
                    Double(sizes.first!.nonEmbedding) / 1.3,
                    Double(sizes.last!.nonEmbedding) * 1.3,
                ])
        let setTitle = p.figureSet.map(ProbeAnalysis.setTitle) ?? "word similarity"
        let metrics: [(title: String, y: String, include: [Double], value: (ProbeAnalysis.Cell) -> (MeanSummary, ConfidenceInterval?)?)] = [
            ("effective rank", "effective rank", [], { c in c.effectiveRank.map { ($0, $0.interval) } }),
            ("isotropy", "mean cosine of random row pairs", [0], { c in c.isotropy.map { ($0, $0.interval) } }),
            (
                "\(setTitle) ρ", "Spearman ρ (in-corpus pairs)", [0],
                { c in
                    guard let set = p.figureSet, let w = c.wordSimilarity[set] else { return nil }
                    return (w.final, w.final.interval)
                }
            ),
        ]
        var panels = [SVGPlot.Panel]()
        for kind in p.kinds {
            for m in metrics {
                var series = [SVGPlot.Series]()
                if m.include == [0] { series.append(.horizontalLine(y: 0, color: "#888888", dash: "3 3")) }
                for (k, arm) in a.arms.enumerated() {
                    let bars = sizes.compactMap { s -> SVGPlot.ErrorBar? in
                        guard let c = p.cell(arm, s, kind), let (mean, ci) = m.value(c) else { return nil }
                        return SVGPlot.ErrorBar(
                            x: Double(s.nonEmbedding) * dodge(k, of: a.arms.count), y: mean.mean,
                            lower: ci?.lower ?? mean.mean, upper: ci?.upper ?? mean.mean)
                    }
                    guard !bars.isEmpty else { continue }
                    let st = style(a, arm)
                    let frozen = sizes.allSatisfy { p.cell(arm, $0, kind)?.frozen ?? true }
                    var line = st
                    line.marker = .none
                    line.width = 1.2
                    if frozen { line.dash = "5 4" }
                    series.append(.line(bars.map { SVGPlot.Point($0.x, $0.y) }, line))
                    series.append(.errorBars(bars, st))
                }
                panels.append(
                    SVGPlot.Panel(
                        title: "\(kind == .input ? "input table" : "output head"): \(m.title)",
                        x: SVGPlot.Axis(
                            "non-embedding parameters N", scale: .log10, format: .si,
                            include: allN),
                        y: SVGPlot.Axis(m.y, include: m.include), series: series))
            }
        }
        let figure = SVGPlot.Figure(
            title: "Embedding probes vs model size (final tables; mean ± 95 % t interval)",
            panels: panels, columns: 3, panelWidth: 360, panelHeight: 280,
            legend: legend(a, arms: a.arms),
            footnotes: ["Dashed lines: frozen tables (numbers of the initialisation)."])
        return Output(fileName: "probes_vs_size.svg", svg: figure.render())
    }

    // 6. Remaining drift vs training fraction, one panel per size and table kind.
    static func probeDrift(_ a: GridAnalysis, _ p: ProbeAnalysis) -> Output {
        var panels = [SVGPlot.Panel]()
        var frozenNotes = [String]()
        for kind in p.kinds {
            let frozen = p.frozenArms(a, kind)
            if !frozen.isEmpty { frozenNotes.append("\(kind.title): \(frozen.joined(separator: ", "))") }
            for size in a.sizes {
                var series: [SVGPlot.Series] = [
                    .horizontalLine(y: p.driftThreshold, color: "#555555", dash: "5 4"),
                    .verticalLine(x: 10, color: "#999999", dash: "2 3"),
                ]
                var marks = [(arm: String, x: Double)]()
                for arm in a.arms {
                    guard let c = p.cell(arm, size, kind), !c.frozen else { continue }
                    let pts = c.remainingDrift.filter { $0.fraction > 0 }
                    guard !pts.isEmpty else { continue }
                    let st = style(a, arm)
                    let withCI = pts.filter { $0.lower != nil }
                    if withCI.count >= 2 {
                        series.append(
                            .band(
                                x: withCI.map { 100 * $0.fraction }, lower: withCI.map { max($0.lower!, 0) },
                                upper: withCI.map { min($0.upper!, 1) }, color: st.color, opacity: 0.15))
                    }
                    var line = st
                    line.marker = .none
                    series.append(.line(pts.map { SVGPlot.Point(100 * $0.fraction, $0.mean) }, line))
                    if let m = c.stabilised { marks.append((arm, 100 * m.mean)) }
                }
                for (k, mark) in marks.enumerated() {
                    let x = mark.x * dodge(k, of: marks.count)  // dodged: several strategies often share a snapshot
                    series.append(.scatter([SVGPlot.Point(x, p.driftThreshold)], style(a, mark.arm)))
                }
                panels.append(
                    SVGPlot.Panel(
                        title: "\(kind.title), \(a.label(size))",
                        x: SVGPlot.Axis(
                            "% of training (step / total steps)", scale: .log10,
                            format: .shortest, include: [100]),
                        y: SVGPlot.Axis("remaining drift", include: [0, 1]), series: series,
                        emptyText: "no moving table"))
            }
        }
        var notes = [
            "Markers on the dashed threshold line: mean stabilisation point over the seeds trained to a plateau (upper bounds at the snapshot resolution; no marker when none is); dotted: 10 % of training."
        ]
        if !frozenNotes.isEmpty { notes.append("Frozen, not drawn: " + frozenNotes.joined(separator: "; ") + ".") }
        let falls = p.cells.values.filter { !$0.frozen }.flatMap(\.lossFall)
        let untestable = falls.filter { !ProbeAnalysis.isTestable($0) }.count
        if untestable > 0 {
            notes.append(
                "\(untestable) of the \(falls.count) tables drawn (one per run and table) belong to runs whose "
                    + "validation loss still fell by more than \(Int(100 * ProbeAnalysis.lossFallLimit)) % "
                    + "\(p.fallWindowText): whether those tables stabilise is not testable at this budget.")
        }
        let figure = SVGPlot.Figure(
            title: "Remaining drift to the final table vs training fraction (mean over seeds, 95 % t band)",
            panels: panels, columns: a.sizes.count <= 4 ? max(a.sizes.count, 1) : 3,
            panelWidth: a.sizes.count == 1 ? 560 : 360,
            panelHeight: 270,
            legend: legend(
                a, arms: a.arms.filter { arm in p.kinds.contains { p.movingArms(a, $0).contains(arm) } },
                band: true),
            footnotes: notes)
        return Output(fileName: "probe_drift.svg", svg: figure.render())
    }
}
