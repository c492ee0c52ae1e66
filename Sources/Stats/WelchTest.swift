import CGSL
import Foundation

/// Welch's two-sample t-test (unequal variances): is mean(a) different from mean(b)? The default comparison of a
/// strategy against the learned baseline when the two runs of a seed are not paired.
///
/// With vₐ = sₐ²/nₐ, v_b = s_b²/n_b: t = (x̄ₐ − x̄_b)/√(vₐ + v_b), Welch–Satterthwaite
/// df = (vₐ + v_b)² / (vₐ²/(nₐ − 1) + v_b²/(n_b − 1)), p = 2·Q(|t|; df), and the CI of x̄ₐ − x̄_b is
/// (x̄ₐ − x̄_b) ± t_q(df)·√(vₐ + v_b). Matches `scipy.stats.ttest_ind(a, b, equal_var=False)`.
///
/// Effect size: Hedges' g, the pooled-sd Cohen's d with Hedges' exact small-sample correction
/// (Hedges 1981): d = (x̄ₐ − x̄_b)/s_p, s_p² = ((nₐ−1)sₐ² + (n_b−1)s_b²)/(nₐ+n_b−2),
/// g = J(m)·d with m = nₐ + n_b − 2 and J(m) = Γ(m/2) / (√(m/2)·Γ((m−1)/2)) (≈ 1 − 3/(4m − 1)).
/// Its uncertainty is best read from `interval` (raw units) or a bootstrap; no CI of g is given.
///
/// Degenerate inputs: throws `.tooFewValues` if either sample has fewer than 2 values, `.nonFinite` for NaN/inf,
/// `.zeroVariance` if both samples are constant (t and g undefined; SciPy returns NaN). One constant sample is fine.
public struct WelchTest: Sendable, Equatable {
    /// x̄ₐ − x̄_b (positive when `a` is larger; for losses, negative means `a` is better).
    public let meanDifference: Double
    /// √(sₐ²/nₐ + s_b²/n_b).
    public let standardError: Double
    public let t: Double
    /// Welch–Satterthwaite degrees of freedom (not an integer in general).
    public let degreesOfFreedom: Double
    /// Two-sided p-value.
    public let pValue: Double
    /// Welch CI of x̄ₐ − x̄_b at `interval.level`.
    public let interval: ConfidenceInterval
    /// Cohen's d with the pooled standard deviation (uncorrected).
    public let cohensD: Double
    /// Hedges' g = J(nₐ + n_b − 2)·d (see the type's documentation).
    public let hedgesG: Double

    public init(_ a: [Double], _ b: [Double], level: Double = 0.95) throws {
        try Check.count(a, atLeast: 2)
        try Check.count(b, atLeast: 2)
        try Check.level(level)
        let sa = try Sample(a), sb = try Sample(b)
        let na = Double(sa.count), nb = Double(sb.count)
        let va = sa.variance! / na, vb = sb.variance! / nb  // n ≥ 2 ⇒ non-nil
        guard va + vb > 0 else { throw StatsError.zeroVariance }

        meanDifference = sa.mean - sb.mean
        standardError = (va + vb).squareRoot()
        t = meanDifference / standardError
        degreesOfFreedom = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1))
        pValue = twoSidedPValue(t: t, degreesOfFreedom: degreesOfFreedom)
        interval = try studentInterval(
            center: meanDifference, standardError: standardError,
            degreesOfFreedom: degreesOfFreedom, level: level)

        let m = na + nb - 2
        let pooledSD = (((na - 1) * sa.variance! + (nb - 1) * sb.variance!) / m).squareRoot()
        cohensD = meanDifference / pooledSD
        hedgesG = hedgesCorrection(degreesOfFreedom: m) * cohensD
    }
}

/// Hedges' exact bias correction J(m) = Γ(m/2) / (√(m/2)·Γ((m−1)/2)), via log-gamma (`gsl_sf_lngamma`); m ≥ 2.
public func hedgesCorrection(degreesOfFreedom m: Double) -> Double {
    GSL.setUp()
    return exp(gsl_sf_lngamma(m / 2) - gsl_sf_lngamma((m - 1) / 2)) / (m / 2).squareRoot()
}
