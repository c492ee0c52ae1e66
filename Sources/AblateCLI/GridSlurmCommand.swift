import ArgumentParser
import Foundation
import Grid
import RunFormat
import Trainer

/// `ablate grid slurm FILE`: an sbatch job-array script with one task per pending run.
struct GridSlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write an sbatch job-array script: one task per pending run, resources from the plan.",
        discussion: "Each task runs `ablate grid run-one FILE --run <id>`; a requeued or re-submitted task resumes its run.")

    @OptionGroup var file: GridFileOptions
    @Option(help: "CPUs (BLAS threads) per task.") var threads: Int = 1
    @Option(help: "Where to write the script (default: <runs>/<grid>/slurm/submit.sh).") var out: String?
    @Option(help: "Slurm partition.") var partition: String?
    @Option(help: "At most this many tasks at once (sbatch --array …%N).") var maxConcurrent: Int?
    @Flag(help: "Submit the script with sbatch and print the job id.") var submit = false

    func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be in 1…1024, got \(threads)") }
        if let maxConcurrent, maxConcurrent < 1 { throw ValidationError("--max-concurrent must be ≥ 1, got \(maxConcurrent)") }
    }

    func run() throws {
        let (grid, expanded) = try file.load()
        let runs = GridSupport.resolveTrainSplits(expanded, prepare: true)
        let layout = file.layout(grid)
        let changed = runs.filter {
            if case .changed = RunDiskState.of($0, grid: grid, folder: layout.folder($0)) { return true } else { return false }
        }
        if !changed.isEmpty {
            throw CLIError(
                "the grid file changed for existing run(s) \(changed.map(\.id).joined(separator: ", ")). Fix: restore the file or run `ablate grid run --force` locally."
            )
        }
        let env: [String: String]
        do { env = try GridSupport.workerEnvironment(grid) { print($0) } } catch { throw CLIError("\(error)") }
        let (estimates, _) = GridSupport.estimates(runs, layout: layout, threads: threads, efficiency: nil, kernel: grid.blasKernel)
        let pending = estimates.filter { !RunDiskState.of($0.run, grid: grid, folder: layout.folder($0.run)).isDone }
        guard !pending.isEmpty else { print("grid \(grid.name): every run is done; nothing to submit."); return }
        let cwd = FileManager.default.currentDirectoryPath
        let gridPath = URL(fileURLWithPath: file.file, relativeTo: URL(fileURLWithPath: cwd)).standardizedFileURL.path
        var env2 = env
        env2["ABLATE_HOME"] = ProcessInfo.processInfo.environment["ABLATE_HOME"] ?? cwd + "/.ablate"
        let script = SlurmScript.make(
            grid: grid, pending: pending,
            options: .init(
                executable: GridSupport.executable.path, gridPath: gridPath, runsRoot: layout.root.path, workingDirectory: cwd,
                threads: threads, partition: partition, maxConcurrent: maxConcurrent, environment: env2))
        let outURL = URL(fileURLWithPath: out ?? layout.gridFolder.appendingPathComponent("slurm/submit.sh").path)
        try FolderCreation.create(outURL.deletingLastPathComponent(), option: out == nil ? nil : "--out")
        try FolderCreation.create(layout.gridFolder.appendingPathComponent("slurm"))
        try AtomicWrite.write(Data(script.utf8), to: outURL)
        chmod(outURL.path, 0o755)
        try GridIndex.write(grid: grid, runs: runs, layout: layout)
        print("wrote \(outURL.path): \(pending.count) array task(s)")
        guard submit else { print("submit with: sbatch \(outURL.path)"); return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sbatch", "--parsable", outURL.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CLIError("sbatch failed (status \(p.terminationStatus)); see its message above.") }
        print("submitted job \(out.split(separator: ";").first ?? "")")
    }
}
