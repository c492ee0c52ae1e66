import Foundation
import Kernels
import RunFormat

#if canImport(Glibc)
    import Glibc
#endif

/// When this process started, from the kernel: the start time survives `exec`, so it covers loading the binary and
/// `ablate`'s re-execution of itself (OPENBLAS_THREAD_TIMEOUT), which no timestamp taken in `main` can.
public enum ProcessStart {
    /// Seconds since this process started, or nil where /proc is not available.
    public static func age() -> Double? {
        #if os(Linux)
            guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // proc(5): field 2 (comm) may hold spaces and parentheses, so count from the last ')'. The fields after
            // it start at field 3; starttime is field 22, in clock ticks since boot (CLOCK_BOOTTIME since Linux 5.3).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
            let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
            var now = timespec()
            guard hz > 0, clock_gettime(CLOCK_BOOTTIME, &now) == 0 else { return nil }
            let age = Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9 - ticks / hz
            return age >= 0 && age < 86_400 * 365 ? age : nil
        #else
            return nil
        #endif
    }

    /// CPU seconds (user + system) this process has used so far.
    public static func cpuSeconds() -> Double? {
        var usage = rusage()
        #if os(Linux)
            let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
            let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return nil }
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    /// The process start as an instant of `clock` (nil without /proc).
    public static func instant(_ clock: ContinuousClock = ContinuousClock()) -> ContinuousClock.Instant? {
        age().map { clock.now - .seconds($0) }
    }
}

/// Where a run's wall time goes (summary.json's `timing`): each category accumulates the intervals it is measured
/// over, on one monotonic clock, and the intervals never overlap.
final class RunTimer {
    enum Category: CaseIterable { case training, evaluation, checkpoints, snapshots, records }

    let clock = ContinuousClock()
    let origin: ContinuousClock.Instant
    let originName: String
    private var spent: [Category: Duration] = [:]
    private var startup: Duration = .zero
    private(set) var firstStep: Duration = .zero
    private var fromStep = 0

    /// `processStart`: count from the kernel's start time of the process (the CLI), else from now (tests, benchmarks).
    init(processStart: Bool) {
        if processStart, let start = ProcessStart.instant(clock) {
            origin = start; originName = "process"
        } else {
            origin = clock.now; originName = "trainer"
        }
    }

    func time<T>(_ category: Category, _ body: () throws -> T) rethrows -> T {
        let t0 = clock.now
        defer { spent[category, default: .zero] += clock.now - t0 }
        return try body()
    }

    func add(_ category: Category, _ duration: Duration) { spent[category, default: .zero] += duration }

    /// Called once, just before the first step this process trains: everything since the origin that no category
    /// claimed is start-up.
    func trainingBegins(atStep step: Int) {
        fromStep = step
        startup = (clock.now - origin) - spent.values.reduce(.zero, +)
    }

    func recordFirstStep(_ duration: Duration) { firstStep = duration }

    func timing() -> RunTiming {
        func c(_ category: Category) -> Double { (spent[category] ?? .zero).seconds }
        return RunTiming(
            wall: (clock.now - origin).seconds, startup: startup.seconds, training: c(.training), firstStep: firstStep.seconds,
            evaluation: c(.evaluation), checkpoints: c(.checkpoints), snapshots: c(.snapshots), records: c(.records),
            fromStep: fromStep, origin: originName, cpu: originName == "process" ? ProcessStart.cpuSeconds() : nil)
    }
}
