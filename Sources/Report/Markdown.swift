import Foundation
import Stats

/// The report's README.md, written from a `GridAnalysis`: Findings, Figures, Tables, runs not analysed, Methods.
enum Markdown {
    static func render(_ sections: AnalysisSections) -> String {
        let a = sections.analysis, p = sections.probes
        var md = "# Report: `\(a.gridName)`\n\n"
        md += overview(a) + "\n"
        md += "## Findings\n\n" + findings(a) + probeFindings(a, p) + "\n"
        for section in sections.sections { md += "## \(section.title)\n\n" + section.body }
        md += "## Runs not in the analysis\n\n" + problems(a) + "\n"
        md += "## Methods\n\n" + methods(a) + probeMethods(a, p)
        return md
    }

    static func pct(_ level: Double) -> String { "\(Int((level * 100).rounded())) %" }

    /// "Holm-adjusted over all 4 tests of the table"; with one test there is nothing to adjust, and it says so.
    static func holm(over tests: Int, of what: String) -> String {
        tests == 1 ? "the only test of \(what), which Holm leaves unadjusted" : "Holm-adjusted over all \(tests) tests of \(what)"
    }

    /// "at any of the 3 tested sizes", or "at the one tested size".
    static func tested(sizes: Int) -> String { sizes == 1 ? "at the one tested size" : "at any of the \(sizes) tested sizes" }

    static func sizeText(_ a: GridAnalysis, _ s: ModelShape) -> String {
        "\(a.label(s))\(Figures.nonEmbeddingText(s))"
    }

    // MARK: overview

    static func overview(_ a: GridAnalysis) -> String {
        let finished = a.runs.filter { $0.state == .finished }.count
        let missing = a.problems.filter { $0.kind == .missing }.count
        let other = a.problems.count - missing
        var s = "\(a.runs.count) run folders, \(finished) finished and analysed"
        if other > 0 { s += ", \(other) diverged, failed, unfinished or unreadable" }
        if missing > 0 { s += ", \(missing) missing" }
        s += ". Strategies: \(a.arms.map { "`\($0)`" }.joined(separator: ", ")). "
        s += "Sizes: \(a.sizes.map { sizeText(a, $0) }.joined(separator: ", ")). "
        s += "Seeds: \(a.seeds.map(String.init).joined(separator: ", ")).\n"
        if !a.problems.isEmpty {
            s += "\n**Incomplete grid:** \(a.problems.count) of the expected runs are missing or did not finish; "
            s += "see [Runs not in the analysis](#runs-not-in-the-analysis). Every number below uses the finished runs only.\n"
        }
        if let why = a.metric.reason { s += "\n**Bits per byte:** \(why).\n" }  // vocabulary axis hook
        if let rates = learningRateText(a) {
            s += "\n**Learning rate per strategy** (fixed by the grid, config.json `learning_rate`; not selected by this "
            s += "report): \(rates). Differences between strategies include the effect of their learning rates.\n"
        }
        if let note = parametrizationText(a) { s += "\n\(note)\n" }
        for w in a.warnings { s += "\n**Warning:** \(w).\n" }
        if !a.hasBaseline {
            s += "\n**No `\(a.baseline)` runs in this grid:** there is no baseline, so no differences, tests, gap or "
            s += "tokens-to-target figure; only per-strategy losses and fits are reported"
            s += (a.baselineElsewhere.map { " (\($0))" } ?? "") + ".\n"
        }
        return s
    }

    // MARK: findings

    static func findings(_ a: GridAnalysis) -> String {
        var s = ""
        guard a.hasBaseline else {
            s += "- No `\(a.baseline)` baseline in this grid: nothing to compare against.\n"
            return s + scalingFinding(a)
        }
        if a.comparisons.isEmpty {
            s += "- No size has finished runs of both `\(a.baseline)` and another strategy: nothing to compare.\n"
        }
        for arm in a.comparedArms {
            let cs = a.comparisons.filter { $0.arm == arm }
            guard !cs.isEmpty else {
                s += "- **`\(arm)`**: no size with finished runs of both `\(arm)` and `\(a.baseline)`.\n"
                continue
            }
            let worse = cs.filter { significant($0) && $0.delta > 0 }.count
            let better = cs.filter { significant($0) && $0.delta < 0 }.count
            var head = "- **`\(arm)`** vs `\(a.baseline)`: "
            let tested = cs.filter { $0.pValue != nil }.count
            if tested == 0 {
                head += "no test possible at any size (n too small or no spread)"
            } else if worse == 0 && better == 0 {
                head += "not distinguishable \(Markdown.tested(sizes: tested)) at this n"
            } else {
                var parts = [String]()
                if worse > 0 { parts.append("significantly worse at \(worse) of \(cs.count) sizes") }
                if better > 0 { parts.append("significantly better at \(better) of \(cs.count) sizes") }
                head += parts.joined(separator: ", ")
            }
            s += head + (tested > 0 ? " (family-wise α = 0.05, Holm).\n" : ".\n")
            for c in cs { s += "  - \(sizeText(a, c.size)): \(sentence(c, a)).\n" }
            if let t = a.trends[arm] { s += "  - Trend with size: \(trendSentence(t, a)).\n" }
        }
        return s + scalingFinding(a)
    }

    static func significant(_ c: Comparison) -> Bool { significantP(c.holmPValue) }
    /// Holm-adjusted p < 0.05 (no test: not significant).
    static func significantP(_ holm: Double?) -> Bool { (holm ?? 1) < 0.05 }

    static func sentence(_ c: Comparison, _ a: GridAnalysis) -> String {
        let ci = c.interval
        let testText = "\(c.test.rawValue), p = \(Format.p(c.holmPValue ?? c.pValue ?? 1)) Holm-adjusted, n = \(c.nText)"
        if let ci, c.pValue != nil {
            let half = (ci.upper - ci.lower) / 2
            if significant(c) {
                let dir = c.delta > 0 ? "worse" : "better"
                return "significantly \(dir) by \(Format.fixed(abs(c.delta), 4)) ± \(Format.fixed(half, 4)) \(a.metric.unit) (\(testText))"
            }
            if ci.lower > 0 || ci.upper < 0 {
                return
                    "not significant after the Holm correction: Δ = \(Format.signed(c.delta)) \(a.metric.unit), unadjusted \(pct(ci.level)) CI \(Format.interval(ci.lower, ci.upper)) excludes 0 (\(testText))"
            }
            return
                "not distinguishable at this n: Δ = \(Format.signed(c.delta)) \(a.metric.unit), \(pct(ci.level)) CI \(Format.interval(ci.lower, ci.upper)) (\(testText))"
        }
        let why = c.note ?? "n too small"
        return "Δ = \(Format.signed(c.delta)) \(a.metric.unit) (n = \(c.nText); \(why), no CI or test)"
    }

    static func trendSentence(_ t: GapTrend, _ a: GridAnalysis) -> String {
        guard t.sizes >= 2, let line = t.line else {
            return "only \(t.sizes) size with a comparison: no trend"
        }
        var s = "Δ changes by \(Format.signed(line.slope)) \(a.metric.unit) per decade of N"
        if let ci = t.slopeInterval {
            s += " (\(pct(ci.level)) CI \(Format.interval(ci.lower, ci.upper)); line over \(t.points) seed-level gaps at \(t.sizes) sizes)"
            let gaps = t.meanGaps.map(\.gap)
            if ci.lower > 0 || ci.upper < 0 {
                let allWorse = gaps.allSatisfy { $0 > 0 }, allBetter = gaps.allSatisfy { $0 < 0 }
                let rising = ci.lower > 0
                if allWorse {
                    s += " — the gap \(rising ? "grows" : "shrinks") with size"
                } else if allBetter {
                    s += " — the advantage \(rising ? "shrinks" : "grows") with size"
                } else {
                    s += " — Δ \(rising ? "increases" : "decreases") with size"
                }
            } else {
                s += " — no trend distinguishable at this n (the CI includes 0)"
            }
        } else {
            s += " (no CI: too few seed-level gaps)"
        }
        if let rho = t.spearman {
            s += "; Spearman ρ(N, mean Δ) = \(Format.fixed(rho, 2)) over \(t.sizes) sizes"
        }
        if t.sizes == 2 {
            s +=
                ". Caveat: with 2 sizes this is the difference of two gaps, not a trend; the line treats seeds as independent — read it as descriptive"
        } else if t.sizes == 3 {
            s +=
                ". Caveat: with 3 sizes the trend rests on 3 distinct N; the line treats seeds as independent and ρ can only be ±1 or ±0.5 — read it as descriptive"
        }
        return s
    }

    static func scalingFinding(_ a: GridAnalysis) -> String {
        let fitted = a.arms.compactMap { arm -> String? in
            guard let f = a.fits[arm]?.fit else { return nil }
            let se = f.alphaStandardError.map { " ± \(Format.sig($0))" } ?? ""
            return "`\(arm)` α = \(Format.sig(f.alpha))\(se)"
        }
        guard !fitted.isEmpty else {
            // Vocabulary axis hook.
            return a.metric.acrossVocabularies ? "- Scaling: \(PrimaryMetric.noFitAcrossVocabularies).\n" : "- Scaling: too few sizes for a fit.\n"
        }
        let methods = Set(a.arms.compactMap { a.fits[$0]?.fit?.method })
        let how =
            methods == [.nonlinearLeastSquares]
            ? "L = E + A·N^(−α), nonlinear least squares"
            : methods == [.logLogLine] ? "log-log line L = A·N^(−α), fewer than 4 sizes" : "see the fit table for the method per strategy"
        return "- Scaling exponents (\(how); SE asymptotic): \(fitted.joined(separator: ", ")).\n"
    }

    // MARK: figures

    /// `prefix`: the file-name prefix of a slice's figures (GridSlices), "" for an unsliced grid.
    static func figureSection(_ a: GridAnalysis, _ files: [String], prefix: String = "") -> String {
        var s = ""
        if files.contains(prefix + "loss_curves.svg") {
            s += "![Validation loss vs tokens](\(prefix)loss_curves.svg)\n\n"
            s += "**Figure 1.** Validation loss vs training tokens, one panel per size; lines are the mean over the "
            s += "finished seeds, bands the \(pct(a.level)) Student-t interval (no band where a cell has one run). "
            s += "The curves are on the evaluation batches (`eval_batches`), the tables' final loss on the final "
            s += "evaluation's batches (`final_eval_batches`), so a curve need not end at it."
            if a.cells.values.contains(where: \.curveEndsEarly) {
                s += " Some curves end before the last step: their runs were written before the final evaluation was "
                s += "recorded apart, and evaluated the last step on `final_eval_batches` only."
            }
            s += "\n\n"
        }
        if files.contains(prefix + "scaling.svg") {
            let methods = a.arms.compactMap { arm in a.fits[arm]?.fit.map { "`\(arm)`: \(methodText($0.method))" } }
            s += "![Final loss vs non-embedding parameters](\(prefix)scaling.svg)\n\n"
            s += "**Figure 2.** Final validation loss vs non-embedding parameters N (log-log), mean ± \(pct(a.level)) "
            s += "t interval per strategy (points dodged sideways for legibility); dashed: fitted scaling curves"
            s += methods.isEmpty ? " (none: too few sizes).\n\n" : " (\(methods.joined(separator: "; "))).\n\n"
        }
        if files.contains(prefix + "gap.svg") {
            s += "![Gap to \(a.baseline) vs model size](\(prefix)gap.svg)\n\n"
            s += "**Figure 3.** Δ = final loss of the strategy − final loss of `\(a.baseline)` at each size, with its "
            s += "\(pct(a.level)) CI from the test in the Δ table (paired t on seed-matched pairs or Welch); above 0 "
            s += "= worse than `\(a.baseline)`. Cells with n too small are drawn without a bar.\n\n"
        }
        if files.contains(prefix + "tokens_to_target.svg") {
            s += "![Tokens to reach the baseline's end-of-curve loss](\(prefix)tokens_to_target.svg)\n\n"
            s += "**Figure 4.** Tokens the strategy's mean validation curve needs to reach the end of `\(a.baseline)`'s "
            s += "mean curve, relative to the tokens `\(a.baseline)`'s own curve needs (linear interpolation between "
            s += "evaluations, all on `eval_batches`); below 1 = faster. "
            s += "Strategies that never reach it are left out (see the table).\n\n"
        }
        if !a.hasBaseline { s += "Figures 3 and 4 need `\(a.baseline)` runs and are omitted.\n\n" }
        return s
    }

    static func methodText(_ m: ScalingFit.Method) -> String {
        m == .nonlinearLeastSquares ? "E + A·N^(−α), nonlinear least squares" : "log-log line A·N^(−α)"
    }

    // MARK: tables

    static func tables(_ a: GridAnalysis) -> String {
        var s = "### Final validation loss\n\n"
        s += "Mean ± half-width of the \(pct(a.level)) Student-t interval over seeds (n finished runs).\n\n"
        s += "| strategy | " + a.sizes.map { sizeText(a, $0) }.joined(separator: " | ") + " |\n"
        s += "|---|" + a.sizes.map { _ in "---:|" }.joined() + "\n"
        for arm in a.arms {
            s +=
                "| `\(arm)` | "
                + a.sizes.map { size -> String in
                    guard let c = a.cell(arm, size) else { return "—" }
                    let m = c.final, bpb = VocabularyMarkdown.beside(a, c)  // vocabulary axis hook: bpb beside nats
                    if let h = m.halfWidth { return "\(Format.loss(m.mean)) ± \(Format.fixed(h, 4)) (n = \(m.n))\(bpb)" }
                    return m.n == 1
                        ? "\(Format.loss(m.mean)) (n = 1, n too small for a CI)\(bpb)"
                        : "\(Format.loss(m.mean)) (n = \(m.n), no spread)\(bpb)"
                }.joined(separator: " | ") + " |\n"
        }

        if a.hasBaseline { s += "\n### Difference to `\(a.baseline)`\n\n" + differenceTable(a) }

        s += "\n### Scaling fits\n\n"
        s += "Fitted to the per-size mean final loss against non-embedding parameters N. ± asymptotic standard "
        s += "errors (optimistic at few sizes); “—” where not estimable.\n\n"
        s += "| strategy | method | sizes | E | A | α |\n|---|---|---:|---:|---:|---:|\n"
        for arm in a.arms {
            guard let r = a.fits[arm] else { continue }
            guard let f = r.fit else {
                s += "| `\(arm)` | \(r.note ?? "no fit") | \(r.sizes) | — | — | — |\n"
                continue
            }
            func pm(_ v: Double, _ se: Double?) -> String { Format.sig(v) + (se.map { " ± " + Format.sig($0) } ?? "") }
            let method = methodText(f.method) + (r.note.map { " (\($0))" } ?? "")
            let e = f.method == .logLogLine ? "0 (fixed)" : pm(f.E, f.eStandardError)
            s += "| `\(arm)` | \(method) | \(r.sizes) | \(e) | \(pm(f.A, f.aStandardError)) | "
            s += "\(pm(f.alpha, f.alphaStandardError)) |\n"
        }

        if a.hasBaseline {
            s += "\n### Tokens to reach `\(a.baseline)`'s end-of-curve loss\n\n"
            s += "Target = `\(a.baseline)`'s mean validation loss at the end of its curve at that size (its last "
            s += "evaluation on `eval_batches`, the batches every curve uses; the final loss above is measured on "
            s += "`final_eval_batches`, so the two differ); tokens where the mean validation curve first reaches it "
            s += "(linear interpolation between evaluations); × = relative to the tokens `\(a.baseline)`'s own curve "
            s += "needs; budget = tokens trained.\n\n"
            s += "| strategy | size | target | tokens | × \(a.baseline) | budget |\n|---|---|---:|---:|---:|---:|\n"
            for size in a.sizes {
                for arm in a.arms {
                    guard let t = a.tokensToTarget[.init(arm: arm, size: size)] else { continue }
                    let tokens = t.tokens.map(Format.tokens) ?? "not reached"
                    let ratio = t.ratio.map { Format.fixed($0, 2) } ?? "—"
                    s += "| `\(arm)` | \(a.label(size)) | \(Format.loss(t.target)) | \(tokens) | \(ratio) | "
                    s += "\(t.budget.map(Format.tokens) ?? "—") |\n"
                }
            }
        }

        s += "\n### Parameters\n\n"
        s += "From config.json of the first finished run of each cell. Optimizer state = AdamW moments of the "
        s += "trainable parameters; “saved” is relative to `\(a.baseline)` at the same size. Embedding = the strategy's "
        s += "input tables (trainable or not); N = the rest of the network apart from the positional table (T·d, trained "
        s += "in every arm, counted in neither)"
        s +=
            a.metric.acrossVocabularies
            ? ": the blocks and the final LayerNorm. N leaves out the output head's V·d here, as everywhere in this report."
            : ": the blocks, the final LayerNorm and the output head when it is untied (V·d), so total = embedding + N + T·d."
        s += "\n\n"
        s += "| strategy | size | total | trainable | embedding | non-embedding N | optimizer state | saved vs `\(a.baseline)` |\n"
        s += "|---|---|---:|---:|---:|---:|---:|---|\n"
        for size in a.sizes {
            let base = a.cell(a.baseline, size)?.runs.first?.parameters
            for arm in a.arms {
                guard let p = a.cell(arm, size)?.runs.first?.parameters else { continue }
                var saved = "—"
                if let base, arm != a.baseline {
                    saved = "\(Format.count(base.trainable - p.trainable)) trainable"
                    if let bo = base.optimizerStateBytes, let po = p.optimizerStateBytes {
                        saved += ", \(Format.bytes(bo - po)) optimizer state"
                    }
                }
                s += "| `\(arm)` | \(a.label(size)) | \(Format.count(p.total)) | \(Format.count(p.trainable)) | "
                s += "\(Format.count(p.embedding)) | \(Format.count(size.nonEmbedding)) | "
                s += "\(p.optimizerStateBytes.map(Format.bytes) ?? "—") | \(saved) |\n"
            }
        }
        return s
    }

    /// The Δ-to-baseline table (with its lead paragraph) of `a`'s comparisons.
    static func differenceTable(_ a: GridAnalysis) -> String {
        var s = ""
        s += "Δ = strategy − `\(a.baseline)` in final validation loss (\(a.metric.unit); positive = worse). p-values are "
        let m = a.comparisons.filter { $0.pValue != nil }.count
        s +=
            m == 0
            ? "two-sided, but no cell allows a test here. "
            : "two-sided; \(holm(over: m, of: "the table")). "
        s += "P(impr.) = probability that a run of the strategy has a lower loss than a run of "
        s += "`\(a.baseline)` (descriptive).\n\n"
        s += "| strategy | size | Δ | \(pct(a.level)) CI (unadjusted) | test | p | p (Holm) | n | P(impr.) | note |\n"
        s += "|---|---|---:|---|---|---:|---:|---|---:|---|\n"
        for c in a.comparisons {
            let ci = c.interval.map { Format.interval($0.lower, $0.upper) } ?? "—"
            s += "| `\(c.arm)` | \(a.label(c.size)) | \(Format.signed(c.delta)) | \(ci) | \(c.test.rawValue) | "
            s += "\(c.pValue.map(Format.p) ?? "—") | \(c.holmPValue.map(Format.p) ?? "—") | \(c.nText) | "
            s += "\(c.probabilityOfImprovement.map { Format.fixed($0, 2) } ?? "—") | \(c.note ?? "") |\n"
        }
        if a.comparisons.isEmpty { s += "| — | — | — | — | — | — | — | — | — | no cell with both arms |\n" }
        return s
    }

    // MARK: problems

    static func problems(_ a: GridAnalysis) -> String {
        guard !a.problems.isEmpty else { return "None: every expected run finished.\n" }
        let expected =
            "The expected grid is taken to be every strategy × size × seed that appears in the folder "
            + "(\(a.arms.count) × \(a.sizes.count) × \(a.seeds.count) = \(a.arms.count * a.sizes.count * a.seeds.count) runs)."
        return problemTable(a.problems, lead: expected)
    }

    /// The runs-not-analysed table under its lead sentence.
    static func problemTable(_ problems: [RunProblem], lead: String) -> String {
        var s = lead + "\n\n| run | status | detail |\n|---|---|---|\n"
        for p in problems {
            s += "| `\(p.id)` | \(p.kind.rawValue) | \(p.detail.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        return s
    }

    // MARK: methods

    /// Each arm's learning rate over its analysed runs ("`learned` 0.01, `hashed` 0.003 at d64-L2, 0.001 at
    /// d128-L2"); nil when every analysed run has the same one (or none is recorded).
    static func learningRateText(_ a: GridAnalysis) -> String? {
        let finished = a.sizes.flatMap { size in a.arms.compactMap { a.cell($0, size) } }.flatMap(\.runs)
        guard Set(finished.compactMap(\.learningRate)).count > 1 else { return nil }
        return a.arms.compactMap { arm -> String? in
            let bySize = a.sizes.compactMap { size in
                a.cell(arm, size).map { c in (size, Set(c.runs.compactMap(\.learningRate)).sorted()) }
            }
            let all = Set(bySize.flatMap(\.1)).sorted()
            guard !all.isEmpty else { return nil }
            if all.count == 1 { return "`\(arm)` \(LearningRateSection.lrText(all[0]))" }
            let parts = bySize.map { size, rates in "\(rates.map(LearningRateSection.lrText).joined(separator: "/")) at \(a.label(size))" }
            return "`\(arm)` " + parts.joined(separator: ", ")
        }.joined(separator: ", ")
    }

    /// When arms train under different parametrizations (the `mup` strategy against SP arms), a difference between
    /// them is the whole network's parametrization, not only the input table: said next to the results, with where
    /// the two are separated. nil when every finished run has one parametrization.
    static func parametrizationText(_ a: GridAnalysis) -> String? {
        let byArm = a.arms.compactMap { arm -> (arm: String, values: [String])? in
            let values = Set(a.sizes.compactMap { a.cell(arm, $0) }.flatMap(\.runs).map(\.parametrization)).sorted()
            return values.isEmpty ? nil : (arm, values)
        }
        guard Set(byArm.flatMap(\.values)).count > 1 else { return nil }
        let baselineValues = byArm.first { $0.arm == a.baseline }?.values ?? []
        let others = byArm.filter { $0.values != baselineValues }.map { "`\($0.arm)`" }
        var s = "**Parametrization per strategy:** "
        s += byArm.map { "`\($0.arm)` \($0.values.map { $0 == "mup" ? "μP" : $0.uppercased() }.joined(separator: "/"))" }.joined(separator: ", ")
        s += ". "
        if !others.isEmpty && !baselineValues.isEmpty {
            s += "A difference between \(others.joined(separator: ", ")) and `\(a.baseline)` is therefore that of the whole network's "
            s += "parametrization (μP: hidden learning rates ÷ width, attention 1/d, readout multiplier and, unless its options say "
            s += "otherwise, μP's table scale), "
            s += "not of the input table alone; a grid that crosses a `parametrization` axis with the strategies separates "
            s += "the two (the learning-rate sweep, `ablations/lr-sweep.yaml`, decomposes μP's gain this way)."
        }
        return s
    }

    static func methods(_ a: GridAnalysis) -> String {
        var s = provenanceMethods(gridName: a.gridName, runs: a.runs) + analysisMethods(a, scope: "this grid")
        if let rates = learningRateText(a) {
            s += "- Learning rate: as config.json records it, fixed per strategy by the grid rather than selected by "
            s += "this report: \(rates).\n"
        }
        s += "- Missing runs are inferred as the full strategy × size × seed product of what appears in the folder; "
        s += "diverged, failed and unfinished runs are excluded from every statistic.\n"
        return s
    }

    /// Where the runs come from: grid, corpus, code, machines, seeds, tokens and the primary endpoint.
    static func provenanceMethods(gridName: String, runs: [RunRecord]) -> String {
        let readable = runs.filter { $0.state != .unreadable }
        func values(_ f: (RunRecord) -> String?) -> String {
            let v = Set(readable.compactMap(f)).sorted()
            return v.isEmpty ? "unknown" : v.map { "`\($0)`" }.joined(separator: ", ")
        }
        var s = "- Grid: `\(gridName)`, read from its run folders (config.json, status.json, summary.json, metrics.jsonl).\n"
        s += "- Corpus: \(values { $0.provenance?.corpus }); corpus SHA-256: \(values { $0.provenance?.corpusSHA256 }); "
        s += "tokenizer SHA-256: \(values { $0.provenance?.tokenizerSHA256 }).\n"
        s += "- Code: git commit(s) \(values { $0.provenance?.gitCommit }); package version(s) \(values { $0.provenance?.packageVersion }).\n"
        s += "- Machines: \(values { $0.provenance?.machine }). Same machine type and kernel ⇒ bit-identical numbers "
        s += "for a config and seed (any thread count, after a resume); another CPU generation or OpenBLAS kernel "
        s += "rounds matrix products differently, so its runs agree to rounding only.\n"
        s += "- Seeds: \(Set(readable.map(\.seed)).sorted().map(String.init).joined(separator: ", ")). "
        let tokens = Set(runs.filter { $0.state == .finished }.compactMap(\.tokens)).sorted()
        if tokens.count == 1 {
            s += "Tokens per finished run: \(Format.count(tokens[0])).\n"
        } else if tokens.isEmpty {
            s += "No finished run.\n"
        } else {
            s += "Tokens per finished run: \(tokens.map(Format.count).joined(separator: ", ")) (differs between runs).\n"
        }
        s += "- Primary endpoint: final validation loss (summary.json `final_val_loss`, the last evaluation on the fixed "
        s += "final evaluation batches). Curves use every logged evaluation, aligned by tokens within a size.\n"
        return s
    }

    /// How `a`'s numbers were computed: metric, intervals, tests (counted in `scope`, e.g. "this grid"), gap trend,
    /// tokens to target, scaling fits.
    static func analysisMethods(_ a: GridAnalysis, scope: String) -> String {
        var s = ""
        if a.metric.kind == .bitsPerByte {  // vocabulary axis hook
            s += "- In bits per byte: `final_val_bpb` and the `val_bpb` curve instead, Σ NLL / (ln 2 · Σ UTF-8 bytes) over "
            s += "the same predicted tokens; N = non-embedding parameters without the output head's V·d.\n"
        }
        s += "- Intervals: \(pct(a.level)) Student-t intervals over seeds (the unit of replication is a run); none "
        s += "for n = 1 or when all values are equal.\n"
        if a.hasBaseline {
            let paired = a.comparisons.filter { $0.test == .paired }.count
            let welch = a.comparisons.filter { $0.test == .welch }.count
            let none = a.comparisons.filter { $0.test == .none }.count
            s += "- Tests against `\(a.baseline)`: runs with the same seed share data order and non-embedding "
            s += "initialisation, so where a strategy's runs share at least 2 seeds with `\(a.baseline)`'s the "
            s += "paired t-test on the seed-matched pairs is used, otherwise Welch's t-test. In \(scope): "
            s += "\(paired) paired, \(welch) Welch, \(none) without a test (n too small or no spread). "
            s += "p-values are Holm–Bonferroni adjusted over the family of all \(paired + welch) strategy × size "
            s += "tests; “significant” means adjusted p < 0.05. Confidence intervals are per comparison (not "
            s += "adjusted for multiplicity), so an interval can exclude 0 while the Holm-adjusted p stays ≥ 0.05.\n"
            s += "- Gap trend: a least-squares line of the seed-level gaps (paired differences, or run − baseline "
            s += "mean) against log₁₀ N, with a t interval of the slope (df = points − 2), and Spearman's ρ of the "
            s += "per-size mean gaps against N.\n"
            s += "- Tokens to target: first crossing of the strategy's mean validation curve below the last point of "
            s += "`\(a.baseline)`'s mean curve (both on `eval_batches`; the loss table uses `final_eval_batches`), linear "
            s += "interpolation between evaluations, relative to `\(a.baseline)`'s own crossing.\n"
        }
        s += "- Scaling fits: L(N) = E + A·N^(−α) by nonlinear least squares (GSL trust region) with ≥ 4 sizes; "
        s += "with fewer, a straight line in log-log (E = 0). N = non-embedding parameters (config.json).\n"
        return s
    }
}
