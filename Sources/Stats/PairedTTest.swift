import CGSL

/// Paired t-test on dᵢ = aᵢ − bᵢ: the right test when run i of both arms shares the seed's data order and
/// non-embedding initialisation, so per-seed noise cancels in the difference.
///
/// t = d̄ / (s_d/√n), df = n − 1, p = 2·Q(|t|; df), CI of d̄ = d̄ ± t_q(n − 1)·s_d/√n.
/// Matches `scipy.stats.ttest_rel(a, b)`. Effect size: Cohen's d_z = d̄ / s_d (standardised mean difference of
/// the pairs).
///
/// Degenerate inputs: throws `.lengthMismatch` for unequal lengths, `.tooFewValues` for n < 2 pairs, `.nonFinite`
/// for NaN/inf, `.zeroVariance` when all differences are equal (t undefined; SciPy returns NaN or ±inf).
public struct PairedTTest: Sendable, Equatable {
    /// Mean of aᵢ − bᵢ.
    public let meanDifference: Double
    /// s_d / √n.
    public let standardError: Double
    public let t: Double
    /// n − 1.
    public let degreesOfFreedom: Double
    /// Two-sided p-value.
    public let pValue: Double
    /// Student-t CI of the mean difference at `interval.level`.
    public let interval: ConfidenceInterval
    /// d̄ / s_d.
    public let cohensDz: Double

    public init(_ a: [Double], _ b: [Double], level: Double = 0.95) throws {
        try Check.sameLength(a, b)
        try Check.count(a, atLeast: 2)
        try Check.finite(a)
        try Check.finite(b)
        try Check.level(level)
        let d = try Sample(zip(a, b).map { $0 - $1 })
        let sd = d.standardDeviation!  // n ≥ 2
        guard sd > 0 else { throw StatsError.zeroVariance }
        meanDifference = d.mean
        standardError = d.standardError!
        t = meanDifference / standardError
        degreesOfFreedom = Double(d.count - 1)
        pValue = twoSidedPValue(t: t, degreesOfFreedom: degreesOfFreedom)
        interval = try studentInterval(
            center: meanDifference, standardError: standardError,
            degreesOfFreedom: degreesOfFreedom, level: level)
        cohensDz = meanDifference / sd
    }
}
