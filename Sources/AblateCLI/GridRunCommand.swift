import ArgumentParser
import Embeddings
import Foundation
import Grid
import RunFormat
import Trainer

/// `ablate grid run FILE`: trains every pending run, each in its own process; re-running resumes.
struct GridRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a grid's pending runs in parallel worker processes; re-running the same command resumes.",
        discussion: """
            Finished runs are skipped; interrupted runs continue from their last checkpoint (bit-identical to an \
            uninterrupted run); a run whose folder holds another config is refused unless --force. Each run folder is \
            locked while a worker trains it, and the grid folder while `grid run` runs: a second `grid run` of the same grid \
            is refused (Slurm tasks lock only their run). A failed or diverged run is recorded and the others go on; the exit status \
            is 0 when every run finished, 3 when some failed or diverged, 130 when interrupted (Ctrl-C: workers write a \
            checkpoint and stop).
            """)

    @OptionGroup var file: GridFileOptions
    @OptionGroup var parallel: GridParallelOptions
    @Flag(help: "Retrain runs whose folder holds another config, and diverged runs.") var force = false
    @Option(help: "Seconds between progress lines when stdout is not a terminal.") var logEvery: Double = 30

    func validate() throws {
        guard logEvery >= 0, logEvery.isFinite else { throw ValidationError("--log-every must be a number of seconds ≥ 0, got \(logEvery)") }
    }

    func run() throws {
        let (grid, expanded) = try file.load()
        let (jobs, threads) = try parallel.resolve(grid)
        let layout = file.layout(grid)
        // One `grid run` per grid folder: a second one would only meet the first's run locks and report its runs as
        // busy. Slurm tasks (`grid run-one`) lock single runs, so several of them — and one `grid run` beside them —
        // still share a grid. The kernel drops the lock when its holder dies, so a killed `grid run` never blocks.
        guard let gridLock = try RunLock.tryAcquire(folder: layout.gridFolder) else {
            throw CLIError(Self.alreadyRunning(gridFile: file.file, folder: layout.gridFolder))
        }
        defer { gridLock.release() }
        let runs = GridSupport.resolveTrainSplits(expanded, prepare: true)
        let changed = runs.compactMap { run -> String? in
            if case let .changed(detail) = RunDiskState.of(run, grid: grid, folder: layout.folder(run)) {
                return "  \(layout.folder(run).path): \(detail)"
            }
            return nil
        }
        if !changed.isEmpty && !force {
            throw CLIError(
                "the grid file changed for \(changed.count) existing run(s):\n\(changed.joined(separator: "\n"))\nFix: restore the grid file, give the changed runs new ids (e.g. a `label:`), or pass --force to discard those folders and retrain."
            )
        }
        var env: [String: String]
        do { env = try GridSupport.workerEnvironment(grid) { print($0) } } catch { throw CLIError("\(error)") }
        // Every worker records the same commit: ask git once here, not twice in each worker's start-up.
        env[Provenance.gitCommitVariable] = Provenance.gitCommit()
        let (estimates, _) = GridSupport.estimates(runs, layout: layout, threads: threads, efficiency: nil, kernel: grid.blasKernel)
        try GridIndex.write(grid: grid, runs: runs, layout: layout)
        let runner = GridRunner(
            grid: grid,
            options: .init(
                executable: GridSupport.executable, gridPath: file.file, layout: layout, jobs: jobs, threads: threads,
                force: force, environment: env, plainInterval: logEvery, isTerminal: isatty(STDOUT_FILENO) != 0))
        runner.installSignalHandlers()
        let outcome = runner.run(estimates)
        try GridIndex.write(grid: grid, runs: runs, layout: layout)
        print(
            "grid \(grid.name): \(outcome.finished.count) finished now, \(outcome.skipped.count) already finished, \(outcome.diverged.count) diverged, \(outcome.failed.count) failed\(outcome.busy.isEmpty ? "" : ", \(outcome.busy.count) busy elsewhere") of \(runs.count) → \(layout.gridFolder.path)"
        )
        for (id, reason) in outcome.diverged {
            let fix = runs.first { $0.id == id }.map { ". Fix: \($0.config.divergenceFix), then re-run with --force" } ?? ""
            print("  diverged: \(id): \(reason)\(fix)")
        }
        for (id, reason) in outcome.failed { print("  failed:   \(id): \(reason)") }
        for id in outcome.busy { print("  busy:     \(id) (locked by another process)") }
        for line in outcome.overhead.lines(interrupted: outcome.interrupted) { print(line) }
        if outcome.interrupted { print("interrupted: re-run the same command to resume.") }
        if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
    }

    /// The refusal when another `grid run` holds the grid folder's lock.
    static func alreadyRunning(gridFile: String, folder: URL) -> String {
        let holder = RunLock.holder(folder: folder)?.split(separator: " ", maxSplits: 1).map(String.init) ?? []
        let who = holder.count == 2 ? "process \(holder[0]) on host \(holder[1])" : "another process"
        return "\(gridFile): this grid is already being run by \(who), which holds the lock of \(folder.path) "
            + "(\(folder.appendingPathComponent(RunLock.fileName).path)). Fix: wait for that `ablate grid run` to finish, or stop "
            + "it (Ctrl-C; re-running resumes its runs); to train runs on several machines at once, use `ablate grid slurm`."
    }
}

/// `ablate grid run-one FILE --run ID`: one run in this process (what `grid run` and Slurm tasks spawn).
struct GridRunOneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-one", abstract: "Train one run of a grid in this process (used by `grid run` and Slurm).",
        shouldDisplay: false)

    @OptionGroup var file: GridFileOptions
    @Option(name: .customLong("run"), help: "The run id.") var runID: String?
    @Option(help: "The run's index in the expansion (as printed by `grid plan`).") var index: Int?
    @Option(help: "BLAS threads.") var threads: Int = 1
    @Flag(help: "Retrain a run whose folder holds another config, or that diverged.") var force = false
    @Flag(help: "Write a checkpoint and stop if the parent process dies.") var stopWithParent = false

    func validate() throws {
        guard (runID == nil) != (index == nil) else { throw ValidationError("give exactly one of --run ID or --index N") }
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be in 1…1024, got \(threads)") }
    }

    func run() throws {
        let (grid, runs) = try file.load()
        let selected: GridRun
        if let id = runID {
            guard let r = runs.first(where: { $0.id == id }) else {
                throw CLIError(
                    "\(file.file): no run with id '\(id)'.\(StrategyHint.near(id, runs.map(\.id))) Fix: see `ablate grid plan \(file.file)`.")
            }
            selected = r
        } else {
            guard let i = index, runs.indices.contains(i) else { throw CLIError("\(file.file): --index must be in 0..<\(runs.count)") }
            selected = runs[i]
        }
        let parent = getppid()
        let stop = StopFlag.install()
        let worker = GridWorker(grid: grid, run: selected, layout: file.layout(grid), threads: threads, force: force) {
            print($0); fflush(stdout)
        }
        let progress = TerminalProgress(label: selected.id)
        let code = worker.execute(
            observer: progress, makeData: { c in try RunData(prepared: DataLoading.prepare(c), config: c) },
            shouldStop: { stop.isSet || (stopWithParent && getppid() != parent) })
        if code != .finished { throw ExitCode(code.rawValue) }
    }
}

enum StrategyHint {
    static func near(_ s: String, _ candidates: [String]) -> String {
        let best = candidates.min { a, b in StrategyRegistry.editDistance(a, s) < StrategyRegistry.editDistance(b, s) }
        return best.map { " Did you mean '\($0)'?" } ?? ""
    }
}

/// `ablate grid check-blas`: sgemm of this process's OpenBLAS kernel against a naive Double product.
struct GridCheckBLASCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-blas", abstract: "Check this OpenBLAS kernel's sgemm against a Double reference.", shouldDisplay: false)

    func run() throws {
        let r = BLASKernelCheck.runHere()
        print(r.description)
        if !r.passed { throw ExitCode(1) }
    }
}

/// `ablate grid time-step`: seconds per training step of a config (`TrainingBenchmark.secondsPerStep`) under this
/// process's OpenBLAS kernel. The plan of a grid with `blas_kernel` runs it in a child with OPENBLAS_CORETYPE set,
/// because OpenBLAS picks its kernel once, when the library loads: the planning process cannot time another one.
struct GridTimeStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "time-step", abstract: "Print seconds per training step of a config (JSON) on random tokens.",
        shouldDisplay: false)

    @Argument(help: "The trainer config as one JSON object.") var config: String

    func run() throws {
        let c = try RunJSON.decoder.decode(TrainConfig.self, from: Data(config.utf8))
        print(String(format: "%.9g", try TrainingBenchmark.secondsPerStep(config: c)))
    }
}
