import Foundation
import Stats

/// The report's "Embedding probes" section, its findings and its methods line, written from a `ProbeAnalysis`.
extension Markdown {
    static func kindTitle(_ k: ProbeRecord.Kind) -> String { k == .input ? "Input embedding" : "Output head" }

    /// "12.3 ± 0.4" (t half-width), or the bare mean for n = 1 or no spread; "—" when undefined.
    static func meanText(_ m: MeanSummary?, _ digits: Int, signed: Bool = false) -> String {
        guard let m else { return "—" }
        let v = signed ? signedFixed(m.mean, digits) : Format.fixed(m.mean, digits)
        return m.halfWidth.map { "\(v) ± \(Format.fixed($0, digits))" } ?? v
    }

    static func signedFixed(_ x: Double, _ digits: Int) -> String {
        let s = String(format: "%+.\(digits)f", x)
        return Double(s) == 0 ? Format.fixed(0, digits) : s
    }

    static func percent(_ f: Double) -> String {
        let p = f * 100
        return p < 10 && p != p.rounded() ? String(format: "%.1f %%", p) : String(format: "%.0f %%", p)
    }

    /// A mean fraction of training with its t interval clipped to [0 %, 100 %]: "79 % [64–99 %]".
    static func fractionText(_ m: MeanSummary) -> String {
        guard let ci = m.interval else { return percent(m.mean) }
        let lo = max(0, ci.lower), hi = min(1, ci.upper)
        return "\(percent(m.mean)) [\(percent(lo).replacingOccurrences(of: " %", with: ""))–\(percent(hi))]"
    }

    static func rhoText(_ w: ProbeAnalysis.WordSimilarityCell?) -> String {
        guard let w else { return "—" }
        if w.final.n == 1, let ci = w.singleRunInterval {
            return "\(signedFixed(w.final.mean, 2)) [\(signedFixed(ci.lower, 2)), \(signedFixed(ci.upper, 2))]"
        }
        return meanText(w.final, 2, signed: true)
    }

    // MARK: section

    static func probeSection(_ a: GridAnalysis, _ p: ProbeAnalysis, figures: [String]) -> String {
        guard p.hasProbes else {
            var s = "No run folder holds a probes.json. Run `ablate probe runs/\(a.gridName)` to measure the input "
            s += "embedding and the output head of every finished run (effective rank, isotropy, word similarity, "
            s += "drift during training), then rebuild this report.\n"
            if !p.unusable.isEmpty { s += "\n" + probeProblems(p) }
            return s
        }
        let finished = a.runs.filter { $0.state == .finished }.count
        var s = "`ablate probe` measurements (probes.json) of \(p.probedRuns.count) of the \(finished) finished runs"
        s +=
            p.withoutProbes.isEmpty
            ? ".\n" : "; \(p.withoutProbes.count) finished run\(p.withoutProbes.count == 1 ? " has" : "s have") no probes.json (listed below).\n"
        s += "Mean ± half-width of the \(pct(a.level)) Student-t interval over seeds; no ± for n = 1 or no spread. "
        s += "Effective rank exp(H(σ/Σσ)) of the whole table (out of D = d_model); isotropy = mean cosine of random row "
        s += "pairs (0 = isotropic); ρ(norm, freq) = Spearman ρ of row norm vs train-token count. Word similarity: "
        s += "Spearman ρ between the cosine of word vectors and the human score, over the **in-corpus** pairs (both "
        s += "words occur in the train split; the probe's primary variant, as in `ablate probe`'s summary)"
        let cov = p.sets.compactMap { set -> String? in
            guard let c = p.coverage[set] else { return nil }
            let pairs = c.pairsMin == c.pairsMax ? "\(c.pairsMin)" : "\(c.pairsMin)–\(c.pairsMax)"
            return "\(ProbeAnalysis.setTitle(set)) \(pairs) of \(c.total) pairs (\(percent(Double(c.pairsMax) / Double(max(c.total, 1)))))"
        }
        s += cov.isEmpty ? ".\n" : "; coverage: \(cov.joined(separator: ", ")).\n"
        s += "A cell with one run shows the run's own approximate 95 % interval of ρ in brackets (Fisher z).\n"
        if !p.withoutDrift.isEmpty {
            let n = p.withoutDrift.count
            s += "\n**\(n) probed run\(n == 1 ? " has" : "s have") no drift records** (trained without snapshots): no init "
            s += "column, no stabilisation point, and a frozen table cannot be recognised as frozen there: "
            s += p.withoutDrift.map { "`\($0)`" }.joined(separator: ", ") + ".\n"
        }

        for kind in p.kinds {
            s += "\n### \(kindTitle(kind))\n\n"
            let frozen = p.frozenArms(a, kind)
            if !frozen.isEmpty {
                s += "(frozen) = the table is not trained (\(frozen.map { "`\($0)`" }.joined(separator: ", "))): its "
                s += "final numbers equal the init column up to the F16 rounding of the init snapshot.\n\n"
            }
            let setHeads = p.sets.map { "\(ProbeAnalysis.setTitle($0)) ρ" }
            s += "| strategy | size | n | eff. rank | eff. rank (init) | isotropy | ρ(norm, freq) | "
            s += setHeads.joined(separator: " | ") + " |\n"
            s += "|---|---|---:|---:|---:|---:|---:|" + p.sets.map { _ in "---:|" }.joined() + "\n"
            for size in a.sizes {
                for arm in a.arms {
                    guard let c = p.cell(arm, size, kind) else { continue }
                    s += "| `\(arm)`\(c.frozen ? " (frozen)" : "") | \(a.label(size)) (D = \(c.dModel)) | \(c.n) | "
                    s += "\(meanText(c.effectiveRank, 1)) | \(meanText(c.effectiveRankInit, 1)) | "
                    s += "\(meanText(c.isotropy, 3, signed: true)) | \(meanText(c.normFrequency, 2, signed: true)) | "
                    s += p.sets.map { rhoText(c.wordSimilarity[$0]) }.joined(separator: " | ") + " |\n"
                }
            }
        }

        s += "\n### Stabilisation during training\n\n"
        s += "Stabilised at = the fraction of training of the earliest snapshot from which on the table stays within "
        s += "\(percent(p.driftThreshold)) of its total drift from the final table (remaining drift ‖E_t − E_T‖ / "
        s += "‖E_0 − E_T‖ ≤ \(Format.fixed(p.driftThreshold, 2))); by cosine = from which on cos(E_t, E_T) ≥ "
        s += "\(Format.fixed(p.cosineThreshold, 2)). Both are upper bounds at the resolution of the snapshot grid; "
        s +=
            "100 % = not before the end of training. Mean [\(pct(a.level)) t interval, clipped to 0–100 %] over the seeds trained to a plateau (defined below; *per run* lists every run). Total drift = ‖E_T − E_0‖ / ‖E_0‖. Frozen tables do not move "
        s += "and are left out. *Not before the end* counts only runs trained to a plateau (validation loss falling by at most "
        s += "\(percent(ProbeAnalysis.lossFallLimit)) \(p.fallWindowText)); "
        s += "for the others stabilisation is not testable at their budget (*loss still falling* = the relative fall of the "
        s += "validation loss \(p.fallWindowText), range over those runs).\n\n"
        s += "| strategy | table | size | n | stabilised at (testable runs) | per run | not before the end | by cosine (per run) | total drift |\n"
        s += "|---|---|---|---:|---:|---|---:|---|---:|\n"
        var rows = 0
        for kind in p.kinds {
            for arm in a.arms {
                for size in a.sizes {
                    guard let c = p.cell(arm, size, kind), !c.frozen, !c.stabilisedAt.isEmpty else { continue }
                    rows += 1
                    let mean = c.stabilised.map { "\(fractionText($0)) (n = \($0.n))" } ?? "— (none testable)"
                    s += "| `\(arm)` | \(kind.title) | \(a.label(size)) | \(c.stabilisedAt.count) | \(mean) | "
                    let untestable = c.lossFall.filter { !ProbeAnalysis.isTestable($0) }
                    let verdict =
                        untestable.count == c.lossFall.count
                        ? notTestableText(untestable, window: p.fallWindowText, short: true)
                        : "\(c.testableStabilisedAt.filter { $0 >= 1 }.count) of \(c.testableStabilisedAt.count)"
                            + (untestable.isEmpty
                                ? "" : "; \(untestable.count) \(notTestableText(untestable, window: p.fallWindowText, short: true))")
                    s += c.stabilisedAt.map(percent).joined(separator: ", ") + " | \(verdict) | "
                    s += (c.stabilisedAtCosine.isEmpty ? "—" : c.stabilisedAtCosine.map(percent).joined(separator: ", "))
                    s += " | \(meanText(c.totalDrift, 2)) |\n"
                }
            }
        }
        if rows == 0 { s += "| — | — | — | — | — | — | — | — | no drift records (runs without snapshots) |\n" }

        s += "\n"
        if figures.contains("probes_vs_size.svg") {
            s += "![Probe metrics vs model size](probes_vs_size.svg)\n\n"
            s += "**Figure 5.** Probe metrics of the final tables vs non-embedding parameters N (log x), mean ± "
            s += "\(pct(a.level)) t interval over seeds per strategy (no bar for n = 1; points dodged sideways); "
            s += "rows: \(p.kinds.map(\.title).joined(separator: ", ")). Word similarity: "
            s += "\(ProbeAnalysis.setTitle(p.figureSet ?? "—")), in-corpus pairs. Frozen tables (dashed) sit at "
            s += "their initial values.\n\n"
        }
        if figures.contains("probe_drift.svg") {
            s += "![Remaining drift vs training fraction](probe_drift.svg)\n\n"
            s += "**Figure 6.** Remaining drift ‖E_t − E_T‖ / ‖E_0 − E_T‖ (1 at init, 0 at the end) vs the "
            s += "fraction of training (log x; the init snapshot at 0 is off the axis), mean over seeds with a "
            s += "\(pct(a.level)) t band (clipped to 0–1), one panel per size and table. Dashed: the \(Format.fixed(p.driftThreshold, 1)) "
            s +=
                "threshold; markers on it: each strategy's mean stabilisation point (dodged sideways where they coincide); dotted: 10 % of training. "
            s += "Frozen tables do not move and are not drawn.\n\n"
        }
        let retrieval = retrievalSection(a, p.retrieval, figures: figures)
        if !retrieval.isEmpty { s += retrieval + "\n" }
        if !p.withoutProbes.isEmpty || !p.unusable.isEmpty { s += probeProblems(p) }
        return s
    }

    /// "not testable at this budget (loss still falling by 4.10–5.40 % over the last 50 % of training)" for runs whose
    /// loss falls (nil: no validation curve to check) are given; `short` for table cells ("not testable (loss −2.10 …
    /// −3.40 %)", the table's caption says the rest).
    static func notTestableText(_ falls: [Double?], window: String, short: Bool = false) -> String {
        let known = falls.compactMap { $0 }
        var reasons = [String]()
        if let lo = known.min(), let hi = known.max() {
            let range = lo == hi ? percentDecimal(lo) : "\(percentDecimal(lo).replacingOccurrences(of: " %", with: ""))–\(percentDecimal(hi))"
            reasons.append(
                short
                    ? "loss still falling \(range)"
                    : "loss still falling by \(range) \(window)")
        }
        if known.count < falls.count { reasons.append("\(falls.count - known.count) without a validation curve to check") }
        return "not testable\(short ? "" : " at this budget") (\(reasons.joined(separator: "; ")))"
    }

    static func percentDecimal(_ f: Double) -> String { String(format: "%.2f %%", 100 * f) }

    static func probeProblems(_ p: ProbeAnalysis) -> String {
        var s = ""
        if !p.withoutProbes.isEmpty {
            s += "Finished runs without probes.json (not in the probe numbers; `ablate probe` on the grid folder "
            s += "probes them): \(p.withoutProbes.map { "`\($0)`" }.joined(separator: ", ")).\n"
        }
        if !p.unusable.isEmpty {
            if !s.isEmpty { s += "\n" }
            s += "probes.json not used:\n\n"
            for u in p.unusable { s += "- `\(u.id)`: \(u.reason)\n" }
        }
        return s
    }

    // MARK: findings

    static func probeFindings(_ a: GridAnalysis, _ p: ProbeAnalysis) -> String {
        guard p.hasProbes else { return "" }
        var s = ""
        // Stabilisation; the claim to test: "embeddings stabilise by ~10 % of training".
        var lines = [String]()
        for kind in p.kinds {
            for arm in p.movingArms(a, kind) {
                let all = p.stabilisation(a, arm, kind)
                guard !all.isEmpty else { continue }
                let falls = p.lossFalls(a, arm, kind)
                let values = zip(all, falls).filter { ProbeAnalysis.isTestable($0.1) }.map(\.0)
                let untestable = falls.filter { !ProbeAnalysis.isTestable($0) }
                guard !values.isEmpty else {
                    lines.append(
                        "  - `\(arm)` \(kind.title): \(notTestableText(untestable, window: p.fallWindowText)) in all \(all.count) run\(all.count == 1 ? "" : "s").\n"
                    )
                    continue
                }
                let m = MeanSummary(values, level: a.level)
                let late = values.filter { $0 >= 1 }.count
                let early = values.filter { $0 <= 0.1 }.count
                let sizes = a.sizes.filter { !(p.cell(arm, $0, kind)?.testableStabilisedAt.isEmpty ?? true) }.count
                var line = "  - `\(arm)` \(kind.title): \(fractionText(m))"
                line += " of training (\(values.count) run\(values.count == 1 ? "" : "s") over \(sizes) size\(sizes == 1 ? "" : "s")"
                line += m.halfWidth == nil ? ", no CI); " : "); "
                line += "stabilised before the end in \(values.count - late) of \(values.count), by 10 % in \(early) of \(values.count)"
                if kind == .input {
                    line +=
                        early == values.count
                        ? " — consistent with the claim"
                        : early == 0 ? " — the claim does not hold here" : " — mixed evidence for the claim"
                }
                if !untestable.isEmpty {
                    line +=
                        "; \(untestable.count) more run\(untestable.count == 1 ? "" : "s") left out: \(notTestableText(untestable, window: p.fallWindowText))"
                }
                lines.append(line + ".\n")
            }
        }
        if !lines.isEmpty {
            s += "- **When do the tables stop moving?** Claim to test: \"embeddings stabilise by ~10 % of training\". "
            s += "Stabilisation point = remaining drift ≤ \(Format.fixed(p.driftThreshold, 1)) from then on (an upper bound "
            s += "at the snapshot resolution; runs that never stabilised count as 100 %); mean [\(pct(a.level)) t interval] "
            s += "over runs pooled across sizes, clipped to 0–100 % (per size in [Stabilisation during training](#stabilisation-during-training)). "
            s += "Only runs trained to a plateau count: a run whose validation loss still fell by more than "
            s += "\(percent(ProbeAnalysis.lossFallLimit)) \(p.fallWindowText) "
            s += "was stopped while learning, so whether its tables stabilise is not testable at its budget:\n"
            s += lines.joined()
        }
        // Word similarity of the input tables that are trained, Bonferroni over the cells looked at per strategy.
        for arm in p.movingArms(a, .input) {
            let cells = a.sizes.compactMap { size in p.cell(arm, size, .input).map { (size, $0) } }
            var all = [(size: ModelShape, set: String, w: ProbeAnalysis.WordSimilarityCell)]()
            for (size, c) in cells { for set in p.sets { if let w = c.wordSimilarity[set] { all.append((size, set, w)) } } }
            guard !all.isEmpty else { continue }
            let level = 1 - (1 - a.level) / Double(all.count)
            let signals = all.filter { $0.w.signal(level: level) }
            let lo = all.map(\.w.final.mean).min()!, hi = all.map(\.w.final.mean).max()!
            var line =
                "- **Word similarity, `\(arm)` input table** (in-corpus Spearman ρ, \(p.sets.count) set\(p.sets.count == 1 ? "" : "s") × \(cells.count) size\(cells.count == 1 ? "" : "s")): "
            if signals.isEmpty {
                line += "no detectable word-similarity signal at this scale — mean ρ between \(signedFixed(lo, 2)) and "
                line += "\(signedFixed(hi, 2)); no cell's interval (t over seeds, Bonferroni over the \(all.count) cells) lies "
                line += "above both 0 and the init table's ρ."
            } else {
                let best = signals.max { $0.w.final.mean < $1.w.final.mean }!
                let ci = best.w.interval(level: level)!
                line += "ρ above 0 and above the init table in \(signals.count) of \(all.count) cells (t interval over seeds, "
                line += "Bonferroni over the \(all.count) cells); the largest: ρ = \(signedFixed(best.w.final.mean, 2)) "
                line += "[\(signedFixed(ci.lower, 2)), \(signedFixed(ci.upper, 2))] on \(ProbeAnalysis.setTitle(best.set)) at "
                line += "\(a.label(best.size))"
                if let i = best.w.initial { line += " (init table: \(signedFixed(i.mean, 2)))" }
                line +=
                    best.w.final.mean < 0.2
                    ? ". A ρ this small means the cosines barely follow human judgements: a weak signal, not learned word similarity."
                    : "."
            }
            s += line + "\n"
        }
        let frozen = p.frozenArms(a, .input)
        if !frozen.isEmpty {
            s += "- Frozen input tables (\(frozen.map { "`\($0)`" }.joined(separator: ", "))) keep their initial "
            s += "geometry and word-similarity ρ by construction; only their output heads train.\n"
        }
        return s
    }

    static func probeMethods(_ a: GridAnalysis, _ p: ProbeAnalysis) -> String {
        guard p.hasProbes else { return "" }
        var s = "- Embedding probes: probes.json of each finished run (`ablate probe`; definitions in "
        s += "`Sources/Probes/README.md`): metrics of the final checkpoint (F32) and of the init snapshot (F16), drift "
        s += "over the training snapshots. Means and t intervals over seeds as above; unfinished runs are left out. "
        s += "\"No detectable word-similarity signal\" means that no size × set cell of the strategy has a t interval "
        s += "over seeds (Bonferroni-adjusted over its cells) above both 0 and the init table's mean ρ; cells with one "
        s += "run never count (the run's Fisher-z interval covers word-pair sampling, not seed variation). "
        s += "Stabilisation is judged only for runs whose validation loss fell by at most "
        s += "\(percent(ProbeAnalysis.lossFallLimit)) \(p.fallWindowText) "
        let start = Format.fixed(1 - ProbeAnalysis.lossFallWindow, 1)
        s += "((L(\(start)·T) − L(T)) / L(\(start)·T) on the validation curve, L(\(start)·T) interpolated"
        s += p.wsdRuns > 0 ? "; for a WSD run T = its last evaluation before the decay, and no later point is read" : ""
        s += "); other runs are "
        s += "\"not testable at this budget\". The window is the last half, not the last tenth, because in a cosine schedule's "
        // ½(1 + cos πp) at p = (0.9 − w) / (1 − w), warm-up w ≤ 0.1 of the steps: ≤ 3.02 % (2.85 % in the default grid).
        s += "last 10 % the learning rate is at most 3.1 % of its range above its floor (below 13 % of the peak at "
        s += "min_lr_ratio 0.1, with a warm-up of up to a tenth of the steps): the curve flattens there whether or not "
        s += "the run has converged"
        s +=
            p.wsdRuns > 0
            ? ". A WSD run holds its peak rate until its decay, so its stable phase flattens only when the model stops "
                + "learning at that rate; the decay's own drop in the loss is left out. Stabilisation is still measured "
                + "against the final table, after the decay, so the decay's own movement of the table counts.\n"
            : ".\n"
        return s
    }
}
