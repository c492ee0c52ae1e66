import CGSL

/// A validated sample of finite values (at least one), with its descriptive statistics.
///
/// Construction is the one place inputs are checked: `init` throws `StatsError.tooFewValues` for an empty array and
/// `StatsError.nonFinite` for NaN/±inf. After that every property is defined; those that need two values
/// (`variance`, `standardDeviation`, `standardError`) are `nil` for n = 1. All-equal values are fine (sd = 0).
public struct Sample: Sendable, Equatable {
    /// The values, in the order given.
    public let values: [Double]
    /// The values in ascending order (GSL's `*_from_sorted_data` functions need them sorted).
    public let sorted: [Double]

    public init(_ values: [Double]) throws {
        try Check.count(values, atLeast: 1)
        try Check.finite(values)
        GSL.setUp()
        self.values = values
        self.sorted = values.sorted()
    }

    public var count: Int { values.count }

    /// Arithmetic mean, x̄ = Σxᵢ / n (`gsl_stats_mean`).
    public var mean: Double { values.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, count) } }

    /// Unbiased variance s² = Σ(xᵢ − x̄)² / (n − 1) (`gsl_stats_variance`); `nil` for n = 1.
    public var variance: Double? {
        guard count >= 2 else { return nil }
        return values.withUnsafeBufferPointer { gsl_stats_variance($0.baseAddress, 1, count) }
    }

    /// Sample standard deviation s (n − 1 denominator, `gsl_stats_sd`); `nil` for n = 1.
    public var standardDeviation: Double? {
        guard count >= 2 else { return nil }
        return values.withUnsafeBufferPointer { gsl_stats_sd($0.baseAddress, 1, count) }
    }

    /// Standard error of the mean, s / √n; `nil` for n = 1.
    public var standardError: Double? { standardDeviation.map { $0 / Double(count).squareRoot() } }

    public var min: Double { sorted[0] }
    public var max: Double { sorted[count - 1] }

    /// Median: the 0.5 quantile (mean of the two middle values for even n).
    public var median: Double { sortedQuantile(0.5) }

    /// The `f`-quantile by linear interpolation between order statistics (`gsl_stats_quantile_from_sorted_data`):
    /// with δ = (n − 1)·f and i = ⌊δ⌋, Q(f) = (1 − (δ − i))·x₍ᵢ₎ + (δ − i)·x₍ᵢ₊₁₎ — Hyndman–Fan type 7, the default of
    /// `numpy.quantile`. Throws `StatsError.invalidArgument` unless 0 ≤ f ≤ 1.
    public func quantile(_ f: Double) throws -> Double {
        guard f >= 0, f <= 1 else { throw StatsError.invalidArgument("quantile \(f) not in [0, 1]") }
        return sortedQuantile(f)
    }

    /// Interquartile mean (rliable's IQM, Agarwal et al. 2021): the mean of the sorted values after dropping
    /// k = ⌊0.25·n⌋ from each end, i.e. (x₍ₖ₎ + … + x₍ₙ₋ₖ₋₁₎) / (n − 2k) with 0-based order statistics
    /// (`gsl_stats_trmean_from_sorted_data(0.25, …)`, identical to `scipy.stats.trim_mean(x, 0.25)`, which rliable
    /// calls). Robust to one outlying seed, less noisy than the median. For n ≤ 3 nothing is dropped (IQM = mean).
    public var interquartileMean: Double { trimmedMean(0.25) }

    /// Mean after dropping ⌊trim·n⌋ values from each end of the sorted sample (`gsl_stats_trmean_from_sorted_data`).
    /// `trim` is clamped to [0, 0.5]; at 0.5 GSL returns the median.
    public func trimmedMean(_ trim: Double) -> Double {
        let t = Swift.min(Swift.max(trim, 0), 0.5)
        return sorted.withUnsafeBufferPointer { gsl_stats_trmean_from_sorted_data(t, $0.baseAddress, 1, count) }
    }

    func sortedQuantile(_ f: Double) -> Double {
        sorted.withUnsafeBufferPointer { gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, count, f) }
    }
}
