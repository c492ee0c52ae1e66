@preconcurrency import CGSL
import Foundation

/// Scaling law L(N) = E + A·N^(−α) of loss against model size N (non-embedding parameters): E is the irreducible
/// loss, α how fast the reducible part A·N^(−α) shrinks.
///
/// With ≥ 4 sizes: nonlinear least squares, min Σ(E + A·Nᵢ^(−α) − Lᵢ)², by GSL's trust-region solver
/// (`gsl_multifit_nlinear_trust`, Levenberg–Marquardt subproblem, Moré scaling, QR; xtol = gtol = 1e-12, ftol = 0)
/// with the analytic Jacobian
/// ∂/∂E = 1, ∂/∂A = N^(−α), ∂/∂α = −A·N^(−α)·ln N. Internally N is divided by its geometric mean N₀ (so the
/// amplitude is A·N₀^(−α) and the ln N column is centred), which only conditions the problem; the reported
/// covariance is (JᵀJ)⁻¹·χ²/(n − 3) with J in the reported parameters (E, A, α) at the optimum — the same as
/// `scipy.optimize.curve_fit`'s `pcov` (absolute_sigma=False).
/// Starting values: E₀ = 0.9·min(L), then (A₀, α₀) from a log-log line fit of L − E₀ against N.
///
/// With 2 or 3 sizes (too few for 3 parameters plus an error estimate): the log-log line L = A·N^(−α), E = 0
/// (`PowerLawFit`), reported as `method == .logLogLine`; SE(α) is the line's slope SE, SE(A) = A·SE(ln A)
/// (delta method), E has no SE; with 2 sizes there are no SEs at all.
///
/// E is not constrained (it can come out negative on data that do not bend). The standard errors are asymptotic
/// (linearised) and optimistic at 4–6 sizes; for honest uncertainty bootstrap the fit over seeds.
///
/// Degenerate inputs: throws `.lengthMismatch`, `.nonFinite`, `.tooFewValues` (< 2 sizes), `.invalidArgument` if a
/// size or loss is ≤ 0, `.zeroVariance` if all sizes or all losses are equal (E and A not identifiable),
/// `.notConverged` if the trust-region iteration hits `maxIterations` or cannot make progress before its tests
/// pass — notably when the data have no finite optimum (loss rising with N, or a curve that runs off to α → 0,
/// E → −∞, where `curve_fit` returns absurd values such as E = −6·10³) — so the caller can fall back to
/// `ScalingFit(logLogSizes:losses:)`; `.gsl` for other solver failures.
public struct ScalingFit: Sendable, Equatable {
    public enum Method: String, Sendable, Equatable {
        /// E + A·N^(−α) by nonlinear least squares (≥ 4 sizes).
        case nonlinearLeastSquares
        /// A·N^(−α) by a straight line in log-log space, E fixed at 0 (fewer than 4 sizes, or on request).
        case logLogLine
    }

    /// Which convergence test stopped the nonlinear fit (GSL driver `info`).
    public enum Convergence: String, Sendable, Equatable {
        /// |δθᵢ| ≤ xtol·(|θᵢ| + xtol).
        case smallStep
        /// max |gᵢ·max(|θᵢ|, 1)| ≤ gtol·max(χ²/2, 1).
        case smallGradient
        /// Closed-form line fit, no iteration.
        case closedForm
    }

    public let method: Method
    public let E: Double
    public let A: Double
    public let alpha: Double
    /// Standard errors of (E, A, α); `nil` where not estimable (see the type's documentation).
    public let eStandardError: Double?
    public let aStandardError: Double?
    public let alphaStandardError: Double?
    /// Row-major 3×3 covariance of (E, A, α), scaled by χ²/(n − 3); `nil` for the log-log line.
    public let covariance: [Double]?
    /// χ² = Σ residual² in loss units (for the log-log line: Σ(A·Nᵢ^(−α) − Lᵢ)² of the back-transformed curve).
    public let residualSumOfSquares: Double
    public let count: Int
    public let iterations: Int
    public let convergence: Convergence
    /// Reciprocal condition number of the solver's Jacobian at the optimum (`gsl_multifit_nlinear_rcond`, internal
    /// N/N₀ parameters); near 0 means E, A, α are barely separable by these sizes. `nil` for the log-log line.
    public let reciprocalConditionNumber: Double?

    public func predict(_ n: Double) -> Double { E + A * pow(n, -alpha) }

    /// Fits L(N) = E + A·N^(−α); nonlinear with ≥ 4 sizes, log-log line otherwise (see `method`).
    public init(sizes: [Double], losses: [Double], maxIterations: Int = 500) throws {
        try ScalingFit.validate(sizes, losses)
        if sizes.count < 4 {
            try self.init(logLogSizes: sizes, losses: losses)
            return
        }
        self = try ScalingFit.nonlinear(sizes, losses, maxIterations: maxIterations)
    }

    /// The log-log line L = A·N^(−α) with E = 0, for any n ≥ 2 (the fallback with fewer than 4 sizes).
    public init(logLogSizes sizes: [Double], losses: [Double]) throws {
        try ScalingFit.validate(sizes, losses)
        let fit = try PowerLawFit(x: sizes, y: losses)
        method = .logLogLine
        E = 0
        A = fit.amplitude
        alpha = -fit.exponent
        eStandardError = nil
        aStandardError = fit.line.interceptStandardError.map { fit.amplitude * $0 }
        alphaStandardError = fit.line.slopeStandardError
        covariance = nil
        residualSumOfSquares = zip(sizes, losses).reduce(0) { s, p in
            let r = fit.predict(p.0) - p.1
            return s + r * r
        }
        count = sizes.count
        iterations = 0
        convergence = .closedForm
        reciprocalConditionNumber = nil
    }

    private init(
        E: Double, A: Double, alpha: Double, covariance: [Double], rss: Double, count: Int,
        iterations: Int, convergence: Convergence, rcond: Double
    ) {
        method = .nonlinearLeastSquares
        self.E = E
        self.A = A
        self.alpha = alpha
        self.covariance = covariance
        eStandardError = covariance[0].squareRoot()
        aStandardError = covariance[4].squareRoot()
        alphaStandardError = covariance[8].squareRoot()
        residualSumOfSquares = rss
        self.count = count
        self.iterations = iterations
        self.convergence = convergence
        reciprocalConditionNumber = rcond
    }

    private static func validate(_ sizes: [Double], _ losses: [Double]) throws {
        try Check.sameLength(sizes, losses)
        try Check.count(sizes, atLeast: 2)
        try Check.finite(sizes)
        try Check.finite(losses)
        guard sizes.allSatisfy({ $0 > 0 }), losses.allSatisfy({ $0 > 0 }) else {
            throw StatsError.invalidArgument("sizes and losses must be positive")
        }
        guard Set(sizes).count > 1, Set(losses).count > 1 else { throw StatsError.zeroVariance }
    }

    /// Data handed to the C callbacks through `params`: x = N/N₀, ln x, ln N, L.
    private final class Problem {
        let x: [Double], logX: [Double], L: [Double]
        init(x: [Double], L: [Double]) {
            self.x = x
            self.logX = x.map { log($0) }
            self.L = L
        }
    }

    // Internal parameters θ' = (E, a, α) with model E + a·x^(−α), x = N/N₀ (so A = a·N₀^α).
    private static let residuals:
        @convention(c) (
            UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?,
            UnsafeMutablePointer<gsl_vector>?
        ) -> Int32 = { theta, params, f in
            let p = Unmanaged<Problem>.fromOpaque(params!).takeUnretainedValue()
            let e = gsl_vector_get(theta, 0), a = gsl_vector_get(theta, 1), alpha = gsl_vector_get(theta, 2)
            for i in p.x.indices { gsl_vector_set(f, i, e + a * exp(-alpha * p.logX[i]) - p.L[i]) }
            return Int32(GSL_SUCCESS)
        }

    private static let jacobian:
        @convention(c) (
            UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?,
            UnsafeMutablePointer<gsl_matrix>?
        ) -> Int32 = { theta, params, J in
            let p = Unmanaged<Problem>.fromOpaque(params!).takeUnretainedValue()
            let a = gsl_vector_get(theta, 1), alpha = gsl_vector_get(theta, 2)
            for i in p.x.indices {
                let power = exp(-alpha * p.logX[i])  // x^(−α)
                gsl_matrix_set(J, i, 0, 1)
                gsl_matrix_set(J, i, 1, power)
                gsl_matrix_set(J, i, 2, -a * power * p.logX[i])
            }
            return Int32(GSL_SUCCESS)
        }

    private static func nonlinear(_ sizes: [Double], _ losses: [Double], maxIterations: Int) throws -> ScalingFit {
        GSL.setUp()
        let n = sizes.count, np = 3
        let n0 = exp(sizes.reduce(0) { $0 + log($1) } / Double(n))  // geometric mean
        let problem = Problem(x: sizes.map { $0 / n0 }, L: losses)

        // Starting values: E₀ = 0.9·min L; ln(L − E₀) = ln a₀ − α₀·ln x.
        let e0 = 0.9 * losses.min()!
        let start = try PowerLawFit(x: problem.x, y: losses.map { $0 - e0 })
        let a0 = start.amplitude, alpha0 = -start.exponent

        var fdf = gsl_multifit_nlinear_fdf()
        fdf.f = residuals
        fdf.df = jacobian
        fdf.fvv = nil
        fdf.n = n
        fdf.p = np
        fdf.params = Unmanaged.passUnretained(problem).toOpaque()

        var parameters = gsl_multifit_nlinear_default_parameters()
        parameters.trs = gsl_multifit_nlinear_trs_lm
        guard let w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &parameters, n, np),
            let theta0 = gsl_vector_alloc(np), let J = gsl_matrix_alloc(n, np), let covar = gsl_matrix_alloc(np, np)
        else {
            throw StatsError.gsl(status: Int32(GSL_ENOMEM), function: "gsl_multifit_nlinear_alloc", reason: "out of memory")
        }
        defer {
            gsl_multifit_nlinear_free(w)
            gsl_vector_free(theta0)
            gsl_matrix_free(J)
            gsl_matrix_free(covar)
        }
        gsl_vector_set(theta0, 0, e0)
        gsl_vector_set(theta0, 1, a0)
        gsl_vector_set(theta0, 2, alpha0)

        var info: Int32 = 0
        let status: Int32 = withExtendedLifetime(problem) {
            withUnsafeMutablePointer(to: &fdf) { fdfp in
                let s = gsl_multifit_nlinear_init(theta0, fdfp, w)
                guard Int(s) == Int(GSL_SUCCESS) else { return s }
                return gsl_multifit_nlinear_driver(maxIterations, 1e-12, 1e-12, 0, nil, nil, &info, w)
            }
        }
        let iterations = gsl_multifit_nlinear_niter(w)
        switch Int(status) {
        case Int(GSL_SUCCESS): break
        case Int(GSL_EMAXITER) where Int(info) == Int(GSL_ENOPROG):
            // The driver's code for "the very first iteration found no step that lowers χ²".
            throw StatsError.notConverged(
                iterations: iterations,
                reason: "no step from the starting values reduces χ² (GSL_ENOPROG)")
        case Int(GSL_EMAXITER):
            throw StatsError.notConverged(iterations: iterations, reason: "reached maxIterations = \(maxIterations)")
        case Int(GSL_ENOPROG):
            throw StatsError.notConverged(iterations: iterations, reason: "no further progress possible (GSL_ENOPROG)")
        default:
            try GSL.check(status, "gsl_multifit_nlinear_driver")
        }

        var rcond = 0.0
        try GSL.check(gsl_multifit_nlinear_rcond(&rcond, w), "gsl_multifit_nlinear_rcond")
        let theta = gsl_multifit_nlinear_position(w)
        let e = gsl_vector_get(theta, 0), a = gsl_vector_get(theta, 1), alpha = gsl_vector_get(theta, 2)
        let f = gsl_multifit_nlinear_residual(w)
        var rss = 0.0
        for i in 0..<n { let r = gsl_vector_get(f, i); rss += r * r }

        // Reported parameters and the Jacobian in them: A = a·N₀^α, ∂/∂A = N^(−α) = x^(−α)·N₀^(−α),
        // ∂/∂α = −A·N^(−α)·ln N = −a·x^(−α)·ln N.
        let bigA = a * pow(n0, alpha)
        for i in 0..<n {
            let power = exp(-alpha * problem.logX[i])
            gsl_matrix_set(J, i, 0, 1)
            gsl_matrix_set(J, i, 1, power * pow(n0, -alpha))
            gsl_matrix_set(J, i, 2, -a * power * log(sizes[i]))
        }
        try GSL.check(gsl_multifit_nlinear_covar(J, 0, covar), "gsl_multifit_nlinear_covar")
        let scale = rss / Double(n - np)
        var cov = [Double](repeating: 0, count: np * np)
        for r in 0..<np { for c in 0..<np { cov[r * np + c] = gsl_matrix_get(covar, r, c) * scale } }

        guard ([e, bigA, alpha, rss] + cov).allSatisfy(\.isFinite) else {
            throw StatsError.notConverged(iterations: iterations, reason: "non-finite parameters or covariance")
        }
        return ScalingFit(
            E: e, A: bigA, alpha: alpha, covariance: cov, rss: rss, count: n,
            iterations: iterations, convergence: info == 2 ? .smallGradient : .smallStep,
            rcond: rcond)
    }
}
