import Foundation
import RunFormat

/// Where a grid's time went beside the plan's estimate, printed at the end of `ablate grid run`: each worker's
/// process time split by the categories of its summary.json `timing`, and the grid's own overhead (its start-up,
/// the gaps between one worker's exit and the next one's start on a slot, slots idle at the end).
public struct GridOverhead: Sendable {
    public struct Run: Sendable {
        public var id: String
        /// The plan's seconds for what this process trained (the steps after `timing.fromStep`), and the part of them
        /// that is the plan's per-run start-up (the rest is FLOPs at the calibrated rate).
        public var estimate: Double
        public var estimatedStartup: Double
        /// The worker process as the runner saw it, from spawning it to its exit.
        public var process: Double
        public var timing: RunTiming?
        public init(id: String, estimate: Double, estimatedStartup: Double, process: Double, timing: RunTiming?) {
            self.id = id; self.estimate = estimate; self.estimatedStartup = estimatedStartup; self.process = process
            self.timing = timing
        }
    }

    /// Workers that finished their run in this invocation.
    public var runs: [Run] = []
    /// Seconds from a worker's exit to the next worker's start on its slot, summed, and how many such starts.
    public var gaps = 0.0
    public var gapCount = 0
    /// Seconds that slots stood idle at the end while other workers still ran.
    public var tailIdle = 0.0
    /// `grid run`'s process start to its first worker's start: loading the grid, timing the plan (steps or sgemm), the
    /// BLAS kernel check, the grid index (nil when no worker started, or the start time is unknown).
    public var startup: Double?
    /// `grid run`'s process start to the end of its last worker (nil when the start time is unknown).
    public var wall: Double?
    /// Jobs in parallel, for the plan's wall estimate of the runs trained now, and BLAS threads per job.
    public var jobs = 1
    public var threads = 1

    public init() {}

    /// The plan's wall time for the runs trained now, on `jobs` slots, longest first.
    public var planWall: Double { GridPlan.wallSeconds(runs.map(\.estimate), jobs: jobs) }

    /// The lines `grid run` prints (none when no run finished now).
    public func lines(interrupted: Bool) -> [String] {
        guard !runs.isEmpty else { return [] }
        var out: [String] = []
        let worker = runs.reduce(0) { $0 + $1.process }, estimated = runs.reduce(0) { $0 + $1.estimate }
        var head = "time: plan \(GridPlan.duration(planWall)) wall for the \(runs.count) run(s) trained now"
        if let wall, !interrupted {
            head += String(format: ", measured %@ (efficiency %.2f = estimate ÷ measured)", Self.seconds(wall), planWall / wall)
        }
        head += String(
            format: "; worker time %@ against the plan's %@ (%.2f)", Self.seconds(worker), Self.seconds(estimated), estimated / max(worker, 1e-9))
        out.append(head)
        let timed = runs.compactMap { r in r.timing.map { (run: r, timing: $0) } }
        if !timed.isEmpty {
            let outside = timed.reduce(0) { $0 + max(0, $1.run.process - $1.timing.wall) }
            out.append(
                "  worker time by category (\(timed.count) run(s)): " + Self.shares(timed.map(\.timing), extra: [("spawn/exit", outside)]))
            let withCPU = timed.compactMap { r in r.timing.cpu.map { (cpu: $0, wall: r.timing.wall) } }
            if !withCPU.isEmpty {
                let share = withCPU.reduce(0) { $0 + $1.cpu } / max(withCPU.reduce(0) { $0 + $1.wall } * Double(threads), 1e-9)
                out.append(
                    String(
                        format: "  workers ran on a core %.0f %% of their wall time (CPU ÷ wall × %d thread(s)); the rest they waited for one",
                        100 * min(share, 1), threads))
            }
            // The plan's two terms against what they model: FLOPs at the calibrated rate against the training steps
            // and evaluations; its per-run start-up against everything else a worker spent.
            let computed = timed.reduce(0) { $0 + $1.timing.training + $1.timing.evaluation }
            let computeEstimate = timed.reduce(0) { $0 + $1.run.estimate - $1.run.estimatedStartup }
            let rest = timed.reduce(0) { $0 + $1.run.process - $1.timing.training - $1.timing.evaluation }
            let n = Double(timed.count)
            out.append(
                String(
                    format:
                        "  training + evaluation took %.2f× the plan's FLOP-rate estimate (%@ against %@); the rest (start-up, writes, spawn/exit) %@ per run against the plan's start-up %@",
                    computed / max(computeEstimate, 1e-9), Self.seconds(computed), Self.seconds(computeEstimate), Self.seconds(rest / n),
                    Self.seconds(timed.reduce(0) { $0 + $1.run.estimatedStartup } / n)))
        }
        var grid: [String] = []
        if let startup { grid.append("start-up \(Self.seconds(startup)) (grid file, the plan's timing, BLAS check, index)") }
        grid.append("\(gapCount) scheduler gap(s) \(Self.seconds(gaps))")
        grid.append("slots idle at the end \(Self.seconds(tailIdle))")
        out.append("  grid: " + grid.joined(separator: ", "))
        return out
    }

    /// "training 78 %, evaluation 9 %, …" over the summed timings, in `RunTiming.categories` order, then `extra`
    /// (seconds outside the timings, e.g. what the runner saw beyond them), as shares of their total.
    public static func shares(_ timings: [RunTiming], extra: [(name: String, seconds: Double)] = []) -> String {
        guard let first = timings.first else { return "" }
        var sums = first.categories
        for t in timings.dropFirst() {
            for (i, c) in t.categories.enumerated() { sums[i].seconds += c.seconds }
        }
        let all = sums + extra
        let total = all.reduce(0) { $0 + $1.seconds }
        guard total > 0 else { return "" }
        return all.map { c in
            let share = 100 * c.seconds / total
            return "\(c.name) " + (share < 9.95 ? String(format: "%.1f %%", share) : String(format: "%.0f %%", share))
        }.joined(separator: ", ")
    }

    /// Seconds with a tenth below a minute ("0.4 s", "12.3 s"), else `GridPlan.duration`.
    public static func seconds(_ s: Double) -> String {
        s < 59.95 ? String(format: "%.1f s", s) : GridPlan.duration(s)
    }
}
