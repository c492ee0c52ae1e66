import Foundation

/// A small, dependency-free SVG plotter: figures made of panels with linear or log₁₀ axes, nice ticks, lines,
/// translucent bands, scatter markers and vertical error bars, a shared legend and a title. Output is
/// deterministic (fixed-precision coordinates, no ids that depend on time or memory).
public enum SVGPlot {
    /// log2: for quantities that double (vocabulary sizes), major ticks at powers of two.
    public enum Scale: Sendable { case linear, log10, log2 }

    /// How tick labels are written: plain decimals (the same number of decimals on every tick), each tick with
    /// its own shortest decimals (0.5, 1, 2: for log axes spanning decades), or SI suffixes (12k, 3.4M) for counts.
    public enum TickFormat: Sendable { case decimal, shortest, si }

    public struct Axis: Sendable {
        public var label: String
        public var scale: Scale
        public var format: TickFormat
        /// Values that must lie inside the axis range (e.g. 0 for a gap axis).
        public var include: [Double]
        public init(_ label: String, scale: Scale = .linear, format: TickFormat = .decimal, include: [Double] = []) {
            self.label = label; self.scale = scale; self.format = format; self.include = include
        }
    }

    public enum Marker: Sendable, CaseIterable { case circle, square, triangle, diamond, triangleDown, none }

    public struct Style: Sendable {
        public var color: String
        public var marker: Marker
        public var dash: String?
        public var width: Double
        public init(color: String, marker: Marker = .none, dash: String? = nil, width: Double = 1.8) {
            self.color = color; self.marker = marker; self.dash = dash; self.width = width
        }
    }

    public struct Point: Sendable, Equatable {
        public var x: Double, y: Double
        public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
    }

    public struct ErrorBar: Sendable, Equatable {
        public var x: Double, y: Double, lower: Double, upper: Double
        public init(x: Double, y: Double, lower: Double, upper: Double) {
            self.x = x; self.y = y; self.lower = lower; self.upper = upper
        }
    }

    public enum Series: Sendable {
        /// A polyline (markers drawn at the points when the style has one).
        case line([Point], Style)
        /// A translucent polygon between `lower` and `upper` over x.
        case band(x: [Double], lower: [Double], upper: [Double], color: String, opacity: Double)
        /// Markers only.
        case scatter([Point], Style)
        /// Vertical error bars with caps, and a marker at y.
        case errorBars([ErrorBar], Style)
        /// A horizontal reference line across the panel.
        case horizontalLine(y: Double, color: String, dash: String?)
        /// A vertical reference line across the panel.
        case verticalLine(x: Double, color: String, dash: String?)
    }

    public struct Panel: Sendable {
        public var title: String
        public var x: Axis
        public var y: Axis
        public var series: [Series]
        /// Text shown in the middle of an empty panel.
        public var emptyText: String
        public init(title: String, x: Axis, y: Axis, series: [Series], emptyText: String = "no data") {
            self.title = title; self.x = x; self.y = y; self.series = series; self.emptyText = emptyText
        }
    }

    public struct LegendEntry: Sendable {
        public var label: String
        public var style: Style
        /// Draw a band swatch behind the line sample.
        public var band: Bool
        public init(_ label: String, _ style: Style, band: Bool = false) {
            self.label = label; self.style = style; self.band = band
        }
    }

    public struct Figure: Sendable {
        public var title: String
        public var panels: [Panel]
        public var columns: Int
        public var panelWidth: Double
        public var panelHeight: Double
        public var legend: [LegendEntry]
        /// Lines of small print below the panels (e.g. what could not be drawn).
        public var footnotes: [String]
        public init(
            title: String, panels: [Panel], columns: Int? = nil, panelWidth: Double = 380,
            panelHeight: Double = 280, legend: [LegendEntry] = [], footnotes: [String] = []
        ) {
            self.title = title; self.panels = panels; self.footnotes = footnotes
            self.columns = max(1, min(columns ?? panels.count, max(panels.count, 1)))
            self.panelWidth = panelWidth; self.panelHeight = panelHeight; self.legend = legend
        }

        public func render() -> String { Renderer(figure: self).render() }
    }

    /// Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), black first, yellow last (weak on white).
    public static let palette = [
        "#000000", "#E69F00", "#0072B2", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
        "#F0E442",
    ]
    public static let markers: [Marker] = [.circle, .square, .triangle, .diamond, .triangleDown]
}

// MARK: - Axis mapping and ticks

/// Maps data values to pixels along one axis and chooses its ticks (public for tests and other figures).
public struct AxisMap {
    public let scale: SVGPlot.Scale
    /// Range in transformed units (log₁₀ for log axes).
    public let lo: Double, hi: Double
    public let pixelLo: Double, pixelHi: Double

    public init(scale: SVGPlot.Scale, lo: Double, hi: Double, pixelLo: Double, pixelHi: Double) {
        self.scale = scale; self.lo = lo; self.hi = hi; self.pixelLo = pixelLo; self.pixelHi = pixelHi
    }

    func t(_ v: Double) -> Double { AxisMap.transform(v, scale) }
    static func transform(_ v: Double, _ scale: SVGPlot.Scale) -> Double {
        switch scale {
        case .linear: return v
        case .log10: return log10(v)
        case .log2: return log2(v)
        }
    }
    func valid(_ v: Double) -> Bool { v.isFinite && (scale == .linear || v > 0) }
    public func pixel(_ v: Double) -> Double { pixelLo + (t(v) - lo) / (hi - lo) * (pixelHi - pixelLo) }

    /// The range covering `values` (transformed), padded by 5 %, never empty.
    static func range(_ values: [Double], scale: SVGPlot.Scale) -> (Double, Double) {
        let ts = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }.map { transform($0, scale) }
        guard var lo = ts.min(), var hi = ts.max() else { return (0, 1) }
        if hi - lo < 1e-12 {
            let pad = scale == .log10 ? 0.15 : scale == .log2 ? 0.5 : max(abs(lo) * 0.05, 0.05)
            lo -= pad; hi += pad
        } else {
            let pad = (hi - lo) * 0.05
            lo -= pad; hi += pad
        }
        return (lo, hi)
    }

    /// Major ticks (values in data units) and minor ticks (log axes only).
    public func ticks() -> (major: [Double], minor: [Double]) {
        switch scale {
        case .linear:
            return (AxisMap.linearTicks(lo, hi), [])
        case .log2:
            // Every power of two in range (every second one beyond 12 doublings).
            let k0 = Int(ceil(lo - 1e-9)), k1 = Int(floor(hi + 1e-9))
            guard k0 <= k1 else { return (AxisMap.linearTicks(pow(2, lo), pow(2, hi)).filter { $0 > 0 }, []) }
            let step = k1 - k0 > 12 ? 2 : 1
            return (stride(from: k0, through: k1, by: step).map { pow(2, Double($0)) }, [])
        case .log10:
            let decades = hi - lo
            var major = [Double](), minor = [Double]()
            let k0 = Int(floor(lo)), k1 = Int(ceil(hi))
            let mantissas: [Double] = decades >= 3 ? [1] : decades >= 1.2 ? [1, 2, 5] : [1, 2, 3, 5]
            for k in k0...k1 {
                for m in 1...9 {
                    let v = Double(m) * pow(10, Double(k))
                    let tv = log10(v)
                    guard tv >= lo - 1e-9, tv <= hi + 1e-9 else { continue }
                    if mantissas.contains(Double(m)) { major.append(v) } else { minor.append(v) }
                }
            }
            if major.count < 3 {
                // Less than a decade: nice linear ticks, placed logarithmically.
                major = AxisMap.linearTicks(pow(10, lo), pow(10, hi)).filter { $0 > 0 }
                minor = []
            }
            return (major, decades > 4 ? [] : minor)
        }
    }

    public static func linearTicks(_ lo: Double, _ hi: Double, target: Double = 5) -> [Double] {
        let step = niceStep((hi - lo) / target)
        guard step > 0, step.isFinite else { return [lo] }
        var out = [Double]()
        var k = (lo / step).rounded(.up)
        while k * step <= hi + step * 1e-9 {
            // Integer multiples of the step, cleaned of binary noise (3 × 0.2 = 0.6000000000000001).
            let v = Double(String(format: "%.12g", k * step))!
            out.append(v == 0 ? 0 : v)
            k += 1
        }
        return out
    }

    /// 1, 2, 2.5 or 5 × 10ᵏ closest above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let k = floor(log10(raw))
        let base = pow(10, k)
        let f = raw / base
        let m: Double = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10
        return m * base
    }

    /// Tick labels: the fewest decimals that tell all ticks apart, or SI suffixes.
    public static func labels(_ ticks: [Double], format: SVGPlot.TickFormat) -> [String] {
        switch format {
        case .si:
            return ticks.map(siLabel)
        case .shortest:
            return ticks.map { trimmed($0, maxDigits: 6) }
        case .decimal:
            for digits in 0...6 {
                let texts = ticks.map { fixed($0, digits) }
                let exact = zip(ticks, texts).allSatisfy { abs((Double($1) ?? .nan) - $0) <= abs($0) * 1e-9 + 1e-12 }
                if exact && Set(texts).count == ticks.count { return texts }
            }
            return ticks.map { fixed($0, 6) }
        }
    }

    static func siLabel(_ v: Double) -> String {
        let a = abs(v)
        let (div, suffix): (Double, String) = a >= 1e9 ? (1e9, "G") : a >= 1e6 ? (1e6, "M") : a >= 1e3 ? (1e3, "k") : (1, "")
        return trimmed(v / div, maxDigits: 2) + suffix
    }

    static func trimmed(_ v: Double, maxDigits: Int) -> String {
        var s = fixed(v, maxDigits)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        let s = String(format: "%.\(digits)f", v)
        return s.hasPrefix("-") && Double(s) == 0 ? String(s.dropFirst()) : s
    }
}

// MARK: - Rendering

private struct Renderer {
    let figure: SVGPlot.Figure
    static let font = "DejaVu Sans, Helvetica, Arial, sans-serif"
    let margin = (left: 66.0, right: 16.0, top: 28.0, bottom: 48.0)

    func render() -> String {
        let f = figure
        let rows = max(1, (f.panels.count + f.columns - 1) / f.columns)
        // Wide enough for the title; panels centred when the title is wider than they are.
        let panelsWidth = Double(f.columns) * f.panelWidth
        let width = max(panelsWidth, Double(f.title.count) * 15 * 0.62 + 40)
        let xOffset = (width - panelsWidth) / 2
        let legendLayout = layoutLegend(width: width - 24)
        let headerHeight = 34 + legendLayout.height
        let panelsBottom = headerHeight + Double(rows) * f.panelHeight
        let maxChars = max(20, Int((panelsWidth - margin.left - 12) / (11 * 0.6)))
        let notes = f.footnotes.flatMap { Renderer.wrap($0, maxChars) }
        let height = panelsBottom + 6 + Double(notes.count) * 16 + (notes.isEmpty ? 0 : 6)
        var out = ""
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
        out += "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"\(Renderer.font)\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>\n"
        out += text(f.title, x: width / 2, y: 22, size: 15, anchor: "middle", weight: "bold")
        out += legendLayout.svg
        for (i, panel) in f.panels.enumerated() {
            let col = i % f.columns, row = i / f.columns
            out += renderPanel(
                panel, index: i, x0: xOffset + Double(col) * f.panelWidth,
                y0: headerHeight + Double(row) * f.panelHeight)
        }
        for (i, note) in notes.enumerated() {
            out += text(
                note, x: xOffset + margin.left, y: panelsBottom + 8 + Double(i) * 16, size: 11, anchor: "start",
                color: "#444444")
        }
        out += "</svg>\n"
        return out
    }

    /// Greedy word wrap to lines of at most `width` characters.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        var lines = [String](), current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current); current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    private func layoutLegend(width: Double) -> (svg: String, height: Double) {
        guard !figure.legend.isEmpty else { return ("", 0) }
        let rowHeight = 18.0, fontSize = 12.0
        var rows: [[(SVGPlot.LegendEntry, Double)]] = [[]]
        var used = 0.0
        for e in figure.legend {
            let w = 30 + Double(e.label.count) * fontSize * 0.6 + 18
            if used + w > width && !rows[rows.count - 1].isEmpty {
                rows.append([]); used = 0
            }
            rows[rows.count - 1].append((e, w))
            used += w
        }
        var svg = ""
        for (r, row) in rows.enumerated() {
            let total = row.reduce(0) { $0 + $1.1 }
            var x = (width + 24 - total) / 2
            let y = 40 + Double(r) * rowHeight
            for (e, w) in row {
                if e.band {
                    svg += "<rect x=\"\(n(x))\" y=\"\(n(y - 6))\" width=\"24\" height=\"12\" fill=\"\(e.style.color)\" fill-opacity=\"0.18\"/>\n"
                }
                svg +=
                    "<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(x + 24))\" y2=\"\(n(y))\" stroke=\"\(e.style.color)\" stroke-width=\"\(n(e.style.width))\"\(dash(e.style.dash))/>\n"
                svg += marker(e.style.marker, x: x + 12, y: y, color: e.style.color)
                svg += text(e.label, x: x + 30, y: y + 4, size: fontSize, anchor: "start")
                x += w
            }
        }
        return (svg, Double(rows.count) * rowHeight + 4)
    }

    private func renderPanel(_ p: SVGPlot.Panel, index: Int, x0: Double, y0: Double) -> String {
        let left = x0 + margin.left, right = x0 + figure.panelWidth - margin.right
        let top = y0 + (p.title.isEmpty ? 10 : margin.top), bottom = y0 + figure.panelHeight - margin.bottom
        var xs = [Double](), ys = [Double]()
        for s in p.series {
            switch s {
            case .line(let pts, _), .scatter(let pts, _):
                xs += pts.map(\.x); ys += pts.map(\.y)
            case .band(let x, let lo, let hi, _, _):
                xs += x; ys += lo + hi
            case .errorBars(let bars, _):
                xs += bars.map(\.x); ys += bars.flatMap { [$0.lower, $0.upper, $0.y] }
            case .horizontalLine(let y, _, _):
                ys.append(y)
            case .verticalLine(let x, _, _):
                xs.append(x)
            }
        }
        let hasData = p.series.contains { s in
            switch s {
            case .line(let pts, _), .scatter(let pts, _): return !pts.isEmpty
            case .band(let x, _, _, _, _): return !x.isEmpty
            case .errorBars(let b, _): return !b.isEmpty
            case .horizontalLine, .verticalLine: return false
            }
        }
        let (xlo, xhi) = AxisMap.range(xs + p.x.include, scale: p.x.scale)
        let (ylo, yhi) = AxisMap.range(ys + p.y.include, scale: p.y.scale)
        let mx = AxisMap(scale: p.x.scale, lo: xlo, hi: xhi, pixelLo: left, pixelHi: right)
        let my = AxisMap(scale: p.y.scale, lo: ylo, hi: yhi, pixelLo: bottom, pixelHi: top)

        var out = "<g>\n"
        out += text(p.title, x: (left + right) / 2, y: y0 + 18, size: 13, anchor: "middle", weight: "bold")
        // Grid and ticks.
        let (xMajor, xMinor) = mx.ticks(), (yMajor, yMinor) = my.ticks()
        for v in xMinor { let px = mx.pixel(v); out += gridLine(px, top, px, bottom, minor: true) }
        for v in yMinor { let py = my.pixel(v); out += gridLine(left, py, right, py, minor: true) }
        for (v, label) in zip(xMajor, AxisMap.labels(xMajor, format: p.x.format)) {
            let px = mx.pixel(v)
            out += gridLine(px, top, px, bottom, minor: false)
            out += "<line x1=\"\(n(px))\" y1=\"\(n(bottom))\" x2=\"\(n(px))\" y2=\"\(n(bottom + 4))\" stroke=\"#333333\"/>\n"
            out += text(label, x: px, y: bottom + 16, size: 11, anchor: "middle")
        }
        for (v, label) in zip(yMajor, AxisMap.labels(yMajor, format: p.y.format)) {
            let py = my.pixel(v)
            out += gridLine(left, py, right, py, minor: false)
            out += "<line x1=\"\(n(left - 4))\" y1=\"\(n(py))\" x2=\"\(n(left))\" y2=\"\(n(py))\" stroke=\"#333333\"/>\n"
            out += text(label, x: left - 7, y: py + 4, size: 11, anchor: "end")
        }
        out +=
            "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(right - left))\" height=\"\(n(bottom - top))\" fill=\"none\" stroke=\"#333333\"/>\n"
        out += text(p.x.label, x: (left + right) / 2, y: bottom + 36, size: 12, anchor: "middle")
        let yMid = (top + bottom) / 2, yLabelX = x0 + 16
        out +=
            "<text x=\"\(n(yLabelX))\" y=\"\(n(yMid))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#000000\" transform=\"rotate(-90 \(n(yLabelX)) \(n(yMid)))\">\(escape(p.y.label))</text>\n"

        // Data, clipped to the plot area.
        let clip = "clip\(index)"
        out +=
            "<clipPath id=\"\(clip)\"><rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(right - left))\" height=\"\(n(bottom - top))\"/></clipPath>\n"
        out += "<g clip-path=\"url(#\(clip))\">\n"
        // Bands first, reference lines next, then lines and markers on top.
        for s in p.series { if case .band = s { out += draw(s, mx, my) } }
        for s in p.series { if case .horizontalLine = s { out += draw(s, mx, my, left: left, right: right) } }
        for s in p.series { if case .verticalLine = s { out += draw(s, mx, my, top: top, bottom: bottom) } }
        for s in p.series {
            switch s {
            case .band, .horizontalLine, .verticalLine: continue
            default: out += draw(s, mx, my)
            }
        }
        out += "</g>\n"
        if !hasData {
            let w = Double(p.emptyText.count) * 12 * 0.6 + 16, cx = (left + right) / 2, cy = top + (bottom - top) * 0.3
            out += "<rect x=\"\(n(cx - w / 2))\" y=\"\(n(cy - 14))\" width=\"\(n(w))\" height=\"20\" fill=\"#ffffff\" stroke=\"#999999\"/>\n"
            out += text(p.emptyText, x: cx, y: cy, size: 12, anchor: "middle", color: "#444444")
        }
        out += "</g>\n"
        return out
    }

    private func draw(
        _ s: SVGPlot.Series, _ mx: AxisMap, _ my: AxisMap, left: Double = 0, right: Double = 0,
        top: Double = 0, bottom: Double = 0
    ) -> String {
        switch s {
        case .line(let pts, let style):
            let ok = pts.filter { mx.valid($0.x) && my.valid($0.y) }
            var out = ""
            if ok.count >= 2 {
                let d = ok.map { "\(n(mx.pixel($0.x))),\(n(my.pixel($0.y)))" }.joined(separator: " ")
                out +=
                    "<polyline points=\"\(d)\" fill=\"none\" stroke=\"\(style.color)\" stroke-width=\"\(n(style.width))\" stroke-linejoin=\"round\"\(dash(style.dash))/>\n"
            }
            for p in ok { out += marker(style.marker, x: mx.pixel(p.x), y: my.pixel(p.y), color: style.color) }
            return out
        case .scatter(let pts, let style):
            return pts.filter { mx.valid($0.x) && my.valid($0.y) }
                .map {
                    marker(
                        style.marker == .none ? .circle : style.marker, x: mx.pixel($0.x), y: my.pixel($0.y),
                        color: style.color)
                }
                .joined()
        case .band(let x, let lower, let upper, let color, let opacity):
            let idx = x.indices.filter { mx.valid(x[$0]) && my.valid(lower[$0]) && my.valid(upper[$0]) }
            guard idx.count >= 2 else { return "" }
            let upperPath = idx.map { "\(n(mx.pixel(x[$0]))),\(n(my.pixel(upper[$0])))" }
            let lowerPath = idx.reversed().map { "\(n(mx.pixel(x[$0]))),\(n(my.pixel(lower[$0])))" }
            return
                "<polygon points=\"\((upperPath + lowerPath).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"\(n(opacity))\" stroke=\"none\"/>\n"
        case .errorBars(let bars, let style):
            var out = ""
            for b in bars where mx.valid(b.x) && my.valid(b.y) {
                let px = mx.pixel(b.x)
                if my.valid(b.lower) && my.valid(b.upper) {
                    let lo = my.pixel(b.lower), hi = my.pixel(b.upper)
                    out += "<line x1=\"\(n(px))\" y1=\"\(n(lo))\" x2=\"\(n(px))\" y2=\"\(n(hi))\" stroke=\"\(style.color)\" stroke-width=\"1.4\"/>\n"
                    out +=
                        "<line x1=\"\(n(px - 4))\" y1=\"\(n(lo))\" x2=\"\(n(px + 4))\" y2=\"\(n(lo))\" stroke=\"\(style.color)\" stroke-width=\"1.4\"/>\n"
                    out +=
                        "<line x1=\"\(n(px - 4))\" y1=\"\(n(hi))\" x2=\"\(n(px + 4))\" y2=\"\(n(hi))\" stroke=\"\(style.color)\" stroke-width=\"1.4\"/>\n"
                }
                out += marker(style.marker == .none ? .circle : style.marker, x: px, y: my.pixel(b.y), color: style.color)
            }
            return out
        case .verticalLine(let x, let color, let d):
            guard mx.valid(x) else { return "" }
            let px = mx.pixel(x)
            return "<line x1=\"\(n(px))\" y1=\"\(n(top))\" x2=\"\(n(px))\" y2=\"\(n(bottom))\" stroke=\"\(color)\" stroke-width=\"1.2\"\(dash(d))/>\n"
        case .horizontalLine(let y, let color, let d):
            guard my.valid(y) else { return "" }
            let py = my.pixel(y)
            return "<line x1=\"\(n(left))\" y1=\"\(n(py))\" x2=\"\(n(right))\" y2=\"\(n(py))\" stroke=\"\(color)\" stroke-width=\"1.2\"\(dash(d))/>\n"
        }
    }

    private func marker(_ m: SVGPlot.Marker, x: Double, y: Double, color: String) -> String {
        let r = 3.6
        let common = "fill=\"\(color)\" stroke=\"#ffffff\" stroke-width=\"0.8\""
        switch m {
        case .none: return ""
        case .circle: return "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(r))\" \(common)/>\n"
        case .square:
            return "<rect x=\"\(n(x - r))\" y=\"\(n(y - r))\" width=\"\(n(2 * r))\" height=\"\(n(2 * r))\" \(common)/>\n"
        case .triangle:
            return
                "<polygon points=\"\(n(x)),\(n(y - r * 1.2)) \(n(x + r * 1.1)),\(n(y + r * 0.8)) \(n(x - r * 1.1)),\(n(y + r * 0.8))\" \(common)/>\n"
        case .triangleDown:
            return
                "<polygon points=\"\(n(x)),\(n(y + r * 1.2)) \(n(x + r * 1.1)),\(n(y - r * 0.8)) \(n(x - r * 1.1)),\(n(y - r * 0.8))\" \(common)/>\n"
        case .diamond:
            return
                "<polygon points=\"\(n(x)),\(n(y - r * 1.3)) \(n(x + r * 1.1)),\(n(y)) \(n(x)),\(n(y + r * 1.3)) \(n(x - r * 1.1)),\(n(y))\" \(common)/>\n"
        }
    }

    private func gridLine(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, minor: Bool) -> String {
        "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(minor ? "#f0f0f0" : "#dddddd")\" stroke-width=\"1\"/>\n"
    }

    private func dash(_ d: String?) -> String { d.map { " stroke-dasharray=\"\($0)\"" } ?? "" }

    private func text(
        _ s: String, x: Double, y: Double, size: Double, anchor: String, weight: String? = nil,
        color: String = "#000000"
    ) -> String {
        let w = weight.map { " font-weight=\"\($0)\"" } ?? ""
        return "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\" fill=\"\(color)\"\(w)>\(escape(s))</text>\n"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Coordinates with at most two decimals, trailing zeros dropped (stable text, small files).
    private func n(_ v: Double) -> String { AxisMap.trimmed(v, maxDigits: 2) }
}
