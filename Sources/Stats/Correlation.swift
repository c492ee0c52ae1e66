import CGSL

/// Correlation coefficients of paired samples (e.g. a probe score vs the loss gap across sizes).
///
/// Both return `nil` when the coefficient is undefined or meaningless: fewer than 3 pairs (with 2 pairs r is
/// always ±1) or zero variance in either input (0/0; SciPy returns NaN). They throw `.lengthMismatch` for unequal
/// lengths and `.nonFinite` for NaN/inf.
public enum Correlation {
    /// Pearson's r = Σ(xᵢ − x̄)(yᵢ − ȳ) / √(Σ(xᵢ − x̄)²·Σ(yᵢ − ȳ)²) (`gsl_stats_correlation`).
    /// Matches `scipy.stats.pearsonr(x, y).statistic`.
    public static func pearson(_ x: [Double], _ y: [Double]) throws -> Double? {
        guard try defined(x, y) else { return nil }
        let r = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in gsl_stats_correlation(xp.baseAddress, 1, yp.baseAddress, 1, x.count) }
        }
        return r.isFinite ? min(1, max(-1, r)) : nil
    }

    /// Spearman's ρ: Pearson's r of the ranks, ties getting their average rank (`gsl_stats_spearman`, workspace
    /// of 2n doubles). Matches `scipy.stats.spearmanr(x, y).statistic`, including ties.
    public static func spearman(_ x: [Double], _ y: [Double]) throws -> Double? {
        guard try defined(x, y) else { return nil }
        var work = [Double](repeating: 0, count: 2 * x.count)
        let r = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                work.withUnsafeMutableBufferPointer { wp in
                    gsl_stats_spearman(xp.baseAddress, 1, yp.baseAddress, 1, x.count, wp.baseAddress)
                }
            }
        }
        return r.isFinite ? min(1, max(-1, r)) : nil
    }

    /// Validates and says whether a coefficient is defined: n ≥ 3 and neither input constant.
    private static func defined(_ x: [Double], _ y: [Double]) throws -> Bool {
        try Check.sameLength(x, y)
        try Check.finite(x)
        try Check.finite(y)
        GSL.setUp()
        guard x.count >= 3 else { return false }
        return Set(x).count > 1 && Set(y).count > 1
    }
}
