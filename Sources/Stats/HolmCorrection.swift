/// Holm–Bonferroni step-down correction for a family of m tests (e.g. every strategy vs the baseline): controls
/// the family-wise error rate like Bonferroni, uniformly more powerful, no independence assumption.
///
/// Sort p ascending, p₍₁₎ ≤ … ≤ p₍ₘ₎; adjusted p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎). The running max makes
/// the adjusted values monotone in the raw ones; results come back in the input order. Reject hypothesis i at
/// family-wise level α iff p̃ᵢ ≤ α. Matches `statsmodels.stats.multitest.multipletests(p, method='holm')`.
public enum HolmCorrection {
    /// Adjusted p-values in the order given. An empty family gives `[]`. Throws `StatsError.invalidArgument` if a
    /// p-value is NaN or outside [0, 1]. Ties keep their input order (they get equal adjusted values anyway).
    public static func adjustedPValues(_ p: [Double]) throws -> [Double] {
        guard p.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw StatsError.invalidArgument("p-values must lie in [0, 1]")
        }
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] || (p[$0] == p[$1] && $0 < $1) }
        var adjusted = [Double](repeating: 0, count: m)
        var runningMax = 0.0
        for (rank, i) in order.enumerated() {
            runningMax = max(runningMax, min(1, Double(m - rank) * p[i]))
            adjusted[i] = runningMax
        }
        return adjusted
    }

    /// Which hypotheses are rejected at family-wise level `alpha` (p̃ᵢ ≤ α), in the order given.
    public static func rejected(_ p: [Double], alpha: Double = 0.05) throws -> [Bool] {
        try adjustedPValues(p).map { $0 <= alpha }
    }
}
