import Foundation
import Stats

/// The paired t-test every seed-matched comparison of the report uses (strategy vs baseline, the μP decomposition's
/// contrasts): run i of both sides shares the seed's data order and non-embedding initialisation, so per-seed noise
/// cancels in the difference xᵢ − yᵢ.
struct SeedPairedTest: Sendable {
    /// Mean of xᵢ − yᵢ (the t-test's own mean when there is a test; NaN without pairs).
    let delta: Double
    let interval: ConfidenceInterval?
    let pValue: Double?
    /// xᵢ − yᵢ per pair, in the order given.
    let differences: [Double]
    /// Why there is no test although there are at least 2 pairs; nil otherwise (fewer pairs: the caller says why).
    let note: String?

    static let noSpreadNote = "all paired differences equal: no test"

    init(_ x: [Double], minus y: [Double], level: Double) {
        differences = zip(x, y).map { $0 - $1 }
        if differences.count >= 2, let t = try? PairedTTest(x, y, level: level) {
            delta = t.meanDifference
            interval = t.interval
            pValue = t.pValue
            note = nil
            return
        }
        delta = differences.isEmpty ? .nan : differences.reduce(0, +) / Double(differences.count)
        interval = nil
        pValue = nil
        note = differences.count >= 2 ? Self.noSpreadNote : nil
    }

    /// Each side's final loss per seed, restricted to the seeds every side has (ascending): the pairs of a test.
    static func matched(_ sides: [[UInt64: Double]]) -> (seeds: [UInt64], values: [[Double]]) {
        guard let first = sides.first else { return ([], []) }
        let seeds = sides.dropFirst().reduce(Set(first.keys)) { $0.intersection($1.keys) }.sorted()
        return (seeds, sides.map { side in seeds.map { side[$0]! } })
    }

    /// Holm's step-down adjustment over one family: every item with a p-value gets its adjusted p-value.
    static func applyHolm<Item>(
        _ items: inout [Item], pValue: KeyPath<Item, Double?>, adjusted: WritableKeyPath<Item, Double?>
    ) {
        let tested = items.indices.filter { items[$0][keyPath: pValue] != nil }
        guard let holm = try? HolmCorrection.adjustedPValues(tested.map { items[$0][keyPath: pValue]! }) else { return }
        for (k, i) in tested.enumerated() { items[i][keyPath: adjusted] = holm[k] }
    }
}

/// What the report prints of one seed-paired test in a Holm family: Δ, its interval, p and the Holm-adjusted p, the
/// number of pairs, and why there is no test. The μP decomposition's effects and the gaps across settings hold one
/// each and read its fields as their own (`HasPairedResult`).
public struct PairedResult: Sendable {
    public let delta: Double
    public let interval: ConfidenceInterval?
    public let pValue: Double?
    /// Set for the whole family at once (`SeedPairedTest.applyHolm`).
    public var holmPValue: Double?
    public let pairs: Int
    public let note: String?

    /// `test` over `pairs` seeds; with fewer than 2, `fewPairs` says why there is no test.
    init(_ test: SeedPairedTest, pairs: Int, fewPairs: String) {
        delta = test.delta; interval = test.interval; pValue = test.pValue; holmPValue = nil
        self.pairs = pairs
        note = pairs < 2 ? fewPairs : test.note
    }
}

/// A result that carries a `PairedResult` and reads its fields as its own (`effect.delta`, `effect.holmPValue`).
@dynamicMemberLookup
public protocol HasPairedResult {
    var result: PairedResult { get set }
}

extension HasPairedResult {
    public subscript<T>(dynamicMember field: KeyPath<PairedResult, T>) -> T { result[keyPath: field] }
    public subscript<T>(dynamicMember field: WritableKeyPath<PairedResult, T>) -> T {
        get { result[keyPath: field] }
        set { result[keyPath: field] = newValue }
    }
}

extension GridAnalysis.Cell {
    /// Final loss per seed (the first run of a seed when a cell pools several).
    var finalsBySeed: [UInt64: Double] {
        Dictionary(runs.map { ($0.seed, $0.finalValLoss!) }, uniquingKeysWith: { x, _ in x })
    }
}
