import CGSL

/// Why a statistic could not be computed. Every public entry point of `Stats` either returns a finite, defined
/// result or throws one of these (or returns an explicit `nil`, where the documentation says so) — never a crash,
/// never a silent NaN.
public enum StatsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer values than the statistic needs (e.g. a standard deviation needs 2).
    case tooFewValues(needed: Int, got: Int)
    /// An input contains NaN or ±infinity.
    case nonFinite
    /// Two inputs that must be paired have different lengths.
    case lengthMismatch(Int, Int)
    /// The statistic is undefined because the data have no spread (e.g. a t statistic with standard error 0).
    case zeroVariance
    /// An argument is outside its domain (a level outside (0, 1), a non-positive size for a log, …).
    case invalidArgument(String)
    /// A user-supplied statistic (bootstrap) returned NaN or ±infinity.
    case nonFiniteStatistic
    /// An iterative fit stopped without meeting its convergence test.
    case notConverged(iterations: Int, reason: String)
    /// GSL reported an error status (`gsl_strerror` text in `reason`).
    case gsl(status: Int32, function: String, reason: String)

    public var description: String {
        switch self {
        case let .tooFewValues(needed, got): return "needs at least \(needed) values, got \(got)"
        case .nonFinite: return "input contains NaN or infinity"
        case let .lengthMismatch(a, b): return "paired inputs have different lengths (\(a) vs \(b))"
        case .zeroVariance: return "undefined: the data have zero variance"
        case let .invalidArgument(what): return "invalid argument: \(what)"
        case .nonFiniteStatistic: return "the bootstrapped statistic returned NaN or infinity"
        case let .notConverged(iterations, reason): return "fit did not converge after \(iterations) iterations: \(reason)"
        case let .gsl(status, function, reason): return "\(function) failed with GSL status \(status): \(reason)"
        }
    }
}

/// The one place that talks to GSL's global error machinery.
enum GSL {
    /// GSL's default handler aborts the process; switch it off once, before the first GSL call.
    /// A `static let` initialiser runs exactly once and is thread-safe (swift_once).
    private static let errorHandlerOff: Void = { _ = gsl_set_error_handler_off() }()

    /// Called lazily by every public entry point that reaches GSL.
    static func setUp() { _ = errorHandlerOff }

    /// Turns a GSL status code into a `StatsError`.
    static func check(_ status: Int32, _ function: String) throws {
        guard Int(status) != Int(GSL_SUCCESS) else { return }
        let reason = gsl_strerror(status).map { String(cString: $0) } ?? "unknown"
        throw StatsError.gsl(status: status, function: function, reason: reason)
    }
}

/// Shared input checks (all throw `StatsError`).
enum Check {
    static func finite(_ xs: [Double]) throws {
        guard xs.allSatisfy(\.isFinite) else { throw StatsError.nonFinite }
    }
    static func count(_ xs: [Double], atLeast n: Int) throws {
        guard xs.count >= n else { throw StatsError.tooFewValues(needed: n, got: xs.count) }
    }
    static func sameLength(_ a: [Double], _ b: [Double]) throws {
        guard a.count == b.count else { throw StatsError.lengthMismatch(a.count, b.count) }
    }
    static func level(_ level: Double) throws {
        guard level > 0, level < 1 else { throw StatsError.invalidArgument("confidence level \(level) not in (0, 1)") }
    }
}

/// The GSL library this process runs against (for `ablate doctor` and report provenance).
public enum GSLInfo {
    public static var version: String { gsl_version.map { String(cString: $0) } ?? "unknown" }
}
