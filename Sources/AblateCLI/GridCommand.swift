import ArgumentParser
import Dataset
import Foundation
import Grid
import RunFormat
import Trainer

/// `ablate grid`: ablation grids from `ablations/*.yaml` — plan, run (parallel, resumable), Slurm arrays.
struct GridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Plan and run ablation grids (ablations/*.yaml): parallel, resumable, or as a Slurm job array.",
        discussion: "The grid file format is documented at the top of ablations/default.yaml.",
        subcommands: [
            GridPlanCommand.self, GridRunCommand.self, GridSlurmCommand.self, GridRunOneCommand.self,
            GridCheckBLASCommand.self,
            GridTimeStepCommand.self,
        ])
}

/// Options every grid subcommand shares.
struct GridFileOptions: ParsableArguments {
    @Argument(help: "The grid file (YAML), e.g. ablations/default.yaml.") var file: String
    @Option(help: "Root folder of run folders: runs go to <runs>/<grid name>/<run id>/.") var runs: String = "runs"

    /// `--runs` must be a folder, or a path whose nearest existing part is one (it is created then).
    func validate() throws {
        if let file = FolderCreation.fileInTheWay(of: URL(fileURLWithPath: runs)) {
            throw CLIError("--runs \(runs): \(file.path) is a file, not a folder. Fix: give --runs a folder (default: runs).")
        }
    }

    /// The parsed and validated grid, its corpora checked to be there; every problem is printed as
    /// file:line:column: message (exit status 1).
    func load() throws -> (GridFile, [GridRun]) {
        let home = AblateHome.fromEnvironment()
        let corpusProblem = { (corpus: String) -> String? in
            do { try CorpusReference.checkAvailable(corpus, home: home) } catch { return "\(error)" }
            return nil
        }
        do { return try GridExpansion.load(path: file, corpusProblem: corpusProblem) } catch let e as GridFileError {
            FileHandle.standardError.write(Data((e.description + "\n").utf8))
            let n = e.diagnostics.count
            FileHandle.standardError.write(Data("\(n) error\(n == 1 ? "" : "s") in \(file); nothing was run.\n".utf8))
            throw ExitCode(1)
        }
    }

    func layout(_ grid: GridFile) -> GridLayout {
        GridLayout(
            root: URL(fileURLWithPath: runs, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL,
            gridName: grid.name)
    }
}

/// Parallelism shared by plan, run and slurm: jobs × threads ≤ cores unless forced.
struct GridParallelOptions: ParsableArguments {
    @Option(help: "Runs in parallel (default: the grid file's `jobs`, else cores / threads).") var jobs: Int?
    @Option(help: "BLAS threads per run (default: the grid's base `threads` if set, else cores / jobs).") var threads: Int?
    @Flag(help: "Allow jobs × threads to exceed the number of cores.") var oversubscribe = false

    func resolve(_ grid: GridFile) throws -> (jobs: Int, threads: Int) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var t = threads ?? grid.base["threads"].flatMap { if case let .int(i) = $0.value { return i } else { return nil } }
        // Checked before they divide anything below.
        if let t, !(1...1024).contains(t) { throw CLIError("threads must be in 1…1024, got \(t). Fix: pass e.g. --threads 1.") }
        if let j = jobs ?? grid.jobs, !(1...4096).contains(j) { throw CLIError("jobs must be in 1…4096, got \(j). Fix: pass e.g. --jobs 2.") }
        let j = jobs ?? grid.jobs ?? max(1, cores / (t ?? 1))
        t = t ?? max(1, cores / j)
        if j * t! > cores && !oversubscribe {
            throw CLIError(
                "jobs × threads = \(j) × \(t!) = \(j * t!) exceeds the \(cores) cores of this machine. Fix: lower --jobs or --threads, or pass --oversubscribe."
            )
        }
        return (j, t!)
    }
}

enum GridSupport {
    /// Seconds per step of `config`, timed by `ablate grid time-step` in a child with OPENBLAS_CORETYPE=`kernel`.
    static func timeStepInChild(_ config: TrainConfig, kernel: String) throws -> Double {
        let json = String(decoding: try RunJSON.encode(config, pretty: false), as: UTF8.self)
        let out = try ChildProcess.ablate(["grid", "time-step", json], env: ["OPENBLAS_CORETYPE": kernel])
        guard let seconds = Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CLIError("grid time-step under \(kernel) printed no time: \(out)")
        }
        return seconds
    }

    /// This process's own binary, to spawn workers and checks.
    static var executable: URL { ChildProcess.executable }

    /// The environment workers get: OPENBLAS_CORETYPE only when the grid opts in to a kernel that passed the check.
    static func workerEnvironment(_ grid: GridFile, log: (String) -> Void) throws -> [String: String] {
        guard let kernel = grid.blasKernel else { return [:] }
        let result = try BLASKernelCheck.verify(kernel: kernel, executable: executable)
        log("blas_kernel \(kernel): \(result)")
        return ["OPENBLAS_CORETYPE": kernel]
    }

    /// Fills `trainSplit` of the runs with a byte budget (its steps depend on the tokenizer): from the tokenizer cache,
    /// or, with `prepare`, by training and caching the tokenizer as the run itself would (once per corpus and V). A
    /// run whose data cannot be prepared keeps nil: its worker reports the problem.
    static func resolveTrainSplits(_ runs: [GridRun], prepare: Bool) -> [GridRun] {
        var splits: [String: TrainSplit?] = [:]
        let home = AblateHome.fromEnvironment()
        return runs.map { run in
            guard run.config.maxTrainBytes != nil else { return run }
            let key = "\(run.config.corpus)|\(run.config.vocabSize)"
            if splits[key] == nil {
                let name = CorpusReference.preparedName(run.config.corpus)
                var split = PreparedData.cachedTrainSplit(corpus: name, vocabSize: run.config.vocabSize, home: home).map {
                    TrainSplit(tokens: $0.tokens, bytes: $0.bytes)
                }
                if split == nil && prepare, let p = try? DataLoading.prepare(run.config) {
                    split = TrainSplit(tokens: p.train.count, bytes: p.trainBytes)
                }
                splits[key] = .some(split)
            }
            var r = run
            r.trainSplit = splits[key]!
            return r
        }
    }

    /// The runs' estimates. A grid with `blas_kernel` has its steps timed in a child under that kernel (`grid
    /// time-step`): timed in this process, under the environment's kernel, the default grid's plan on a Zen 5 VM said
    /// 6 min 19 s for a grid that took 4 min 21 s with SkylakeX (efficiency 1.46).
    static func estimates(
        _ runs: [GridRun], layout: GridLayout, threads: Int, efficiency: Double?, kernel: String?
    ) -> ([RunEstimate], Throughput) {
        var tp = Throughput(
            threads: threads, efficiency: efficiency, source: efficiency.map { "efficiency \($0) (--efficiency)" }, kernel: kernel
        ) { config in
            if let kernel { return try timeStepInChild(config, kernel: kernel) }
            return try TrainingBenchmark.secondsPerStep(config: config)
        }
        GridPlan.calibrate(runs, layout: layout, throughput: &tp, efficiency: efficiency == nil)
        return (GridPlan.estimate(runs, throughput: &tp), tp)
    }
}
