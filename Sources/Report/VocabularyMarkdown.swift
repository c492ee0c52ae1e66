import Foundation
import Stats

/// The report's vocabulary section and its small additions to the shared tables (hooks in Markdown.swift).
enum VocabularyMarkdown {
    /// `## Vocabulary`: final bpb per strategy and vocabulary, the gap `arm − baseline` per vocabulary (the Δ table's
    /// comparisons ordered by vocabulary), and each cell's training cost.
    static func section(_ a: GridAnalysis, _ v: VocabularyAnalysis, figures: [String]) -> String {
        let pct = Markdown.pct(v.level)
        var s = "Vocabulary is an axis of its own here, not a model size: sizes are model shapes (d_model, n_layer, "
        s += "n_head), N leaves out the output head's V·d, and no scaling law is fitted across vocabularies. Bits per "
        s += "byte throughout.\n\n"
        if figures.contains("vocab_bpb.svg") {
            s += "![Final bits per byte vs vocabulary size](vocab_bpb.svg)\n\n"
            s += "**Figure V1.** Final validation bits per byte vs vocabulary size (log₂ axis), mean ± \(pct) Student-t "
            s += "interval over seeds per strategy (points dodged sideways for legibility).\n\n"
        }
        if figures.contains("vocab_gap.svg") {
            s += "![strategy − \(v.baseline) vs vocabulary size](vocab_gap.svg)\n\n"
            s += "**Figure V2.** Strategy − `\(v.baseline)` in final bits per byte at each vocabulary size (the Δ of the "
            s += "comparison table), with its \(pct) CI (paired t over seed-matched runs, or Welch t); above 0 = `\(v.baseline)` better.\n\n"
        }
        for shape in v.shapes {
            if v.shapes.count > 1 { s += "### \(shape.label)\n\n" }
            s += "Final validation bits per byte (mean ± half-width of the \(pct) t interval, n runs) and the mean "
            s += "training cost per run (summary.json `train_bytes`, `train_flops`; “—” for runs written before they were recorded).\n\n"
            s += "| V | strategy | final bpb | train bytes | train FLOPs | tokens |\n|---:|---|---:|---:|---:|---:|\n"
            for size in v.vocabularies {
                for arm in v.arms {
                    guard let c = v.cell(arm, shape, size) else { continue }
                    let final =
                        c.final.halfWidth.map { "\(Format.loss(c.final.mean)) ± \(Format.fixed($0, 4)) (n = \(c.final.n))" }
                        ?? "\(Format.loss(c.final.mean)) (n = \(c.final.n))"
                    s += "| \(size) | `\(arm)` | \(final) | \(c.trainBytes.map { Format.count(Int($0.rounded())) } ?? "—") | "
                    s += "\(c.trainFlops.map(Format.sig) ?? "—") | \(c.tokens.map(Format.tokens) ?? "—") |\n"
                }
            }
            let gaps = v.gaps(shape)
            guard !gaps.isEmpty else {
                s += "\nNo vocabulary has finished runs of both `\(v.baseline)` and another strategy: no gap.\n\n"
                continue
            }
            let tests = a.comparisons.filter { $0.pValue != nil }.count
            s += "\nΔ = strategy − `\(v.baseline)` in final bits per byte (positive: the strategy is worse): the comparisons "
            s += "of the Δ table, by vocabulary; p two-sided, \(Markdown.holm(over: tests, of: "that table")).\n\n"
            s += "| strategy | V | Δ | \(pct) CI (unadjusted) | test | p | p (Holm) | n | note |\n"
            s += "|---|---:|---:|---|---|---:|---:|---|---|\n"
            for g in gaps {
                s += "| `\(g.arm)` | \(g.size.vocabSize) | \(Format.signed(g.delta)) | "
                s += "\(g.interval.map { Format.interval($0.lower, $0.upper) } ?? "—") | \(g.test.rawValue) | "
                s += "\(g.pValue.map(Format.p) ?? "—") | \(g.holmPValue.map(Format.p) ?? "—") | \(g.nText) | \(g.note ?? "") |\n"
            }
            s += "\n"
        }
        return s
    }

    /// Bits per byte beside a nats-per-token cell (" · 1.2345 bits/byte") when every run of the cell recorded it.
    static func beside(_ a: GridAnalysis, _ c: GridAnalysis.Cell) -> String {
        guard a.metric.kind == .natsPerToken else { return "" }
        let values = c.runs.compactMap(\.finalValBpb)
        guard values.count == c.runs.count, !values.isEmpty else { return "" }
        return " · \(Format.loss(values.reduce(0, +) / Double(values.count))) bits/byte"
    }
}
