import Foundation
import Stats

/// The report's four figures, built from a `GridAnalysis` with the generic `SVGPlot`.
enum Figures {
    struct Output {
        let fileName: String
        let svg: String
    }

    /// Colour and marker per arm: fixed for the known strategies (the same in every report), the remaining
    /// palette entries for others in arm order.
    static func style(_ a: GridAnalysis, _ arm: String) -> SVGPlot.Style {
        let known = GridAnalysis.knownOrder
        let strategy = a.armStrategies[arm] ?? arm
        let i: Int
        /// A known strategy without options (an arm with options is not the strategy's own colour).
        func isKnown(_ o: String) -> Bool { a.armStrategies[o] == o && (known.firstIndex(of: o) ?? 0) > 0 }
        if arm == a.baseline {
            i = 0
        } else if isKnown(arm) {
            i = known.firstIndex(of: strategy)!
        } else {
            let others = a.arms.filter { $0 != a.baseline && !isKnown($0) }
            i = known.count + (others.firstIndex(of: arm) ?? 0)
        }
        return SVGPlot.Style(
            color: SVGPlot.palette[i % SVGPlot.palette.count],
            marker: SVGPlot.markers[i % SVGPlot.markers.count])
    }

    static func legend(_ a: GridAnalysis, arms: [String], band: Bool = false) -> [SVGPlot.LegendEntry] {
        arms.map { SVGPlot.LegendEntry($0, style(a, $0), band: band) }
    }

    /// Small multiplicative x offsets so error bars of different arms at one size do not sit on top of each other.
    static func dodge(_ index: Int, of count: Int) -> Double {
        pow(10, 0.018 * (Double(index) - Double(count - 1) / 2))
    }

    // 1. Validation loss vs tokens, one panel per size.
    static func lossCurves(_ a: GridAnalysis) -> Output {
        let panels = a.sizes.map { size -> SVGPlot.Panel in
            var series = [SVGPlot.Series]()
            for arm in a.arms {
                guard let c = a.cell(arm, size), !c.curve.isEmpty else { continue }
                let st = style(a, arm)
                let withCI = c.curve.filter { $0.lower != nil }
                if withCI.count >= 2 {
                    series.append(
                        .band(
                            x: withCI.map(\.tokens), lower: withCI.map { $0.lower! },
                            upper: withCI.map { $0.upper! }, color: st.color, opacity: 0.18))
                }
                var line = st
                line.marker = .none
                series.append(.line(c.curve.map { SVGPlot.Point($0.tokens, $0.mean) }, line))
            }
            let n = Self.nonEmbeddingText(size)
            return SVGPlot.Panel(
                title: "\(a.label(size))\(n)", x: SVGPlot.Axis("tokens", format: .si),
                y: SVGPlot.Axis("validation loss (\(a.metric.unit))"), series: series)
        }
        let figure = SVGPlot.Figure(
            title: "Validation loss vs tokens (mean over seeds, 95 % t band)",
            panels: panels, columns: panels.count == 4 ? 2 : min(3, max(panels.count, 1)),
            legend: legend(a, arms: a.arms, band: true))
        return Output(fileName: "loss_curves.svg", svg: figure.render())
    }

    // 2. Final loss vs non-embedding parameters (log-log) with the fitted scaling curves.
    static func scaling(_ a: GridAnalysis) -> Output {
        var series = [SVGPlot.Series]()
        let sizes = a.sizes.filter { $0.nonEmbedding > 0 }
        for (k, arm) in a.arms.enumerated() {
            let st = style(a, arm)
            if let fit = a.fits[arm]?.fit, let lo = sizes.first?.nonEmbedding, let hi = sizes.last?.nonEmbedding {
                let l0 = log10(Double(lo)), l1 = log10(Double(hi))
                let pts = (0...60).map { i -> SVGPlot.Point in
                    let n = pow(10, l0 + (l1 - l0) * Double(i) / 60)
                    return SVGPlot.Point(n, fit.predict(n))
                }
                series.append(.line(pts, SVGPlot.Style(color: st.color, marker: .none, dash: "5 4", width: 1.4)))
            }
            let bars = sizes.compactMap { s -> SVGPlot.ErrorBar? in
                guard let c = a.cell(arm, s) else { return nil }
                let x = Double(s.nonEmbedding) * dodge(k, of: a.arms.count)
                return SVGPlot.ErrorBar(
                    x: x, y: c.final.mean, lower: c.final.interval?.lower ?? c.final.mean,
                    upper: c.final.interval?.upper ?? c.final.mean)
            }
            series.append(.errorBars(bars, st))
        }
        let panel = SVGPlot.Panel(
            title: "", x: SVGPlot.Axis("non-embedding parameters N", scale: .log10, format: .si),
            y: SVGPlot.Axis("final validation loss (\(a.metric.unit))", scale: .log10), series: series)
        let figure = SVGPlot.Figure(
            title: "Final validation loss vs model size (dashed: fitted scaling curve)",
            panels: [panel], panelWidth: 620, panelHeight: 380,
            legend: legend(a, arms: a.arms))
        return Output(fileName: "scaling.svg", svg: figure.render())
    }

    // 3. The gap to the baseline vs model size.
    static func gap(_ a: GridAnalysis) -> Output {
        var series: [SVGPlot.Series] = [.horizontalLine(y: 0, color: "#000000", dash: "4 3")]
        let arms = a.comparedArms
        for (k, arm) in arms.enumerated() {
            let st = style(a, arm)
            let cs = a.comparisons.filter { $0.arm == arm && $0.size.nonEmbedding > 0 }
            let bars = cs.map { c in
                SVGPlot.ErrorBar(
                    x: Double(c.size.nonEmbedding) * dodge(k, of: arms.count), y: c.delta,
                    lower: c.interval?.lower ?? c.delta, upper: c.interval?.upper ?? c.delta)
            }
            var line = st
            line.marker = .none
            line.width = 1.2
            series.append(.line(bars.map { SVGPlot.Point($0.x, $0.y) }, line))
            series.append(.errorBars(bars, st))
        }
        let allN = a.sizes.map { Double($0.nonEmbedding) }.filter { $0 > 0 }
        let noCI = a.comparisons.filter { $0.interval == nil }.map { "\($0.arm) at \(a.label($0.size))" }
        let panel = SVGPlot.Panel(
            title: "",
            x: SVGPlot.Axis(
                "non-embedding parameters N", scale: .log10, format: .si,
                include: allN),
            y: SVGPlot.Axis("Δ final loss vs \(a.baseline) (\(a.metric.unit))", include: [0]),
            series: series, emptyText: "no comparison with \(a.baseline)")
        let figure = SVGPlot.Figure(
            title: "Gap to \(a.baseline) vs model size (95 % CI; above 0 = worse)",
            panels: [panel], panelWidth: 620, panelHeight: 380,
            legend: legend(a, arms: arms),
            footnotes: noCI.isEmpty
                ? []
                : [
                    "No CI (n too small or no spread): "
                        + noCI.joined(separator: ", ") + "."
                ])
        return Output(fileName: "gap.svg", svg: figure.render())
    }

    // 4. Tokens needed to reach the baseline's end-of-curve loss, relative to the baseline's own.
    static func tokensToTarget(_ a: GridAnalysis) -> Output {
        var series: [SVGPlot.Series] = [.horizontalLine(y: 1, color: "#000000", dash: "4 3")]
        let arms = a.comparedArms
        var notReached = [String]()
        for arm in arms {
            let sizes = a.sizes.filter { s in
                a.tokensToTarget[.init(arm: arm, size: s)].map { $0.tokens == nil } ?? false
            }
            if !sizes.isEmpty { notReached.append("\(arm) at \(sizes.map { a.label($0) }.joined(separator: ", "))") }
        }
        for (k, arm) in arms.enumerated() {
            let pts = a.sizes.compactMap { s -> SVGPlot.Point? in
                guard s.nonEmbedding > 0, let r = a.tokensToTarget[.init(arm: arm, size: s)]?.ratio else { return nil }
                return SVGPlot.Point(Double(s.nonEmbedding) * dodge(k, of: arms.count), r)
            }
            var st = style(a, arm)
            st.width = 1.4
            series.append(.line(pts, st))
        }
        let allN = a.sizes.map { Double($0.nonEmbedding) }.filter { $0 > 0 }
        let panel = SVGPlot.Panel(
            title: "",
            x: SVGPlot.Axis(
                "non-embedding parameters N", scale: .log10, format: .si,
                include: allN),
            y: SVGPlot.Axis(
                "tokens to reach \(a.baseline)'s end-of-curve loss (× \(a.baseline))",
                scale: .log10, include: [1]),
            series: series, emptyText: "no arm reaches \(a.baseline)'s end-of-curve loss")
        let figure = SVGPlot.Figure(
            title: "Tokens needed to reach \(a.baseline)'s end-of-curve loss (below 1 = faster)",
            panels: [panel], panelWidth: 620, panelHeight: 380,
            legend: legend(a, arms: arms),
            footnotes: notReached.isEmpty
                ? []
                : [
                    "Not reached within the budget: "
                        + notReached.joined(separator: "; ") + "."
                ])
        return Output(fileName: "tokens_to_target.svg", svg: figure.render())
    }

    static func nonEmbeddingText(_ s: ModelShape) -> String {
        s.nonEmbedding > 0 ? " (N = \(AxisMap.siLabel(Double(s.nonEmbedding))))" : ""
    }
}
