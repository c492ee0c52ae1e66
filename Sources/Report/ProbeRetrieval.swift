import Foundation
import RunFormat
import Stats

/// The retrieval probe of a grid (the embedding-scaling study's measurement: each input table alone — tokenizer +
/// table + mean pooling — ranks validation passages by cosine, scored by MAP): per arm × size the mean over seeds of
/// each variant, MAP over training, and the nearest tokens of a few words at the largest size.
public struct RetrievalAnalysis: Sendable {
    public struct Cell: Sendable {
        public let n: Int
        public let dModel: Int
        public let trained: MeanSummary?
        public let initial: MeanSummary?
        public let random: MeanSummary?
        public let cropped: MeanSummary?
        public let croppedWidth: Int?
        public let padded: MeanSummary?
        public let paddedWidth: Int?
        public let tfidf: MeanSummary?
        /// Mean MAP over seeds at each snapshot fraction (empty without snapshots).
        public let overTraining: [ProbeAnalysis.DriftPoint]
    }

    /// The neighbours of one run (the lowest seed) of an arm at the largest size.
    public struct NeighbourRun: Sendable {
        public let arm: String
        public let run: String
        public let neighbours: [ProbeReport.Neighbours]
        public let skipped: [String]
    }

    public let cells: [ProbeAnalysis.Key: Cell]
    /// Passages, works, tokens per passage (from the first probed run; equal for one tokenizer).
    public let passages: Int?, works: Int?, passageLength: Int?, perWork: Int?
    /// The lowest and highest chance-level MAP over the probed runs (one value for one tokenizer); nil when no run's
    /// probes record it (written before it existed).
    public let chance: ClosedRange<Double>?
    public let neighbours: [NeighbourRun]
    public let largest: ModelShape?
    public var hasRetrieval: Bool { !cells.isEmpty }

    public func cell(_ arm: String, _ size: ModelShape) -> Cell? { cells[.init(arm: arm, size: size, kind: .input)] }

    init(_ a: GridAnalysis) {
        var cells = [ProbeAnalysis.Key: Cell]()
        var first: ProbeReport.Retrieval?
        var chances: [Double] = []
        for arm in a.arms {
            for size in a.sizes {
                guard let c = a.cell(arm, size) else { continue }
                let runs = c.runs.filter { $0.state == .finished && $0.probes?.retrieval != nil }
                guard !runs.isEmpty else { continue }
                let r = runs.map { $0.probes!.retrieval! }
                first = first ?? r.first
                chances += r.compactMap(\.chance)
                func summary(_ f: (ProbeReport.Retrieval) -> Double?) -> MeanSummary? {
                    ProbeAnalysis.summary(r.map(f), level: a.level)
                }
                let perRun = runs.map { run -> [Double: Double] in
                    var m = [Double: Double]()
                    for s in run.probes!.snapshots { if let v = s.retrievalMAP, v.isFinite { m[(s.fraction * 1e9).rounded() / 1e9] = v } }
                    return m
                }.filter { !$0.isEmpty }
                let curve = GridAnalysis.meanOverRuns(perRun, level: a.level).map {
                    ProbeAnalysis.DriftPoint(
                        fraction: $0.x, mean: $0.summary.mean, lower: $0.summary.interval?.lower, upper: $0.summary.interval?.upper,
                        n: $0.n)
                }
                cells[.init(arm: arm, size: size, kind: .input)] = Cell(
                    n: runs.count, dModel: size.dModel, trained: summary(\.trained), initial: summary(\.initial),
                    random: summary(\.random), cropped: summary(\.cropped), croppedWidth: r.compactMap(\.croppedWidth).min(),
                    padded: summary(\.padded), paddedWidth: r.compactMap(\.paddedWidth).max(), tfidf: summary(\.tfidf),
                    overTraining: curve)
            }
        }
        self.cells = cells
        (passages, works, passageLength, perWork) = (first?.passages, first?.works, first?.passageLength, first?.perWork)
        chance = chances.min().map { $0...chances.max()! }
        let largest = a.sizes.filter { size in a.arms.contains { a.cell($0, size)?.runs.contains { $0.probes?.neighbours != nil } ?? false } }.last
        self.largest = largest
        neighbours = a.arms.compactMap { arm in
            guard let largest, let c = a.cell(arm, largest) else { return nil }
            guard let run = c.runs.filter({ $0.state == .finished && $0.probes?.neighbours != nil }).min(by: { $0.seed < $1.seed })
            else { return nil }
            return NeighbourRun(arm: arm, run: run.id, neighbours: run.probes!.neighbours!, skipped: run.probes!.neighboursSkipped ?? [])
        }
    }
}

extension Markdown {
    static func retrievalSection(_ a: GridAnalysis, _ r: RetrievalAnalysis, figures: [String]) -> String {
        guard r.hasRetrieval else { return "" }
        var s = "\n### Retrieval by the input table alone\n\n"
        s += "The embedding-scaling study's probe: each passage is the mean of its tokens' rows in the input table (no "
        s += "transformer layer); every passage queries all others by cosine, relevant = the same work; score = mean "
        s += "average precision (MAP, scikit-learn's definition). Passages: "
        if let n = r.passages, let w = r.works, let l = r.passageLength, let k = r.perWork {
            s += "\(n) windows of \(l) tokens of the validation text of \(w) works (at most \(k) per work, seeded). "
        }
        s += "Variants: the trained table; its init (snapshot 0); *random* = a xavier-normal table of the same shape "
        s += "from one seed shared by all runs; *cropped* = the trained table's first k columns (k = the grid's smallest "
        s += "d_model); *padded* = widened to the largest d_model with noise columns at the table's own RMS; TF-IDF = "
        s += "bag of tokens without any table (what token overlap alone gives). Mean ± half-width of the "
        s += "\(pct(a.level)) t interval over seeds."
        if let c = r.chance {
            let low = Format.fixed(c.lowerBound, 3), high = Format.fixed(c.upperBound, 3)
            let value = low == high ? low : "\(low)–\(high)"
            s += " Chance level: MAP \(value), what a random ranking of the passages scores on average (exact, from "
            s += "the number of passages per work)."
        }
        s += "\n\n| strategy | size | n | trained | init | random | cropped | padded | TF-IDF |\n"
        s += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for size in a.sizes {
            for arm in a.arms {
                guard let c = r.cell(arm, size) else { continue }
                let crop = c.croppedWidth.map { " (k = \($0))" } ?? ""
                let pad = c.paddedWidth.map { " (to \($0))" } ?? ""
                s += "| `\(arm)` | \(a.label(size)) (D = \(c.dModel)) | \(c.n) | \(meanText(c.trained, 3)) | "
                s += "\(meanText(c.initial, 3)) | \(meanText(c.random, 3)) | "
                s += c.cropped == nil ? "— | " : "\(meanText(c.cropped, 3))\(crop) | "
                s += c.padded == nil ? "— | " : "\(meanText(c.padded, 3))\(pad) | "
                s += "\(meanText(c.tfidf, 3)) |\n"
            }
        }
        s += "\n— = not measured (no init snapshot; cropping or padding to the table's own width).\n"
        if figures.contains(Figures.retrievalFileName) {
            s += "\n![Retrieval MAP vs embedding dimension](\(Figures.retrievalFileName))\n\n"
            s += "**Figure 7.** Left: retrieval MAP of the trained input tables vs embedding dimension D (log x), mean ± "
            s += "\(pct(a.level)) t interval over seeds, one solid line per strategy; dashed: the same tables cropped to "
            s += "the smallest width; grey: the shared-seed random table; dotted: TF-IDF. Right (when runs have "
            s += "snapshots): MAP at each snapshot vs the fraction of training (log x), one panel per size.\n"
        }
        if !r.neighbours.isEmpty, let largest = r.largest {
            s += "\n**Nearest tokens** (cosine in the final input table, 8 nearest; \(a.label(largest)), lowest seed of "
            s += "each strategy):\n\n"
            let words = r.neighbours.flatMap { $0.neighbours.map(\.word) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            s += "| word | " + r.neighbours.map { "`\($0.arm)`" }.joined(separator: " | ") + " |\n"
            s += "|---|" + r.neighbours.map { _ in "---|" }.joined() + "\n"
            for word in words {
                s += "| `\(tokenCell(word))` | "
                s +=
                    r.neighbours.map { run in
                        guard let n = run.neighbours.first(where: { $0.word == word }) else { return "—" }
                        return n.nearest.map { "`\(tokenCell($0.text))`" }.joined(separator: " ")
                    }.joined(separator: " | ") + " |\n"
            }
            let skipped = Set(r.neighbours.flatMap(\.skipped)).sorted()
            if !skipped.isEmpty {
                s += "\nNot a single token in the tokenizer, so left out: \(skipped.map { "`\(tokenCell($0))`" }.joined(separator: ", ")).\n"
            }
        }
        return s
    }

    /// A token's text inside a Markdown table cell: visible spaces and newlines, other control characters as `\xNN`,
    /// no pipes or backticks.
    static func tokenCell(_ t: String) -> String {
        t.unicodeScalars.map { c -> String in
            switch c {
            case " ": return "·"
            case "\n": return "↵"
            case "|": return "¦"
            case "`": return "ˋ"
            default: return c.value < 0x20 || c.value == 0x7f ? String(format: "\\x%02x", c.value) : String(c)
            }
        }.joined()
    }
}

extension Figures {
    static let retrievalFileName = "probe_retrieval.svg"

    // 7. Retrieval MAP vs embedding dimension (the study's figure), and MAP over training per size.
    static func retrieval(_ a: GridAnalysis, _ r: RetrievalAnalysis) -> Output {
        let widths = Set(r.cells.values.map { Double($0.dModel) }).sorted()
        var series = [SVGPlot.Series]()
        let grey = SVGPlot.Style(color: "#777777", marker: .square, dash: "5 4", width: 1.2)
        func points(_ arm: String, _ value: (RetrievalAnalysis.Cell) -> MeanSummary?) -> [SVGPlot.ErrorBar] {
            a.sizes.compactMap { size in
                guard let c = r.cell(arm, size), let m = value(c) else { return nil }
                return SVGPlot.ErrorBar(
                    x: Double(c.dModel), y: m.mean, lower: m.interval?.lower ?? m.mean, upper: m.interval?.upper ?? m.mean)
            }.sorted { $0.x < $1.x }
        }
        // One random line and one TF-IDF line per vocabulary: the random table depends only on the shape (so it is
        // averaged over arms at each width), TF-IDF only on the tokenizer. Cells in the analysis' order, so the
        // figure is the same on every run.
        let ordered = a.sizes.flatMap { size in a.arms.compactMap { arm in r.cell(arm, size).map { (size, $0) } } }
        let vocabularies = Set(ordered.map(\.0.vocabSize)).sorted()
        for vocabSize in vocabularies {
            let cells = ordered.filter { $0.0.vocabSize == vocabSize }.map(\.1)
            var randomByWidth = [Double: [Double]]()
            for c in cells { if let m = c.random { randomByWidth[Double(c.dModel), default: []].append(m.mean) } }
            let randomLine = randomByWidth.keys.sorted().map {
                SVGPlot.Point($0, randomByWidth[$0]!.reduce(0, +) / Double(randomByWidth[$0]!.count))
            }
            if !randomLine.isEmpty { series.append(.line(randomLine, grey)) }
            if let t = cells.compactMap(\.tfidf).first { series.append(.horizontalLine(y: t.mean, color: "#444444", dash: "2 3")) }
        }
        for (k, arm) in a.arms.enumerated() {
            let st = style(a, arm)
            let trained = points(arm, \.trained).map { bar in
                var b = bar
                b.x *= dodge(k, of: a.arms.count)
                return b
            }
            guard !trained.isEmpty else { continue }
            series += VocabularyFigures.connected(trained, st)
            let cropped = points(arm, \.cropped)
            if !cropped.isEmpty {
                var dashed = st
                dashed.dash = "5 3"
                dashed.width = 1.1
                series.append(.line(cropped.map { SVGPlot.Point($0.x, $0.y) }, dashed))
            }
        }
        var panels = [
            SVGPlot.Panel(
                title: "retrieval MAP vs embedding dimension",
                x: SVGPlot.Axis("embedding dimension D", scale: .log10, format: .shortest, include: widths),
                y: SVGPlot.Axis("MAP", include: [0]), series: series)
        ]
        for size in a.sizes {
            var curves = [SVGPlot.Series]()
            for arm in a.arms {
                guard let c = r.cell(arm, size) else { continue }
                let pts = c.overTraining.filter { $0.fraction > 0 }
                guard !pts.isEmpty else { continue }
                var line = style(a, arm)
                line.marker = .circle
                curves.append(.line(pts.map { SVGPlot.Point(100 * $0.fraction, $0.mean) }, line))
            }
            guard !curves.isEmpty else { continue }
            panels.append(
                SVGPlot.Panel(
                    title: "MAP over training, \(a.label(size))",
                    x: SVGPlot.Axis("% of training", scale: .log10, format: .shortest, include: [100]),
                    y: SVGPlot.Axis("MAP", include: [0]), series: curves))
        }
        var legendEntries = legend(a, arms: a.arms.filter { arm in a.sizes.contains { r.cell(arm, $0) != nil } })
        legendEntries.append(SVGPlot.LegendEntry("random (shared seed)", grey))
        legendEntries.append(SVGPlot.LegendEntry("TF-IDF", SVGPlot.Style(color: "#444444", dash: "2 3")))
        let figure = SVGPlot.Figure(
            title: "Retrieval MAP of the input table alone (mean-pooled passages; mean ± \(Markdown.pct(a.level)) t interval)",
            panels: panels, columns: min(panels.count, 3), panelWidth: 360, panelHeight: 280, legend: legendEntries,
            footnotes: ["Dashed coloured lines: the trained tables cropped to the smallest width (plotted at their full width)."]
                + (vocabularies.count > 1
                    ? [
                        "One grey and one dotted line per vocabulary (V = \(vocabularies.map(String.init).joined(separator: ", "))): "
                            + "the random table and TF-IDF depend on it."
                    ]
                    : []))
        return Output(fileName: retrievalFileName, svg: figure.render())
    }
}
