import Foundation
import Kernels
import RunFormat
import Synchronization
import Trainer

/// Runs a grid's pending runs, each in its own worker process (`ablate grid run-one … --run ID`), at most `jobs`
/// at a time with `threads` BLAS threads each; longest first. Resumable: finished and diverged runs are skipped,
/// interrupted ones continue from their checkpoint. A failed or diverged run is recorded and the rest go on.
public final class GridRunner {
    public struct Options {
        /// The `ablate` binary to spawn (normally this process's own executable).
        public var executable: URL
        public var gridPath: String
        public var layout: GridLayout
        public var jobs: Int
        public var threads: Int
        public var force: Bool
        /// Extra environment for workers (e.g. OPENBLAS_CORETYPE for an opted-in, checked kernel).
        public var environment: [String: String]
        /// Seconds between plain progress lines when stdout is not a terminal.
        public var plainInterval: Double
        public var isTerminal: Bool
        public init(
            executable: URL, gridPath: String, layout: GridLayout, jobs: Int, threads: Int, force: Bool = false,
            environment: [String: String] = [:], plainInterval: Double = 30, isTerminal: Bool = false
        ) {
            self.executable = executable; self.gridPath = gridPath; self.layout = layout; self.jobs = jobs
            self.threads = threads; self.force = force; self.environment = environment
            self.plainInterval = plainInterval; self.isTerminal = isTerminal
        }
    }

    public struct Outcome: Sendable {
        public var finished: [String] = []
        public var skipped: [String] = []
        public var diverged: [(id: String, reason: String)] = []
        public var failed: [(id: String, reason: String)] = []
        public var busy: [String] = []
        public var interrupted = false
        /// Where the time went, beside the plan's estimate (`GridOverhead.lines`).
        public var overhead = GridOverhead()
        /// 0 all finished; 3 some diverged/failed/busy; 130 interrupted.
        public var exitStatus: Int32 {
            if interrupted { return 130 }
            return diverged.isEmpty && failed.isEmpty && busy.isEmpty ? 0 : 3
        }
    }

    final class Active {
        let estimate: RunEstimate
        let process: Process
        let started: ContinuousClock.Instant
        let exit: ExitTime
        var last: MetricsRecord?
        init(estimate: RunEstimate, process: Process, started: ContinuousClock.Instant, exit: ExitTime) {
            self.estimate = estimate; self.process = process; self.started = started; self.exit = exit
        }
    }

    /// When a worker exited, set by its termination handler (on Foundation's queue), read by the scheduling loop.
    final class ExitTime: Sendable {
        private let instant = Mutex<ContinuousClock.Instant?>(nil)
        func set(_ t: ContinuousClock.Instant) { instant.withLock { $0 = $0 ?? t } }
        var value: ContinuousClock.Instant? { instant.withLock { $0 } }
    }

    private let clock = ContinuousClock()
    /// Signalled by every worker's exit, so the loop starts the next run at once rather than at its next poll.
    private let workerExited = DispatchSemaphore(value: 0)

    let options: Options
    let grid: GridFile
    let output: (String) -> Void
    /// Set from the signal handlers' queue, read by the scheduling loop on the calling thread.
    private let stopFlag = Atomic<Bool>(false)
    private var stopRequested: Bool { stopFlag.load(ordering: .acquiring) }
    private var signalSources: [DispatchSourceSignal] = []

    public init(
        grid: GridFile, options: Options,
        output: @escaping (String) -> Void = {
            print($0); fflush(stdout)
        }
    ) {
        self.grid = grid; self.options = options; self.output = output
    }

    /// Ctrl-C / SIGTERM: stop launching, pass SIGTERM to the workers (they write a checkpoint and exit), wait.
    public func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in self?.requestStop() }
            s.resume()
            signalSources.append(s)
        }
    }

    public func requestStop() { stopFlag.store(true, ordering: .releasing) }

    public func run(_ estimates: [RunEstimate]) -> Outcome {
        var outcome = Outcome()
        let layout = options.layout
        var pending: [RunEstimate] = []
        var doneTokens = 0
        for e in estimates {
            let state = RunDiskState.of(e.run, grid: grid, folder: layout.folder(e.run))
            switch state {
            case .finished: outcome.skipped.append(e.run.id); doneTokens += e.tokens
            case let .diverged(reason) where !options.force:
                outcome.diverged.append((e.run.id, reason)); doneTokens += e.tokens
            default: pending.append(e)
            }
        }
        pending.sort { $0.seconds > $1.seconds }
        let totalTokens = estimates.reduce(0) { $0 + $1.tokens }
        let progress = GridProgress(
            gridName: grid.name, total: estimates.count, totalTokens: totalTokens,
            isTerminal: options.isTerminal, plainInterval: options.plainInterval, output: output)
        if !outcome.skipped.isEmpty || !outcome.diverged.isEmpty {
            progress.event(
                "\(outcome.skipped.count) run(s) already finished, \(outcome.diverged.count) diverged earlier; \(pending.count) to run with \(options.jobs) job(s) × \(options.threads) thread(s)"
            )
        } else {
            progress.event("\(pending.count) run(s) to run with \(options.jobs) job(s) × \(options.threads) thread(s)")
        }
        var active: [Active] = []
        var estimatedDone = 0.0, actualDone = 0.0
        let start = Date()
        var lastPoll = Date.distantPast
        // Slots freed by a worker's exit, oldest first: the next start on one of them is a scheduler gap.
        var freed: [ContinuousClock.Instant] = []
        let processStart = ProcessStart.instant(clock)
        outcome.overhead.jobs = options.jobs; outcome.overhead.threads = options.threads
        while !pending.isEmpty || !active.isEmpty {
            while !stopRequested && active.count < options.jobs && !pending.isEmpty {
                let e = pending.removeFirst()
                do {
                    let exit = ExitTime()
                    let now = clock.now
                    let process = try spawn(e.run, exit: exit)
                    if !freed.isEmpty {
                        outcome.overhead.gaps += (now - freed.removeFirst()).seconds; outcome.overhead.gapCount += 1
                    } else if outcome.overhead.startup == nil, let processStart {
                        outcome.overhead.startup = (now - processStart).seconds
                    }
                    active.append(Active(estimate: e, process: process, started: now, exit: exit))
                    progress.event("started \(e.run.id)")
                } catch {
                    outcome.failed.append((e.run.id, "cannot start a worker: \(error)"))
                    progress.event("FAILED \(e.run.id): cannot start a worker: \(error)")
                }
            }
            if stopRequested {
                if !outcome.interrupted {
                    outcome.interrupted = true
                    progress.event("stopping: asking \(active.count) worker(s) to write a checkpoint and exit")
                    for a in active where a.process.isRunning { kill(a.process.processIdentifier, SIGTERM) }
                }
                pending.removeAll()
            }
            _ = workerExited.wait(timeout: .now() + 0.1)
            let polled = Date().timeIntervalSince(lastPoll) >= 0.5
            if polled {
                lastPoll = Date()
                for a in active {
                    if let r = (try? RunFolder(layout.folder(a.estimate.run)).readMetrics())?.last { a.last = r }
                }
            }
            let ended = active.filter { !$0.process.isRunning }
            for a in ended {
                let id = a.estimate.run.id
                let status = a.process.terminationStatus
                let bySignal = a.process.terminationReason == .uncaughtSignal
                let folder = RunFolder(layout.folder(a.estimate.run))
                let exited = a.exit.value ?? clock.now
                freed.append(exited)
                let elapsed = (exited - a.started).seconds
                switch (bySignal, WorkerExit(rawValue: status)) {
                case (false, .finished?):
                    outcome.finished.append(id); doneTokens += a.estimate.tokens
                    let summary = try? folder.read(RunSummary.self)
                    let estimate = a.estimate.seconds(fromStep: summary?.timing?.fromStep ?? 0)
                    estimatedDone += estimate; actualDone += elapsed
                    outcome.overhead.runs.append(
                        .init(id: id, estimate: estimate, estimatedStartup: a.estimate.startup, process: elapsed, timing: summary?.timing))
                    progress.event(String(format: "finished %@  val %.4f  %@", id, summary?.finalValLoss ?? .nan, GridPlan.duration(elapsed)))
                case (false, .diverged?):
                    let reason = folder.readStatus()?.reason ?? "diverged"
                    outcome.diverged.append((id, reason)); doneTokens += a.estimate.tokens
                    progress.event("DIVERGED \(id): \(reason)")
                case (false, .busy?):
                    outcome.busy.append(id)
                    progress.event("busy \(id): another process (\(RunLock.holder(folder: folder.url) ?? "?")) holds its lock; skipped")
                case (false, .interrupted?):
                    progress.event("stopped \(id) at step \(folder.readStatus()?.step ?? 0) (checkpoint written; re-run to resume)")
                case (false, .changed?):
                    outcome.failed.append((id, "the run folder holds another config (see \(folder.url.path)/train.log)"))
                    progress.event("REFUSED \(id): the run folder holds another config")
                default:
                    let reason =
                        bySignal
                        ? "worker killed by signal \(status)"
                        : (folder.readStatus().flatMap { $0.state == .failed ? $0.reason : nil } ?? "worker exited with status \(status)")
                    outcome.failed.append((id, reason))
                    progress.event("FAILED \(id): \(reason) (log: \(folder.url.path)/train.log)")
                }
            }
            active.removeAll { a in ended.contains { $0 === a } }
            guard polled || !ended.isEmpty || active.isEmpty else { continue }
            // ETA: the plan's estimate of what is left, scaled by how the finished runs compared with it.
            let scale = estimatedDone > 0 ? actualDone / estimatedDone : 1
            var left = pending.reduce(0) { $0 + $1.seconds }
            var activeTokens = 0
            for a in active {
                let frac = Double(a.last?.step ?? 0) / Double(max(a.estimate.steps, 1))
                left += a.estimate.seconds * (1 - frac)
                activeTokens += a.last?.tokens ?? 0
            }
            let eta = left * scale / Double(max(options.jobs, 1))
            progress.update(
                done: outcome.finished.count + outcome.skipped.count + outcome.diverged.count, failed: outcome.failed.count,
                tokens: doneTokens + activeTokens, elapsed: Date().timeIntervalSince(start), eta: eta,
                active: active.map { ($0.estimate.run.id, $0.estimate.steps, $0.last) })
        }
        let end = clock.now
        outcome.overhead.tailIdle = freed.reduce(0) { $0 + (end - $1).seconds }
        if let processStart { outcome.overhead.wall = (end - processStart).seconds }
        progress.finish()
        return outcome
    }

    private func spawn(_ run: GridRun, exit: ExitTime) throws -> Process {
        let folder = options.layout.folder(run)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let logURL = folder.appendingPathComponent(RunFiles.trainLog)
        if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        let log = try FileHandle(forWritingTo: logURL)
        try log.seekToEnd()
        let p = Process()
        p.executableURL = options.executable
        var args = [
            "grid", "run-one", options.gridPath, "--run", run.id, "--runs", options.layout.root.path,
            "--threads", String(options.threads), "--stop-with-parent",
        ]
        if options.force { args.append("--force") }
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in options.environment { env[k] = v }
        p.environment = env
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        let clock = clock, wake = workerExited
        p.terminationHandler = { _ in
            exit.set(clock.now)
            wake.signal()
        }
        try p.run()
        try? log.close()
        return p
    }
}
