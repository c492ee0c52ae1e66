import CGSL

/// A two-sided confidence interval [lower, upper] at a nominal coverage `level` (e.g. 0.95).
public struct ConfidenceInterval: Sendable, Equatable {
    public let lower: Double
    public let upper: Double
    public let level: Double

    public init(lower: Double, upper: Double, level: Double) {
        self.lower = lower
        self.upper = upper
        self.level = level
    }

    public var width: Double { upper - lower }
    public func contains(_ x: Double) -> Bool { lower <= x && x <= upper }
}

/// The mean of a sample with its Student-t confidence interval — the interval to use at 3–5 seeds
/// (the percentile bootstrap undercovers badly there: it cannot be wider than the sample's range).
///
/// x̄ ± t₁₋₍₁₋level₎/₂, ₙ₋₁ · s/√n, with the t quantile from `gsl_cdf_tdist_Pinv`.
public struct MeanEstimate: Sendable, Equatable {
    public let mean: Double
    /// s / √n.
    public let standardError: Double
    /// n − 1.
    public let degreesOfFreedom: Double
    public let interval: ConfidenceInterval

    /// Throws `StatsError.tooFewValues` for n < 2, `.nonFinite` for NaN/inf, `.invalidArgument` for a level outside
    /// (0, 1). All-equal values give a zero-width interval [x̄, x̄] (the formula's value; s = 0), not an error.
    public init(_ values: [Double], level: Double = 0.95) throws {
        try Check.count(values, atLeast: 2)
        try Check.level(level)
        let sample = try Sample(values)
        mean = sample.mean
        standardError = sample.standardError!  // n ≥ 2
        degreesOfFreedom = Double(sample.count - 1)
        interval = try studentInterval(
            center: mean, standardError: standardError,
            degreesOfFreedom: degreesOfFreedom, level: level)
    }
}

/// The two-sided Student-t quantile t_q(df), q = 1 − (1 − level)/2 (`gsl_cdf_tdist_Pinv`): the half-width of a
/// `level` t interval in standard errors.
public func studentTQuantile(level: Double, degreesOfFreedom df: Double) throws -> Double {
    try Check.level(level)
    GSL.setUp()
    let t = gsl_cdf_tdist_Pinv(1 - (1 - level) / 2, df)
    guard t.isFinite else { throw StatsError.invalidArgument("t quantile undefined for df = \(df)") }
    return t
}

/// center ± t_q(df)·se with q = 1 − (1 − level)/2; the building block of every t interval here.
func studentInterval(
    center: Double, standardError se: Double, degreesOfFreedom df: Double,
    level: Double
) throws -> ConfidenceInterval {
    let t = try studentTQuantile(level: level, degreesOfFreedom: df)
    return ConfidenceInterval(lower: center - t * se, upper: center + t * se, level: level)
}

/// Two-sided p-value of a t statistic, 2·Q(|t|; df) (`gsl_cdf_tdist_Q`, accurate in the far tail).
func twoSidedPValue(t: Double, degreesOfFreedom df: Double) -> Double {
    GSL.setUp()
    return Swift.min(1, 2 * gsl_cdf_tdist_Q(abs(t), df))
}
