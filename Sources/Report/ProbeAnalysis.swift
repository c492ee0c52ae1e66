import Foundation
import RunFormat
import Stats

/// The embedding-probe numbers of a grid, computed from the `probes.json` of its finished runs:
/// per arm × size × table (input embedding, output head) the mean over seeds of each geometry metric, the
/// word-similarity ρ per set, the mean drift curve and the stabilisation points. Markdown and figures only format
/// this. Runs that are not finished are left out (as in the rest of the report).
public struct ProbeAnalysis: Sendable {
    public struct Key: Hashable, Sendable {
        public let arm: String
        public let size: ModelShape
        public let kind: ProbeRecord.Kind
        public init(arm: String, size: ModelShape, kind: ProbeRecord.Kind) {
            self.arm = arm; self.size = size; self.kind = kind
        }
    }

    /// One word-similarity set on the tables of one cell: in-corpus ρ (the probe's primary variant).
    public struct WordSimilarityCell: Sendable {
        /// Final-table ρ of each run, ascending by seed.
        public let finalValues: [Double]
        public let final: MeanSummary
        public let initial: MeanSummary?
        /// The run's own approximate 95 % interval (Fisher z over word pairs) when the cell has one run; it does not
        /// cover seed-to-seed variation.
        public let singleRunInterval: ConfidenceInterval?

        /// The t interval over seeds at `level` (e.g. Bonferroni-adjusted); nil for n < 2 or no spread.
        public func interval(level: Double) -> ConfidenceInterval? { MeanSummary(finalValues, level: level).interval }

        /// A detectable signal: the t interval over seeds at `level` lies above 0 and above the init table's mean ρ.
        /// Cells with one run never count (a single run says nothing about seed variation).
        public func signal(level: Double) -> Bool {
            guard let ci = interval(level: level), ci.lower > 0 else { return false }
            return initial.map { ci.lower > $0.mean } ?? true
        }
    }

    /// A drift curve's mean over the seeds of a cell at one training fraction.
    public struct DriftPoint: Sendable, Equatable {
        public let fraction: Double
        public let mean: Double
        public let lower: Double?
        public let upper: Double?
        public let n: Int
    }

    /// The probed (finished) runs of one arm at one size, for one table.
    public struct Cell: Sendable {
        public let runs: [String]
        public var n: Int { runs.count }
        /// Every run's drift says the table never moved (frozen-random, hashed input tables).
        public let frozen: Bool
        public let dModel: Int
        public let effectiveRank: MeanSummary?
        public let effectiveRankInit: MeanSummary?
        public let isotropy: MeanSummary?
        public let normFrequency: MeanSummary?
        public let wordSimilarity: [String: WordSimilarityCell]
        /// Mean remaining drift ‖E_t − E_T‖ / ‖E_0 − E_T‖ over seeds, per snapshot fraction (empty when frozen or
        /// without snapshots).
        public let remainingDrift: [DriftPoint]
        /// Per run with a drift record (not frozen): `stabilised_at` (1 = not before the end), ascending by seed.
        public let stabilisedAt: [Double]
        public let stabilisedAtCosine: [Double]
        public let totalDrift: MeanSummary?
        /// Mean stabilisation point over the runs trained to a plateau (`testableStabilisedAt`; t interval where
        /// n ≥ 2): a run stopped while its loss still fell says nothing about when its table stops moving.
        public internal(set) var stabilised: MeanSummary?
        /// Runs whose table reached the threshold only at the final snapshot ("not before the end").
        public var notStabilised: Int { stabilisedAt.filter { $0 >= 1 }.count }
        /// Per run with a drift record, aligned with `stabilisedAt`: the relative fall of its validation loss over the
        /// last `lossFallWindow` of training, or of the steps before a WSD decay (`ProbeAnalysis.lossFall(_ run:)`), nil
        /// without enough of a curve.
        public let lossFall: [Double?]
        /// The runs whose stabilisation can be judged: loss no longer falling by more than `lossFallLimit`.
        public var testableStabilisedAt: [Double] {
            zip(stabilisedAt, lossFall).filter { ProbeAnalysis.isTestable($0.1) }.map(\.0)
        }
    }

    /// A run whose validation loss still fell by more than this fraction over the last `lossFallWindow` of training (of
    /// the steps before the decay for WSD) was stopped while still learning: whether its tables would have stopped
    /// moving is not testable at this budget, and "not stabilised" would be a statement about the budget, not about the
    /// tables. The window is the last half,
    /// not the last tenth: in a cosine schedule's last 10 % the rate is within 2.5 % of the peak-to-floor range above its
    /// floor ((1 + cos πt)/2 < 0.025; below 12 % of the peak at min_lr_ratio 0.1), so the curve flattens there whether
    /// or not the run has converged — 540-step runs still falling 4.6–8.8 % over their second half fall < 1 % over
    /// their last tenth. Over the last half (rate from halfway down to the floor) a run trained to a plateau gains at
    /// most a few per cent, annealing included. A WSD run is read on the steps before its decay (`lossFall(_ run:)`).
    public static let lossFallLimit = 0.03
    public static let lossFallWindow = 0.5

    public static func isTestable(_ fall: Double?) -> Bool { fall.map { $0 <= lossFallLimit } ?? false }

    /// (L(s·T) − L(T)) / L(s·T), s = 1 − window, over the validation curve (tokens, loss), T its last point and
    /// L(s·T) linearly interpolated between the points around it; with `end`, over the points at or before `end` only
    /// (T = the last of them: no point past `end` enters, not even through interpolation). nil with fewer than two
    /// points, or none at or before s·T. Pass a curve on one evaluation set (`RunRecord.curve`): two sets of
    /// batches differ by 1–2 %, as much as the fall this measures.
    public static func lossFall(_ curve: [CurvePoint], window: Double = lossFallWindow, end: Double? = nil) -> Double? {
        let pts = curve.filter { $0.tokens.isFinite && $0.loss.isFinite && $0.tokens <= (end ?? .infinity) }
            .sorted { $0.tokens < $1.tokens }
        guard pts.count >= 2, let last = pts.last, let start = interpolate(pts, at: last.tokens * (1 - window)), start > 0
        else { return nil }
        return (start - last.loss) / start
    }

    /// The plateau rule's fall for one run. A WSD run is read on the second half of the steps before its decay begins
    /// (its last evaluation before the decay is T), warm-up included like any run's first half: at a constant rate the
    /// curve flattens only when the model stops learning, whereas the decay (like a cosine schedule's whole second
    /// half) lowers the loss by annealing whether or not it has. A cosine run is read over the second half of training.
    public static func lossFall(_ run: RunRecord) -> Double? {
        guard let s = run.schedule, s.isWarmupStableDecay else { return lossFall(run.curve) }
        return lossFall(run.curve, end: Double(s.decayStartTokens))
    }

    /// The loss at `x` on sorted points, linear between the points around it; nil before the first point.
    static func interpolate(_ pts: [CurvePoint], at x: Double) -> Double? {
        guard let i = pts.lastIndex(where: { $0.tokens <= x }) else { return nil }
        let a = pts[i], b = pts[i + 1 < pts.count ? i + 1 : i]
        return b.tokens > a.tokens ? a.loss + (b.loss - a.loss) * (x - a.tokens) / (b.tokens - a.tokens) : a.loss
    }

    /// How many probed runs read their plateau before a WSD decay, of how many probed runs (for the wording).
    public let wsdRuns: Int, probedRunCount: Int
    /// The plateau rule's window in words: "over the last 50 % of training" when every run is cosine.
    public var fallWindowText: String {
        let half = "the last \(Int((100 * Self.lossFallWindow).rounded())) %"
        if wsdRuns == 0 { return "over \(half) of training" }
        if wsdRuns == probedRunCount { return "over \(half) of the steps before the decay (WSD: the peak rate held until then)" }
        return "over \(half) of training (of the steps before the decay, for WSD runs)"
    }

    public let level: Double
    /// Table kinds present (the output head is absent when every run ties it to the input table).
    public let kinds: [ProbeRecord.Kind]
    /// Word-similarity sets shown (WordSim-353, SimLex-999, MEN — those present), in that order.
    public let sets: [String]
    /// The set drawn in the figure: SimLex-999 when present.
    public let figureSet: String?
    public let cells: [Key: Cell]
    /// Finished runs with a readable probes.json.
    public let probedRuns: [String]
    /// Finished runs without probes.json.
    public let withoutProbes: [String]
    /// Probed runs without drift records (no snapshots at step 0 and the end): no init baseline, no stabilisation,
    /// and a frozen table cannot be recognised as frozen.
    public let withoutDrift: [String]
    /// Runs whose probes.json exists but was not used, with the reason.
    public let unusable: [(id: String, reason: String)]
    /// In-corpus pairs / total pairs per set over the probed runs (min and max: they depend only on the corpus).
    public let coverage: [String: (pairsMin: Int, pairsMax: Int, total: Int)]
    public let driftThreshold: Double
    public let cosineThreshold: Double
    /// The retrieval probe (MAP of the input tables alone), nearest neighbours.
    public let retrieval: RetrievalAnalysis

    public var hasProbes: Bool { !probedRuns.isEmpty }
    public func cell(_ arm: String, _ size: ModelShape, _ kind: ProbeRecord.Kind) -> Cell? {
        cells[Key(arm: arm, size: size, kind: kind)]
    }

    public static let setOrder = ["wordsim353", "simlex999", "men"]
    public static func setTitle(_ s: String) -> String {
        ["wordsim353": "WordSim-353", "simlex999": "SimLex-999", "men": "MEN"][s] ?? s
    }

    public init(_ a: GridAnalysis) {
        level = a.level
        var cells = [Key: Cell]()
        var probed = [String](), without = [String](), noDrift = [String](), unusable = [(id: String, reason: String)]()
        var setsSeen = Set<String>()
        var coverage = [String: (pairsMin: Int, pairsMax: Int, total: Int)]()
        var driftThreshold: Double?, cosineThreshold: Double?
        var wsd = 0, probedCount = 0
        for r in a.runs.sorted(by: { $0.id < $1.id }) {
            if let p = r.probesProblem { unusable.append((r.id, p)); continue }
            if r.state != .finished {
                if r.probes != nil { unusable.append((r.id, "run not finished: its probes are left out")) }
                continue
            }
            guard let p = r.probes else { without.append(r.id); continue }
            probed.append(r.id)
            probedCount += 1
            if r.schedule?.isWarmupStableDecay == true { wsd += 1 }
            if p.drift.input == nil { noDrift.append(r.id) }
            driftThreshold = driftThreshold ?? p.settings?.driftThreshold
            cosineThreshold = cosineThreshold ?? p.settings?.cosineThreshold
            for (name, ws) in p.tables.input.final.wordSimilarity {
                setsSeen.insert(name)
                let k = ws.pairsInCorpus, t = ws.totalPairs
                let c = coverage[name]
                coverage[name] = (min(c?.pairsMin ?? k, k), max(c?.pairsMax ?? k, k), t)
            }
        }
        self.driftThreshold = driftThreshold ?? 0.1
        wsdRuns = wsd; probedRunCount = probedCount
        self.cosineThreshold = cosineThreshold ?? 0.99
        sets = Self.setOrder.filter(setsSeen.contains)
        figureSet = sets.contains("simlex999") ? "simlex999" : sets.first
        self.coverage = coverage
        probedRuns = probed
        withoutProbes = without
        withoutDrift = noDrift
        self.unusable = unusable

        var kinds = Set<ProbeRecord.Kind>()
        for arm in a.arms {
            for size in a.sizes {
                guard let c = a.cell(arm, size) else { continue }
                let runs = c.runs.filter { $0.probes != nil }
                guard !runs.isEmpty else { continue }
                for kind in ProbeRecord.Kind.allCases {
                    let withTable = runs.filter { $0.probes!.table(kind) != nil }
                    guard !withTable.isEmpty else { continue }
                    kinds.insert(kind)
                    cells[Key(arm: arm, size: size, kind: kind)] =
                        Self.cell(withTable, kind: kind, sets: sets, dModel: size.dModel, level: level)
                }
            }
        }
        self.kinds = ProbeRecord.Kind.allCases.filter(kinds.contains)
        self.cells = cells
        retrieval = RetrievalAnalysis(a)
    }

    static func summary(_ values: [Double?], level: Double) -> MeanSummary? {
        let v = values.compactMap { $0 }.filter(\.isFinite)
        return v.isEmpty ? nil : MeanSummary(v, level: level)
    }

    static func cell(_ runs: [RunRecord], kind: ProbeRecord.Kind, sets: [String], dModel: Int, level: Double) -> Cell {
        let tables = runs.map { $0.probes!.table(kind)! }
        let finals = tables.map(\.final)
        let inits = tables.map(\.initial)
        let drifts = runs.map { $0.probes!.drift(kind) }
        let frozen = drifts.allSatisfy { $0?.frozen == true }
        var ws = [String: WordSimilarityCell]()
        for set in sets {
            let f = finals.map { $0.wordSimilarity[set]?.rhoInCorpus }
            guard let final = summary(f, level: level) else { continue }
            let i = summary(inits.map { $0?.wordSimilarity[set]?.rhoInCorpus }, level: level)
            var single: ConfidenceInterval? = nil
            if final.n == 1, let ci = finals.compactMap({ $0.wordSimilarity[set]?.rhoInCorpusCI95 }).first, ci.count == 2,
                ci[0].isFinite, ci[1].isFinite
            {
                single = ConfidenceInterval(lower: ci[0], upper: ci[1], level: 0.95)
            }
            ws[set] = WordSimilarityCell(
                finalValues: f.compactMap { $0 }.filter(\.isFinite), final: final, initial: i,
                singleRunInterval: single)
        }
        let movingRuns = zip(runs, drifts).compactMap { r, d in d.flatMap { $0.frozen != true ? (r, $0) : nil } }
        let moving = movingRuns.map(\.1)
        var cell = Cell(
            runs: runs.map(\.id), frozen: frozen, dModel: dModel,
            effectiveRank: summary(finals.map(\.effectiveRank), level: level),
            effectiveRankInit: summary(inits.map { $0?.effectiveRank }, level: level),
            isotropy: summary(finals.map(\.isotropy), level: level),
            normFrequency: summary(finals.map(\.normFrequencySpearman), level: level),
            wordSimilarity: ws,
            remainingDrift: frozen ? [] : meanDrift(moving, level: level),
            stabilisedAt: moving.compactMap(\.stabilisedAt),
            stabilisedAtCosine: moving.compactMap(\.stabilisedAtCosine),
            totalDrift: summary(drifts.map { $0?.totalDrift }, level: level),
            stabilised: nil,
            lossFall: movingRuns.filter { $0.1.stabilisedAt != nil }.map { lossFall($0.0) })
        cell.stabilised = summary(cell.testableStabilisedAt, level: level)
        return cell
    }

    /// Mean remaining drift over runs on the snapshot fractions every run has (their union when they share fewer
    /// than two), with a t interval where n ≥ 2.
    static func meanDrift(_ drifts: [Drift], level: Double) -> [DriftPoint] {
        let perRun = drifts.map { d -> [Double: Double] in
            var m = [Double: Double]()
            let f = d.fractions, r = d.remainingDrift
            guard f.count == r.count else { return m }
            for (x, y) in zip(f, r) { if let y, y.isFinite, x.isFinite { m[(x * 1e9).rounded() / 1e9] = y } }
            return m
        }.filter { !$0.isEmpty }
        return GridAnalysis.meanOverRuns(perRun, level: level).map { p in
            DriftPoint(
                fraction: p.x, mean: p.summary.mean, lower: p.summary.interval?.lower,
                upper: p.summary.interval?.upper, n: p.n)
        }
    }

    /// Arms whose table of `kind` moves (not frozen) in at least one probed cell.
    public func movingArms(_ a: GridAnalysis, _ kind: ProbeRecord.Kind) -> [String] {
        a.arms.filter { arm in a.sizes.contains { cell(arm, $0, kind).map { !$0.frozen } ?? false } }
    }

    /// Arms whose table of `kind` is frozen in every probed cell.
    public func frozenArms(_ a: GridAnalysis, _ kind: ProbeRecord.Kind) -> [String] {
        a.arms.filter { arm in
            let cs = a.sizes.compactMap { cell(arm, $0, kind) }
            return !cs.isEmpty && cs.allSatisfy(\.frozen)
        }
    }

    /// Every stabilisation point of an arm's table, pooled over sizes.
    public func stabilisation(_ a: GridAnalysis, _ arm: String, _ kind: ProbeRecord.Kind) -> [Double] {
        a.sizes.flatMap { cell(arm, $0, kind)?.stabilisedAt ?? [] }
    }

    /// The loss falls of an arm's runs with a stabilisation point, pooled over sizes (aligned with `stabilisation`).
    public func lossFalls(_ a: GridAnalysis, _ arm: String, _ kind: ProbeRecord.Kind) -> [Double?] {
        a.sizes.flatMap { cell(arm, $0, kind)?.lossFall ?? [] }
    }
}
