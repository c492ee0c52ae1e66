import Foundation

/// An sbatch job-array script for a grid: one array task per pending run, resources from the plan, each task
/// `ablate grid run-one FILE --run <id>` — requeue-safe, because a task resumes its run from its checkpoint and
/// the run's lock keeps a requeued task off a run that is still being trained.
public enum SlurmScript {
    public struct Options {
        public var executable: String
        public var gridPath: String
        public var runsRoot: String
        public var workingDirectory: String
        public var threads: Int
        public var partition: String?
        /// Time limit = estimate × this (+ 5 minutes), since the estimate assumes an idle machine.
        public var timeFactor: Double = 3
        public var maxConcurrent: Int?
        public var environment: [String: String] = [:]
        public init(
            executable: String, gridPath: String, runsRoot: String, workingDirectory: String, threads: Int,
            partition: String? = nil, maxConcurrent: Int? = nil, environment: [String: String] = [:]
        ) {
            self.executable = executable; self.gridPath = gridPath; self.runsRoot = runsRoot
            self.workingDirectory = workingDirectory; self.threads = threads; self.partition = partition
            self.maxConcurrent = maxConcurrent; self.environment = environment
        }
    }

    public static func make(grid: GridFile, pending: [RunEstimate], options o: Options) -> String {
        let peak = (pending.map(\.memoryBytes).max() ?? 0) * 3 / 2
        let memMB = ((peak >> 20) + 63) / 64 * 64
        let seconds = Int((pending.map(\.seconds).max() ?? 0) * o.timeFactor) + 300
        let time = String(format: "%d:%02d:%02d", seconds / 3600, (seconds % 3600) / 60, seconds % 60)
        let array = "0-\(max(pending.count - 1, 0))" + (o.maxConcurrent.map { "%\($0)" } ?? "")
        let logDir = "\(o.runsRoot)/\(grid.name)/slurm"
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var s = """
            #!/bin/bash
            # Slurm job array for grid '\(grid.name)' (\(o.gridPath)): \(pending.count) pending run(s), written by `ablate grid slurm`.
            # Each task trains one run with `ablate grid run-one`; re-submitting (or a requeue) resumes unfinished runs.
            #SBATCH --job-name=ablate-\(grid.name)
            #SBATCH --array=\(array)
            #SBATCH --cpus-per-task=\(o.threads)
            #SBATCH --mem=\(max(memMB, 256))M
            #SBATCH --time=\(time)
            #SBATCH --requeue
            #SBATCH --output=\(logDir)/%A_%a.log

            """
        if let p = o.partition { s += "#SBATCH --partition=\(p)\n" }
        s += "set -euo pipefail\ncd \(q(o.workingDirectory))\n"
        for (k, v) in o.environment.sorted(by: { $0.key < $1.key }) { s += "export \(k)=\(q(v))\n" }
        if o.environment["OPENBLAS_CORETYPE"] != nil {
            s += "\(q(o.executable)) grid check-blas   # the opted-in kernel must match the reference on this node\n"
        }
        s += "runs=(\n"
        for e in pending { s += "  \(e.run.id)\n" }
        s += ")\n"
        s +=
            "exec \(q(o.executable)) grid run-one \(q(o.gridPath)) --run \"${runs[$SLURM_ARRAY_TASK_ID]}\" --runs \(q(o.runsRoot)) --threads \"${SLURM_CPUS_PER_TASK:-\(o.threads)}\"\n"
        return s
    }
}
