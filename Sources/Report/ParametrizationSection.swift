import Foundation
import Stats

/// The report's μP-decomposition section (`MuPDecomposition`): the 2×2 table per size and the paired effects.
enum ParametrizationSection {
    static func quadrantText(_ q: MuPDecomposition.Quadrant) -> String {
        "\(q.network == "mup" ? "μP" : "SP") network + \(q.scaledTable ? "μP-scaled" : "plain") table"
    }

    static func label(_ d: MuPDecomposition, _ s: ModelShape) -> String { d.sizeLabels[s] ?? s.label }

    static func findings(_ d: MuPDecomposition) -> String {
        var s = ""
        for effect in MuPDecomposition.Effect.allCases {
            let ts = d.effects.filter { $0.effect == effect }
            guard !ts.isEmpty else { continue }
            let lower = ts.filter { Markdown.significantP($0.holmPValue) && $0.delta < 0 }.count
            let higher = ts.filter { Markdown.significantP($0.holmPValue) && $0.delta > 0 }.count
            let tested = ts.filter { $0.pValue != nil }.count
            s += "- μP decomposition, **\(effect.rawValue)**: "
            if tested == 0 {
                s += "no test possible at any size"
            } else if lower == 0 && higher == 0 {
                s += "not distinguishable from 0 \(Markdown.tested(sizes: tested)) at this n"
            } else {
                var parts = [String]()
                let noun = effect == .interaction ? "the combination does better than the sum of its parts" : "lowers the loss"
                let opposite = effect == .interaction ? "the combination does worse than the sum of its parts" : "raises the loss"
                if lower > 0 { parts.append("\(noun) at \(lower) of \(ts.count) sizes") }
                if higher > 0 { parts.append("\(opposite) at \(higher) of \(ts.count) sizes") }
                s += parts.joined(separator: ", ") + " (family-wise α = 0.05, Holm)"
            }
            s += "; Δ by size: " + ts.map { "\(label(d, $0.size)) \(Format.signed($0.delta))" }.joined(separator: ", ") + " \(d.unit).\n"
        }
        return s
    }

    static func section(_ d: MuPDecomposition, level: Double, tunedLR: Bool) -> String {
        var s = "Which part of μP helps: the network (hidden learning rates ÷ width, attention 1/d, readout multiplier) "
        s += "or the input table (σ_base and input multiplier α_in). A table counts as μP-scaled when its recorded "
        s += "`strategy_options.input_multiplier` is not 1 (the `mup` strategy's default is 10). Arms: "
        s += MuPDecomposition.quadrants.map { "\(quadrantText($0)) = `\(d.arms[$0]!)`" }.joined(separator: "; ")
        s += tunedLR ? " — each at its own best learning rate.\n\n" : ".\n\n"
        s += "### Final validation loss, 2×2\n\n"
        s += "Mean ± half-width of the \(Markdown.pct(level)) Student-t interval over seeds (n finished runs).\n\n"
        s += "| size | table | SP network | μP network |\n|---|---|---:|---:|\n"
        for size in d.sizes {
            for scaled in [false, true] {
                s += "| \(label(d, size)) | \(scaled ? "μP-scaled" : "plain") | "
                s +=
                    ["sp", "mup"].map { net -> String in
                        guard let m = d.means[size]?[.init(network: net, scaledTable: scaled)] else { return "—" }
                        return "\(Format.loss(m.mean))" + (m.halfWidth.map { " ± \(Format.fixed($0, 4))" } ?? "") + " (n = \(m.n))"
                    }.joined(separator: " | ") + " |\n"
            }
        }
        s += "\n### Effects\n\n"
        s += "Δ final validation loss (\(d.unit); negative = the μP part lowers the loss): μP network = (μP network, plain) − "
        s += "(SP, plain); μP table = (SP, μP table) − (SP, plain); both = (μP, μP table) − (SP, plain); interaction = "
        s += "[(μP, μP table) − (μP, plain)] − [(SP, μP table) − (SP, plain)]. Paired t-tests over the seeds every "
        s += "involved arm has; p \(Markdown.holm(over: d.effects.filter { $0.pValue != nil }.count, of: "this table")).\n\n"
        s += "| size | effect | Δ | \(Markdown.pct(level)) CI (unadjusted) | p | p (Holm) | pairs | note |\n"
        s += "|---|---|---:|---|---:|---:|---:|---|\n"
        for t in d.effects {
            s += "| \(label(d, t.size)) | \(t.effect.rawValue) | \(Format.signed(t.delta)) | "
            s += "\(t.interval.map { Format.interval($0.lower, $0.upper) } ?? "—") | \(t.pValue.map(Format.p) ?? "—") | "
            s += "\(t.holmPValue.map(Format.p) ?? "—") | \(t.pairs) | \(t.note ?? "") |\n"
        }
        return s
    }
}
