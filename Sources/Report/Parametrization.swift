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

    public struct EffectTest: Sendable, HasPairedResult {
        public let effect: Effect
        public let size: ModelShape
        /// The test; its Δ is the change in final loss (negative: the μP part lowers the loss), for the interaction the
        /// difference of differences.
        public var result: PairedResult
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
                let cells = terms.compactMap { q, _ in cell(q, s) }
                guard cells.count == terms.count else { continue }
                let (seeds, values) = SeedPairedTest.matched(cells.map(\.finalsBySeed))
                effects.append(MuPDecomposition.test(effect, size: s, seeds: seeds, terms: terms, values: values, level: level))
            }
        }
        SeedPairedTest.applyHolm(&effects, pValue: \.pValue, adjusted: \.holmPValue)
        self.means = means
        self.effects = effects
    }

    /// The paired t-test of one contrast over the seeds every involved quadrant has: the positive terms against the
    /// negative ones (for the interaction, (a₁₁ − a₁₀) against (a₀₁ − a₀₀), i.e. a one-sample t of the per-seed
    /// difference of differences).
    static func test(
        _ effect: Effect, size: ModelShape, seeds: [UInt64], terms: [(Quadrant, Double)], values: [[Double]], level: Double
    ) -> EffectTest {
        func side(_ sign: Double) -> [Double] {
            seeds.indices.map { i in zip(terms, values).reduce(0.0) { acc, t in t.0.1 == sign ? acc + t.1[i] : acc } }
        }
        var positive = side(1), negative = side(-1)
        if effect == .interaction {
            // (a₁₁ + a₀₀) − (a₁₀ + a₀₁) = (a₁₁ − a₁₀) − (a₀₁ − a₀₀): the same pairs, written as two differences.
            positive = zip(values[0], values[1]).map { $0 - $1 }
            negative = zip(values[2], values[3]).map { $0 - $1 }
        }
        let t = SeedPairedTest(positive, minus: negative, level: level)
        return EffectTest(
            effect: effect, size: size, result: PairedResult(t, pairs: seeds.count, fewPairs: "fewer than 2 seeds in every arm: no test"))
    }
}
