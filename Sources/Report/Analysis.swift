import Foundation
import RunFormat
import Stats

/// Everything the report says, computed once from the run folders of a grid: cells (arm × size) of finished runs,
/// mean curves, comparisons with the baseline, scaling fits, the gap trend, tokens-to-target and the list of runs
/// that are missing or did not finish. Markdown and figures only format this.
public struct GridAnalysis: Sendable {
    public let gridName: String
    public let baseline: String
    public let level: Double
    public let runs: [RunRecord]
    /// Arms (strategy, plus its options when a strategy appears with several), the baseline first.
    public let arms: [String]
    /// Arm → its strategy (kept, never parsed back out of the arm's name).
    public let armStrategies: [String: String]
    /// Sizes, smallest non-embedding parameter count first.
    public let sizes: [ModelShape]
    public let sizeLabels: [ModelShape: String]
    /// Every seed that appears in the grid, ascending.
    public let seeds: [UInt64]
    public let cells: [CellKey: Cell]
    public let comparisons: [Comparison]
    public let fits: [String: FitResult]
    public let trends: [String: GapTrend]
    public let tokensToTarget: [CellKey: TokensToTarget]
    public let problems: [RunProblem]
    /// Things the reader must know that are not run failures (e.g. two runs of one cell with the same seed).
    public let warnings: [String]
    /// Nats per token, or bits per byte across vocabularies or corpora (VocabularyAnalysis.swift).
    public let metric: PrimaryMetric

    public struct CellKey: Hashable, Sendable {
        public let arm: String
        public let size: ModelShape
        public init(arm: String, size: ModelShape) { self.arm = arm; self.size = size }
    }

    /// The finished runs of one arm at one size.
    public struct Cell: Sendable {
        public let runs: [RunRecord]  // sorted by seed
        public var seeds: [UInt64] { runs.map(\.seed) }
        public var finals: [Double] { runs.map { $0.finalValLoss! } }
        public let final: MeanSummary
        public let curve: [CurveSummaryPoint]
        /// Tokens trained: the most of any run (summary.json `tokens`), else where the curve ends.
        public var budget: Double? { runs.compactMap(\.tokens).max().map(Double.init) ?? curve.last?.tokens }
        /// The mean curve ends before the budget (runs without an `eval_batches` evaluation at their last step).
        public var curveEndsEarly: Bool { budget.map { (curve.last?.tokens ?? $0) < $0 } ?? false }
    }

    public func label(_ size: ModelShape) -> String { sizeLabels[size] ?? size.label }
    public func cell(_ arm: String, _ size: ModelShape) -> Cell? { cells[CellKey(arm: arm, size: size)] }
    public var hasBaseline: Bool { arms.first == baseline }
    public var comparedArms: [String] { arms.filter { $0 != baseline } }

    /// Without the baseline arm: the arms of the baseline's strategy under other names (split by their options or
    /// labelled by the grid), and how to pick one as the baseline; nil when there are none or the baseline is here.
    public var baselineElsewhere: String? {
        let candidates = arms.filter { armStrategies[$0] == baseline }
        guard !hasBaseline, let first = candidates.first else { return nil }
        return "its strategy runs here as " + candidates.map { "`\($0)`" }.joined(separator: ", ")
            + "; compare against one of them with `ablate report … --baseline '\(first)'`, or move the option sets into "
            + "the grid's `strategy` axis as labelled entries ({name: …, label: …, options: {…}})"
    }
}

/// A mean with its Student-t interval when it has one.
public struct MeanSummary: Sendable, Equatable {
    public let mean: Double
    public let n: Int
    /// The t interval; `nil` for n = 1 or when all values are equal (no spread to speak of).
    public let interval: ConfidenceInterval?

    init(_ values: [Double], level: Double) {
        n = values.count
        if values.count >= 2, let m = try? MeanEstimate(values, level: level), m.standardError > 0 {
            mean = m.mean
            interval = m.interval
        } else {
            mean = values.reduce(0, +) / Double(max(values.count, 1))
            interval = nil
        }
    }

    public var halfWidth: Double? { interval.map { ($0.upper - $0.lower) / 2 } }
}

public struct CurveSummaryPoint: Sendable, Equatable {
    public let tokens: Double
    public let mean: Double
    public let lower: Double?
    public let upper: Double?
    public let n: Int
    public init(tokens: Double, mean: Double, lower: Double?, upper: Double?, n: Int) {
        self.tokens = tokens; self.mean = mean; self.lower = lower; self.upper = upper; self.n = n
    }
}

/// One arm against the baseline at one size: Δ = arm − baseline (positive: the arm has the higher, worse loss).
public struct Comparison: Sendable {
    public enum Test: String, Sendable {
        case paired = "paired t"
        case welch = "Welch t"
        case none = "—"
    }
    public let arm: String
    public let size: ModelShape
    public let test: Test
    public let delta: Double
    public let interval: ConfidenceInterval?
    public let pValue: Double?
    public var holmPValue: Double?
    /// Pairs (paired) or runs per arm (Welch: arm n, baseline n).
    public let nArm: Int
    public let nBaseline: Int
    public let pairs: Int
    /// P(a run of the arm has a lower final loss than a run of the baseline); descriptive.
    public let probabilityOfImprovement: Double?
    /// Why there is no test, or what was dropped.
    public let note: String?
    /// Seed-level gaps used for the trend (paired differences, or arm run − baseline mean).
    public let seedGaps: [Double]

    public var nText: String { test == .paired ? "\(pairs) pairs" : "\(nArm) vs \(nBaseline)" }
}

public struct FitResult: Sendable {
    public let fit: ScalingFit?
    /// How many sizes went into the fit.
    public let sizes: Int
    /// Why there is no fit, or that the nonlinear fit fell back to the log-log line.
    public let note: String?
}

/// Gap vs model size for one arm: a line gap = a + b·log₁₀ N over the seed-level gaps, and Spearman's ρ of the
/// per-size mean gaps against N.
public struct GapTrend: Sendable {
    public let line: LinearFit?
    /// 95 % t interval of the slope (df = points − 2); nil when undefined.
    public let slopeInterval: ConfidenceInterval?
    public let spearman: Double?
    public let points: Int
    public let sizes: Int
    public let meanGaps: [(size: ModelShape, gap: Double)]
}

/// Tokens the arm's mean validation curve needs to reach the end of the baseline's mean curve, at the same size
/// (both curves on `eval_batches`).
public struct TokensToTarget: Sendable {
    /// The baseline's mean validation loss at the end of its curve.
    public let target: Double
    /// nil: not reached within the budget.
    public let tokens: Double?
    /// tokens / the baseline's tokens to the same target (< 1: faster); nil when either is undefined.
    public let ratio: Double?
    public let budget: Double?
}

public struct RunProblem: Sendable, Equatable {
    public enum Kind: String, Sendable { case missing, diverged, failed, unfinished, unreadable }
    public let kind: Kind
    public let id: String
    public let detail: String
}

// MARK: - Building

extension GridAnalysis {
    public init(
        gridName: String, runs inputRuns: [RunRecord], baseline: String = "learned", level: Double = 0.95,
        expectedRunIDs: [String]? = nil, armName: ((RunRecord) -> String)? = nil
    ) {
        // Vocabulary axis hook: across tokenizers every statistic below is in bits per byte (VocabularyAnalysis.swift).
        let metric = PrimaryMetric(inputRuns)
        self.metric = metric
        let allRuns = metric.primary(inputRuns)
        self.gridName = gridName
        self.baseline = baseline
        self.level = level
        runs = allRuns
        let readable = allRuns.filter { $0.state != .unreadable }

        let armName = armName ?? GridAnalysis.armNamer(readable)
        let strategyOf = Dictionary(readable.map { (armName($0), $0.strategy) }, uniquingKeysWith: { a, _ in a })
        armStrategies = strategyOf
        arms = strategyOf.keys.sorted { a, b in
            let ra = GridAnalysis.rank(a, strategy: strategyOf[a]!, baseline: baseline)
            let rb = GridAnalysis.rank(b, strategy: strategyOf[b]!, baseline: baseline)
            return ra != rb ? ra < rb : a < b
        }
        sizes = Set(readable.map(\.shape)).sorted()
        sizeLabels = GridAnalysis.labels(sizes)
        seeds = Set(readable.map(\.seed)).sorted()

        // Cells of finished runs.
        var grouped = [CellKey: [RunRecord]]()
        for r in readable where r.state == .finished {
            grouped[CellKey(arm: armName(r), size: r.shape), default: []].append(r)
        }
        var cells = [CellKey: Cell]()
        for (key, rs) in grouped {
            let sorted = rs.sorted { ($0.seed, $0.id) < ($1.seed, $1.id) }
            cells[key] = Cell(
                runs: sorted, final: MeanSummary(sorted.map { $0.finalValLoss! }, level: level),
                curve: GridAnalysis.meanCurve(sorted, level: level))
        }
        self.cells = cells

        // Comparisons with the baseline, Holm over the whole family.
        var comparisons = [Comparison]()
        for arm in arms where arm != baseline {
            for size in sizes {
                guard let a = cells[CellKey(arm: arm, size: size)],
                    let b = cells[CellKey(arm: baseline, size: size)]
                else { continue }
                comparisons.append(GridAnalysis.compare(arm: arm, size: size, a, b, level: level))
            }
        }
        SeedPairedTest.applyHolm(&comparisons, pValue: \.pValue, adjusted: \.holmPValue)
        self.comparisons = comparisons

        // Scaling fits per arm over the per-size mean final losses.
        var fits = [String: FitResult]()
        for arm in arms {
            let points = sizes.compactMap { s -> (Double, Double)? in
                guard let c = cells[CellKey(arm: arm, size: s)], s.nonEmbedding > 0 else { return nil }
                return (Double(s.nonEmbedding), c.final.mean)
            }
            // Vocabulary axis hook: no scaling law across vocabularies.
            fits[arm] =
                metric.acrossVocabularies ? FitResult(fit: nil, sizes: 0, note: PrimaryMetric.noFitAcrossVocabularies) : GridAnalysis.fit(points)
        }
        self.fits = fits

        // Gap trend per arm.
        var trends = [String: GapTrend]()
        for arm in arms where arm != baseline {
            let cs = comparisons.filter { $0.arm == arm && $0.size.nonEmbedding > 0 }
            guard !cs.isEmpty, !metric.acrossVocabularies else { continue }  // vocabulary axis hook: the gap's trend is vs V there
            trends[arm] = GridAnalysis.trend(cs, level: level)
        }
        self.trends = trends

        // Tokens to reach the baseline's loss at the end of its curve, read on the curves' own batches
        // (`eval_batches`): not the final loss of the tables, which is measured on `final_eval_batches` (in the
        // default grid 0.06–0.11 nats below the curves' last point, so the baseline would never reach it).
        var ttt = [CellKey: TokensToTarget]()
        for size in sizes {
            guard let b = cells[CellKey(arm: baseline, size: size)], let target = b.curve.last?.mean else { continue }
            let baseTokens = GridAnalysis.firstCrossing(b.curve, target)
            for arm in arms {
                guard let c = cells[CellKey(arm: arm, size: size)], !c.curve.isEmpty else { continue }
                let t = GridAnalysis.firstCrossing(c.curve, target)
                let ratio: Double? = (t != nil && baseTokens != nil && baseTokens! > 0) ? t! / baseTokens! : nil
                ttt[CellKey(arm: arm, size: size)] = TokensToTarget(
                    target: target, tokens: t, ratio: ratio,
                    budget: c.budget)
            }
        }
        tokensToTarget = ttt

        problems = GridAnalysis.problems(
            allRuns, arms: arms, sizes: sizes, seeds: seeds, armName: armName,
            expectedRunIDs: expectedRunIDs)

        var warnings = [String]()
        for arm in arms {
            for size in sizes {
                guard let c = cells[CellKey(arm: arm, size: size)] else { continue }
                for (seed, group) in Dictionary(grouping: c.runs, by: \.seed).sorted(by: { $0.key < $1.key })
                where group.count > 1 {
                    warnings.append(
                        "runs \(group.map { "`\($0.id)`" }.joined(separator: ", ")) share strategy, size "
                            + "and seed \(seed): no grid axis in their grid-run.json tells them apart (e.g. runs "
                            + "trained outside the grid, or copied in from another); "
                            + "they are pooled in one cell and only the first is paired")
                }
            }
        }
        let machines = Dictionary(grouping: allRuns.filter { $0.state == .finished }, by: { $0.provenance?.machine ?? "unrecorded" })
        if machines.count > 1 {
            warnings.append(
                "the finished runs come from \(machines.count) different OpenBLAS kernel / CPU combinations ("
                    + machines.keys.sorted().map { "\($0): \(machines[$0]!.count) run\(machines[$0]!.count == 1 ? "" : "s")" }.joined(separator: "; ")
                    + "): matrix products round differently on each, so runs of one strategy, size and seed made on two "
                    + "of them agree only to rounding (differences grow over training), not bit for bit; train a grid whose "
                    + "runs must be bit-comparable on one machine type (e.g. one Slurm partition of identical nodes)")
        }
        self.warnings = warnings
    }

    /// Names runs' arms: the grid's label when it gave the strategy value one; otherwise a strategy is split by
    /// options only when it appears with several option sets among `runs` at one value of each of `optionAxes` (the
    /// setting axes whose values set options: `GridSlices.settingAxes(_:).options`).
    static func armNamer(_ runs: [RunRecord], optionAxes: [String] = []) -> (RunRecord) -> String {
        struct Key: Hashable { let strategy: String, optionAxisLabels: [String] }
        func key(_ r: RunRecord) -> Key { Key(strategy: r.strategy, optionAxisLabels: GridSlices.settingLabels(r, optionAxes)) }
        var optionSets = [Key: Set<String>]()
        for r in runs where r.armLabel == nil { optionSets[key(r), default: []].insert(r.strategyOptions) }
        return { r in
            if let label = r.armLabel { return label }
            return (optionSets[key(r)]?.count ?? 0) > 1 && !r.strategyOptions.isEmpty
                ? "\(r.strategy)(\(r.strategyOptions))" : r.strategy
        }
    }

    /// Known strategies in a fixed order (so colours stay put between reports); others alphabetically after.
    static let knownOrder = ["learned", "frozen-random", "hashed", "mup", "lowrank"]
    static func rank(_ arm: String, strategy: String, baseline: String) -> Int {
        if arm == baseline { return -1 }
        return knownOrder.firstIndex(of: strategy) ?? knownOrder.count
    }

    /// `d256-L4`, extended by heads, vocabulary or context only where needed to tell sizes apart.
    static func labels(_ sizes: [ModelShape]) -> [ModelShape: String] {
        let vocabs = Set(sizes.map(\.vocabSize)), contexts = Set(sizes.map(\.contextLength))
        var out = [ModelShape: String]()
        for s in sizes {
            var l = s.label
            if vocabs.count > 1 { l += "-v\(s.vocabSize)" }
            if contexts.count > 1 { l += "-T\(s.contextLength)" }
            out[s] = l
        }
        let counts = Dictionary(grouping: sizes, by: { out[$0]! })
        for (_, group) in counts where group.count > 1 {
            for s in group { out[s] = out[s]! + "-H\(s.nHead)" }
        }
        return out
    }

    /// Mean validation curve over the runs of a cell, on the token counts every run logged (their union when they
    /// share fewer than two), with a t interval where n ≥ 2.
    static func meanCurve(_ runs: [RunRecord], level: Double) -> [CurveSummaryPoint] {
        let perRun = runs.map { r -> [Double: Double] in
            var m = [Double: Double]()
            for p in r.curve { m[p.tokens] = p.loss }
            return m
        }
        return meanOverRuns(perRun, level: level).map { p in
            CurveSummaryPoint(
                tokens: p.x, mean: p.summary.mean, lower: p.summary.interval?.lower,
                upper: p.summary.interval?.upper, n: p.n)
        }
    }

    /// Mean (with a t interval where n ≥ 2) over runs, each a map x → value, at the x values every run has — or at
    /// their union when the runs share fewer than two (e.g. different evaluation schedules).
    static func meanOverRuns(_ perRun: [[Double: Double]], level: Double) -> [(x: Double, summary: MeanSummary, n: Int)] {
        var grid = perRun.first.map { Set($0.keys) } ?? []
        for m in perRun.dropFirst() { grid.formIntersection(m.keys) }
        if grid.count < 2 { grid = perRun.reduce(into: Set<Double>()) { $0.formUnion($1.keys) } }
        return grid.sorted().map { x in
            let values = perRun.compactMap { $0[x] }
            return (x, MeanSummary(values, level: level), values.count)
        }
    }

    static func compare(arm: String, size: ModelShape, _ a: Cell, _ b: Cell, level: Double) -> Comparison {
        let (common, paired) = SeedPairedTest.matched([a.finalsBySeed, b.finalsBySeed])
        let pi = try? probabilityOfImprovement(candidate: a.finals, baseline: b.finals)
        let rawDelta = a.final.mean - b.final.mean

        if common.count >= 2 {
            let t = SeedPairedTest(paired[0], minus: paired[1], level: level)
            let dropped = a.runs.count + b.runs.count - 2 * common.count
            let dropNote = dropped > 0 ? "\(dropped) unmatched run\(dropped == 1 ? "" : "s") left out of the pairs" : nil
            return Comparison(
                arm: arm, size: size, test: t.pValue != nil ? .paired : .none, delta: t.delta, interval: t.interval,
                pValue: t.pValue, holmPValue: nil, nArm: a.runs.count, nBaseline: b.runs.count,
                pairs: common.count, probabilityOfImprovement: pi, note: t.note ?? dropNote, seedGaps: t.differences)
        }
        let gaps = a.finals.map { $0 - b.final.mean }
        if a.runs.count >= 2 && b.runs.count >= 2 {
            let note = common.isEmpty ? nil : "fewer than 2 seed-matched pairs: unpaired test"
            if let w = try? WelchTest(a.finals, b.finals, level: level) {
                return Comparison(
                    arm: arm, size: size, test: .welch, delta: w.meanDifference, interval: w.interval,
                    pValue: w.pValue, holmPValue: nil, nArm: a.runs.count, nBaseline: b.runs.count,
                    pairs: common.count, probabilityOfImprovement: pi, note: note, seedGaps: gaps)
            }
            return Comparison(
                arm: arm, size: size, test: .none, delta: rawDelta, interval: nil, pValue: nil,
                holmPValue: nil, nArm: a.runs.count, nBaseline: b.runs.count, pairs: common.count,
                probabilityOfImprovement: pi, note: "zero variance in both arms: no test",
                seedGaps: gaps)
        }
        return Comparison(
            arm: arm, size: size, test: .none, delta: rawDelta, interval: nil, pValue: nil,
            holmPValue: nil, nArm: a.runs.count, nBaseline: b.runs.count, pairs: common.count,
            probabilityOfImprovement: pi, note: "n too small", seedGaps: gaps)
    }

    static func fit(_ points: [(Double, Double)]) -> FitResult {
        let n = points.count
        guard n >= 2 else { return FitResult(fit: nil, sizes: n, note: "fewer than 2 sizes: no fit") }
        let x = points.map(\.0), y = points.map(\.1)
        do {
            return FitResult(fit: try ScalingFit(sizes: x, losses: y), sizes: n, note: nil)
        } catch StatsError.notConverged(_, let reason) {
            if let f = try? ScalingFit(logLogSizes: x, losses: y) {
                return FitResult(
                    fit: f, sizes: n,
                    note: "the nonlinear fit did not converge (\(reason)); log-log line instead")
            }
            return FitResult(fit: nil, sizes: n, note: "no fit: \(reason)")
        } catch {
            return FitResult(fit: nil, sizes: n, note: "no fit: \(error)")
        }
    }

    static func trend(_ cs: [Comparison], level: Double) -> GapTrend {
        var xs = [Double](), ys = [Double]()
        for c in cs {
            for g in c.seedGaps {
                xs.append(log10(Double(c.size.nonEmbedding)))
                ys.append(g)
            }
        }
        let meanGaps = cs.map { (size: $0.size, gap: $0.delta) }
        let sizes = Set(cs.map(\.size)).count
        var line: LinearFit? = nil
        var interval: ConfidenceInterval? = nil
        if sizes >= 2, let f = try? LinearFit(x: xs, y: ys) {
            line = f
            if let se = f.slopeStandardError, se > 0, let t = tQuantile(level: level, degreesOfFreedom: xs.count - 2) {
                interval = ConfidenceInterval(lower: f.slope - t * se, upper: f.slope + t * se, level: level)
            }
        }
        let rho = try? Correlation.spearman(meanGaps.map { Double($0.size.nonEmbedding) }, meanGaps.map(\.gap))
        return GapTrend(
            line: line, slopeInterval: interval, spearman: rho ?? nil, points: xs.count, sizes: sizes,
            meanGaps: meanGaps)
    }

    /// The two-sided Student-t quantile t₁₋₍₁₋level₎/₂(df) (Stats' `studentTQuantile`); nil for df < 1.
    public static func tQuantile(level: Double, degreesOfFreedom df: Int) -> Double? {
        guard df >= 1 else { return nil }
        return try? studentTQuantile(level: level, degreesOfFreedom: Double(df))
    }

    /// Tokens at which the curve first reaches `target` (≤), interpolated linearly between evaluations; nil if never.
    public static func firstCrossing(_ curve: [CurveSummaryPoint], _ target: Double) -> Double? {
        for (i, p) in curve.enumerated() where p.mean <= target {
            guard i > 0 else { return p.tokens }
            let q = curve[i - 1]
            let f = (q.mean - target) / (q.mean - p.mean)
            return q.tokens + f * (p.tokens - q.tokens)
        }
        return nil
    }

    static func problems(
        _ runs: [RunRecord], arms: [String], sizes: [ModelShape], seeds: [UInt64],
        armName: (RunRecord) -> String, expectedRunIDs: [String]?
    ) -> [RunProblem] {
        var out = [RunProblem]()
        for r in runs.sorted(by: { $0.id < $1.id }) {
            // status.json's step counts the steps completed; the reason names the step that failed (one later).
            let at = r.step.map { s in r.totalSteps.map { "\(s) of \($0) steps" } ?? "\(s) steps" }
            let reason = r.reason.map { ": \($0)" } ?? ""
            switch r.state {
            case .finished: continue
            case .diverged: out.append(RunProblem(kind: .diverged, id: r.id, detail: "diverged after \(at ?? "?")\(reason)"))
            case .failed: out.append(RunProblem(kind: .failed, id: r.id, detail: "failed after \(at ?? "?")\(reason)"))
            case .running:
                out.append(
                    RunProblem(
                        kind: .unfinished, id: r.id,
                        detail: "not finished (\(at ?? "no status"))\(reason)"))
            case .unreadable: out.append(RunProblem(kind: .unreadable, id: r.id, detail: r.reason ?? "unreadable"))
            }
        }
        let presentIDs = Set(runs.map(\.id))
        if let expectedRunIDs {
            for id in expectedRunIDs.sorted() where !presentIDs.contains(id) {
                out.append(RunProblem(kind: .missing, id: id, detail: "no run folder (listed in grid.json)"))
            }
            return out
        }
        // Missing, without a grid.json: the grid is taken to be every arm × size × seed that appears anywhere in it.
        struct Key: Hashable { let arm: String, size: ModelShape, seed: UInt64 }
        let present = Set(runs.filter { $0.state != .unreadable }.map { Key(arm: armName($0), size: $0.shape, seed: $0.seed) })
        for arm in arms {
            for size in sizes {
                for seed in seeds where !present.contains(Key(arm: arm, size: size, seed: seed)) {
                    let id = RunID.compose(arm: arm, dModel: size.dModel, nLayer: size.nLayer, vocabSize: size.vocabSize, seed: seed)
                    if presentIDs.contains(id) { continue }  // listed above as unreadable
                    out.append(RunProblem(kind: .missing, id: id, detail: "no run folder"))
                }
            }
        }
        return out
    }
}
