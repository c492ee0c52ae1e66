import RunFormat

// `Drift` (what probes.json records about how a table moves) is declared in RunFormat; this computes it.
extension Drift {
    /// `snapshots` sorted by step, the first at step 0 and the last the final table; `totalSteps` > 0.
    public init(snapshots: [(step: Int, table: ProbeMatrix)], totalSteps: Int) {
        precondition(!snapshots.isEmpty && totalSteps > 0, "Drift needs snapshots and a positive step count")
        let e0 = snapshots.first!.table, eT = snapshots.last!.table
        let n0 = e0.frobeniusNorm, nT = eT.frobeniusNorm
        let total = TableDistance.distance(e0, eT)
        let fractions = snapshots.map { Double($0.step) / Double(totalSteps) }
        let cosineToFinal = snapshots.map { TableDistance.cosine($0.table, eT) }
        let toFinal = snapshots.map { TableDistance.distance($0.table, eT) }
        let frozen = total == 0
        let remainingDrift = toFinal.map { total > 0 ? $0 / total : nil }
        func firstStable(_ ok: (Int) -> Bool) -> Double? {
            guard !frozen else { return nil }
            var first: Int? = nil
            for i in fractions.indices.reversed() { if ok(i) { first = i } else { break } }
            return first.map { fractions[$0] }
        }
        self.init(
            steps: snapshots.map(\.step), fractions: fractions,
            relativeChangeFromInit: snapshots.map { n0 > 0 ? TableDistance.distance($0.table, e0) / n0 : 0 },
            cosineToFinal: cosineToFinal, relativeDistanceToFinal: toFinal.map { nT > 0 ? $0 / nT : 0 },
            remainingDrift: remainingDrift, totalDrift: n0 > 0 ? total / n0 : 0, frozen: frozen,
            stabilisedAt: firstStable { (remainingDrift[$0] ?? 1) <= Self.driftThreshold },
            stabilisedAtCosine: firstStable { (cosineToFinal[$0] ?? 0) >= Self.cosineThreshold })
    }
}
