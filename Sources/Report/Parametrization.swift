import Foundation
import Stats

/// μP changes two things at once: the network (hidden learning rates ÷ width, attention 1/d, readout multiplier) and
/// the input table (σ_base, input multiplier α_in). With the four arms network sp/mup × table plain/μP-scaled, this
/// says which part helps: per size, the mean final loss of each arm and the paired effects of the μP network
/// (plain table), the μP table (SP network), both, and their interaction, Holm-adjusted over the whole family.
public struct MuPDecomposition: Sendable {
    public static let mupStrategy = "mup"
    /// Strategies whose table is the learned table (`mup` is `learned` with μP's table rule).
    static let learnedTables: Set<String> = ["learned", mupStrategy]

    public struct Quadrant: Hashable, Sendable {
        public let network: String  // "sp" | "mup"
        public let scaledTable: Bool
        public init(network: String, scaledTable: Bool) { self.network = network; self.scaledTable = scaledTable }
    }
    public static let quadrants = [
        Quadrant(network: "sp", scaledTable: false), Quadrant(network: "sp", scaledTable: true),
        Quadrant(network: "mup", scaledTable: false), Quadrant(network: "mup", scaledTable: true),
    ]

    public enum Effect: String, CaseIterable, Sendable {
        case network = "μP network (plain table)"
        case table = "μP table (SP network)"
        case both = "μP network + μP table"
        case interaction = "interaction"
    }

    public struct EffectTest: Sendable {
        public let effect: Effect
        public let size: ModelShape
        /// Δ final loss (negative: the μP part lowers the loss); for the interaction, the difference of differences.
        public let delta: Double
        public let interval: ConfidenceInterval?
        public let pValue: Double?
        public var holmPValue: Double?
        public let pairs: Int
        public let note: String?
    }

    /// Quadrant → the arm (and its slice's analysis) that fills it.
    public let arms: [Quadrant: String]
    public let sizes: [ModelShape]
    /// Per size and quadrant, the mean final loss over seeds.
    public let means: [ModelShape: [Quadrant: MeanSummary]]
    public let effects: [EffectTest]
    public let sizeLabels: [ModelShape: String]
    /// The unit of the slices' losses (`PrimaryMetric.unit`).
    public let unit: String

    /// A table counts as μP-scaled when its recorded input multiplier is not 1; the `mup` strategy's default is 10
    /// (runs written before the multiplier was recorded).
    static func isScaled(_ r: RunRecord) -> Bool {
        (r.inputMultiplier ?? (r.strategy == mupStrategy ? 10 : 1)) != 1
    }

    /// nil unless each of the four quadrants is filled by exactly one arm of a learned table.
    init?(_ analyses: [GridAnalysis], level: Double) {
        var arms = [Quadrant: String]()
        var cellsOf = [Quadrant: (String, GridAnalysis)]()
        var ambiguous = false
        for a in analyses {
            for arm in a.arms where MuPDecomposition.learnedTables.contains(a.armStrategies[arm] ?? "") {
                guard let run = a.sizes.lazy.compactMap({ a.cell(arm, $0)?.runs.first }).first else { continue }
                let q = Quadrant(network: run.parametrization, scaledTable: MuPDecomposition.isScaled(run))
                guard MuPDecomposition.quadrants.contains(q) else { continue }
                if arms[q] != nil { ambiguous = true }
                arms[q] = arm
                cellsOf[q] = (arm, a)
            }
        }
        guard !ambiguous, arms.count == 4 else { return nil }
        self.arms = arms
        unit = analyses[0].metric.unit
        let sizes = Set(analyses.flatMap(\.sizes)).sorted()
        self.sizes = sizes
        sizeLabels = GridAnalysis.labels(sizes)
        func cell(_ q: Quadrant, _ s: ModelShape) -> GridAnalysis.Cell? { cellsOf[q].flatMap { $0.1.cell($0.0, s) } }

        var means = [ModelShape: [Quadrant: MeanSummary]]()
        var effects = [EffectTest]()
        let spPlain = MuPDecomposition.quadrants[0], spScaled = MuPDecomposition.quadrants[1]
        let mupPlain = MuPDecomposition.quadrants[2], mupScaled = MuPDecomposition.quadrants[3]
        for s in sizes {
            for q in MuPDecomposition.quadrants { if let c = cell(q, s) { means[s, default: [:]][q] = c.final } }
            // Each effect is a contrast of seed-matched final losses: Σ sign · loss over the quadrants it involves.
            let contrasts: [(Effect, [(Quadrant, Double)])] = [
                (.network, [(mupPlain, 1), (spPlain, -1)]),
                (.table, [(spScaled, 1), (spPlain, -1)]),
                (.both, [(mupScaled, 1), (spPlain, -1)]),
                (.interaction, [(mupScaled, 1), (mupPlain, -1), (spScaled, -1), (spPlain, 1)]),
            ]
            for (effect, terms) in contrasts {
                let bySeed = terms.map { q, _ in
                    cell(q, s).map { c in Dictionary(c.runs.map { ($0.seed, $0.finalValLoss!) }, uniquingKeysWith: { x, _ in x }) }
                }
                let present = bySeed.compactMap { $0 }
                guard present.count == terms.count else { continue }
                let seeds = present.dropFirst().reduce(Set(present[0].keys)) { $0.intersection($1.keys) }.sorted()
                effects.append(MuPDecomposition.test(effect, size: s, seeds: seeds, terms: terms, bySeed: present, level: level))
            }
        }
        let tested = effects.indices.filter { effects[$0].pValue != nil }
        if let adjusted = try? HolmCorrection.adjustedPValues(tested.map { effects[$0].pValue! }) {
            for (k, i) in tested.enumerated() { effects[i].holmPValue = adjusted[k] }
        }
        self.means = means
        self.effects = effects
    }

    /// The paired t-test of one contrast over the seeds every involved quadrant has: the positive terms against the
    /// negative ones (for the interaction, (a₁₁ − a₁₀) against (a₀₁ − a₀₀), i.e. a one-sample t of the per-seed
    /// difference of differences).
    static func test(
        _ effect: Effect, size: ModelShape, seeds: [UInt64], terms: [(Quadrant, Double)], bySeed: [[UInt64: Double]],
        level: Double
    ) -> EffectTest {
        func side(_ sign: Double) -> [Double] {
            seeds.map { seed in zip(terms, bySeed).reduce(0.0) { acc, t in t.0.1 == sign ? acc + t.1[seed]! : acc } }
        }
        var positive = side(1), negative = side(-1)
        if effect == .interaction {
            // (a₁₁ + a₀₀) − (a₁₀ + a₀₁) = (a₁₁ − a₁₀) − (a₀₁ − a₀₀): the same pairs, written as two differences.
            let a11 = seeds.map { bySeed[0][$0]! }, a10 = seeds.map { bySeed[1][$0]! }
            let a01 = seeds.map { bySeed[2][$0]! }, a00 = seeds.map { bySeed[3][$0]! }
            positive = zip(a11, a10).map { $0 - $1 }
            negative = zip(a01, a00).map { $0 - $1 }
        }
        let diffs = zip(positive, negative).map { $0 - $1 }
        let mean = diffs.isEmpty ? Double.nan : diffs.reduce(0, +) / Double(diffs.count)
        guard seeds.count >= 2 else {
            return EffectTest(
                effect: effect, size: size, delta: mean, interval: nil, pValue: nil, holmPValue: nil, pairs: seeds.count,
                note: "fewer than 2 seeds in every arm: no test")
        }
        guard let t = try? PairedTTest(positive, negative, level: level) else {
            return EffectTest(
                effect: effect, size: size, delta: mean, interval: nil, pValue: nil, holmPValue: nil, pairs: seeds.count,
                note: "all paired differences equal: no test")
        }
        return EffectTest(
            effect: effect, size: size, delta: t.meanDifference, interval: t.interval, pValue: t.pValue, holmPValue: nil,
            pairs: seeds.count, note: nil)
    }
}
