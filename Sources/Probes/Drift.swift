/// How a table moves during training, from its snapshots (step 0 = init, last = final).
///
/// Per snapshot t (E_t the table, E_0 the init, E_T the final table, norms Frobenius over the flattened table):
/// - relative change from init   ‖E_t − E_0‖ / ‖E_0‖
/// - cosine to final             ⟨E_t, E_T⟩ / (‖E_t‖·‖E_T‖)
/// - relative distance to final  ‖E_t − E_T‖ / ‖E_T‖
/// - remaining drift             ‖E_t − E_T‖ / ‖E_0 − E_T‖   (1 at init, 0 at the end)
///
/// Stabilisation point: the training fraction of the earliest snapshot from which on **every** later snapshot
/// has remaining drift ≤ 10 % (`driftThreshold`): the table has covered 90 % of its total journey and never moves
/// away again. A second, scale-free reading: the earliest snapshot from which on the cosine to the final table
/// stays ≥ 0.99 (`cosineThreshold`). Both are upper bounds at the resolution of the snapshot grid (the true point
/// lies between the previous snapshot and this one); 1 means "not before the end". Undefined (nil) for a table
/// that does not move (frozen).
public struct Drift: Codable, Sendable, Equatable {
    public static let driftThreshold = 0.1
    public static let cosineThreshold = 0.99

    public var steps: [Int]
    public var fractions: [Double]
    public var relativeChangeFromInit: [Double]
    public var cosineToFinal: [Double?]
    public var relativeDistanceToFinal: [Double]
    public var remainingDrift: [Double?]
    /// ‖E_T − E_0‖ / ‖E_0‖.
    public var totalDrift: Double
    /// True when the table did not change at all (frozen strategies).
    public var frozen: Bool
    public var stabilisedAt: Double?
    public var stabilisedAtCosine: Double?

    enum CodingKeys: String, CodingKey {
        case steps, fractions, relativeChangeFromInit = "relative_change_from_init", cosineToFinal = "cosine_to_final"
        case relativeDistanceToFinal = "relative_distance_to_final", remainingDrift = "remaining_drift"
        case totalDrift = "total_drift", frozen, stabilisedAt = "stabilised_at", stabilisedAtCosine = "stabilised_at_cosine"
    }

    /// `snapshots` sorted by step, the first at step 0 and the last the final table; `totalSteps` > 0.
    public init(snapshots: [(step: Int, table: ProbeMatrix)], totalSteps: Int) {
        precondition(!snapshots.isEmpty && totalSteps > 0, "Drift needs snapshots and a positive step count")
        let e0 = snapshots.first!.table, eT = snapshots.last!.table
        let n0 = e0.frobeniusNorm, nT = eT.frobeniusNorm
        let total = TableDistance.distance(e0, eT)
        steps = snapshots.map(\.step)
        fractions = snapshots.map { Double($0.step) / Double(totalSteps) }
        relativeChangeFromInit = snapshots.map { n0 > 0 ? TableDistance.distance($0.table, e0) / n0 : 0 }
        cosineToFinal = snapshots.map { TableDistance.cosine($0.table, eT) }
        let toFinal = snapshots.map { TableDistance.distance($0.table, eT) }
        relativeDistanceToFinal = toFinal.map { nT > 0 ? $0 / nT : 0 }
        frozen = total == 0
        totalDrift = n0 > 0 ? total / n0 : 0
        remainingDrift = toFinal.map { total > 0 ? $0 / total : nil }
        let fr = fractions
        func firstStable(_ ok: (Int) -> Bool) -> Double? {
            guard !frozen else { return nil }
            var first: Int? = nil
            for i in fr.indices.reversed() { if ok(i) { first = i } else { break } }
            return first.map { fr[$0] }
        }
        let rd = remainingDrift, cs = cosineToFinal
        stabilisedAt = firstStable { (rd[$0] ?? 1) <= Self.driftThreshold }
        stabilisedAtCosine = firstStable { (cs[$0] ?? 0) >= Self.cosineThreshold }
    }
}
