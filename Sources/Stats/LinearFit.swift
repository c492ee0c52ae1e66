import CGSL
import Foundation

/// Ordinary least-squares line y = intercept + slope·x (`gsl_fit_linear`), with standard errors from GSL's
/// covariance, which is already scaled by s² = RSS/(n − 2):
/// Var(slope) = s²/Σ(xᵢ − x̄)², Var(intercept) = s²·(1/n + x̄²/Σ(xᵢ − x̄)²).
/// Matches `scipy.stats.linregress(x, y)` (`stderr`, `intercept_stderr`, `rvalue**2`).
///
/// Degenerate inputs: throws `.lengthMismatch`, `.nonFinite`, `.tooFewValues` for n < 2, `.zeroVariance` when all
/// x are equal (slope undefined). With n = 2 the line is exact and the standard errors are `nil` (no residual
/// degrees of freedom). `rSquared` is `nil` when all y are equal (0/0).
public struct LinearFit: Sendable, Equatable {
    public let intercept: Double
    public let slope: Double
    /// `nil` for n = 2.
    public let interceptStandardError: Double?
    /// `nil` for n = 2.
    public let slopeStandardError: Double?
    /// Cov(intercept, slope); `nil` for n = 2.
    public let covariance: Double?
    /// Residual sum of squares Σ(yᵢ − ŷᵢ)².
    public let residualSumOfSquares: Double
    /// 1 − RSS/Σ(yᵢ − ȳ)²; `nil` if y is constant.
    public let rSquared: Double?
    public let count: Int

    public init(x: [Double], y: [Double]) throws {
        try Check.sameLength(x, y)
        try Check.count(x, atLeast: 2)
        try Check.finite(x)
        try Check.finite(y)
        guard Set(x).count > 1 else { throw StatsError.zeroVariance }
        GSL.setUp()
        var c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, sumsq = 0.0
        let status = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                gsl_fit_linear(xp.baseAddress, 1, yp.baseAddress, 1, x.count, &c0, &c1, &cov00, &cov01, &cov11, &sumsq)
            }
        }
        try GSL.check(status, "gsl_fit_linear")
        intercept = c0
        slope = c1
        count = x.count
        residualSumOfSquares = sumsq
        if x.count > 2 {
            interceptStandardError = cov00.squareRoot()
            slopeStandardError = cov11.squareRoot()
            covariance = cov01
        } else {
            interceptStandardError = nil
            slopeStandardError = nil
            covariance = nil
        }
        let ybar = y.reduce(0, +) / Double(y.count)
        let tss = y.reduce(0) { $0 + ($1 - ybar) * ($1 - ybar) }
        rSquared = tss > 0 ? 1 - sumsq / tss : nil
    }

    public func predict(_ x: Double) -> Double { intercept + slope * x }
}

/// Power law y = amplitude·x^exponent fitted as a straight line in log-log space: ln y = ln(amplitude) +
/// exponent·ln x (`LinearFit` on the logs). Least squares on the logs weights relative errors equally; it is the
/// fallback scaling fit with fewer than 4 sizes. Standard errors refer to the log-space line (`line`).
///
/// Throws `.invalidArgument` unless every x and y is positive, plus everything `LinearFit` throws.
public struct PowerLawFit: Sendable, Equatable {
    public let amplitude: Double
    public let exponent: Double
    /// The fit of ln y on ln x.
    public let line: LinearFit

    public init(x: [Double], y: [Double]) throws {
        try Check.sameLength(x, y)
        try Check.finite(x)
        try Check.finite(y)
        guard x.allSatisfy({ $0 > 0 }), y.allSatisfy({ $0 > 0 }) else {
            throw StatsError.invalidArgument("a log-log fit needs positive x and y")
        }
        line = try LinearFit(x: x.map { log($0) }, y: y.map { log($0) })
        amplitude = exp(line.intercept)
        exponent = line.slope
    }

    public func predict(_ x: Double) -> Double { amplitude * pow(x, exponent) }
}
