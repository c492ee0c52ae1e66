import ArgumentParser
import Benchmarks
import Embeddings
import Foundation
import Report
import RunFormat

/// `ablate report`: Markdown + SVG report of a grid, from its run folders alone.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write reports/<grid>/README.md and SVG figures from a grid's run folders.",
        discussion: """
            GRID is a grid's run folder (runs/<grid>, holding one folder per run) or a grid file (ablations/<grid>.yaml, \
            whose `name:` — or, without one, its file name — selects runs/<name>, as in `ablate grid run`). The report \
            is deterministic: the same run folders give the same files. Missing, diverged and unfinished runs are \
            listed, never silently dropped.
            """)

    @Argument(help: "runs/<grid> or ablations/<grid>.yaml.") var grid: String?
    @Option(help: "Output folder (default: reports/<grid>).") var out: String?
    @Option(help: "Where grid files' runs live (used with a grid file).") var runsRoot: String = "runs"
    @Option(help: "The baseline strategy (or arm label) every other strategy is compared with (default: learned).") var baseline: String?
    @Flag(help: "Time the report of a synthetic grid of 100 runs × 1,000 metric lines instead.") var bench = false

    func validate() throws {
        if !bench && grid == nil { throw ValidationError("give a grid: runs/<grid> or ablations/<grid>.yaml (or --bench)") }
    }

    func run() throws {
        if bench {
            let r = try ReportBench.run()
            print(
                String(
                    format: "report of %d runs × %d metric lines: %.3f s (read + analyse + render %.3f s, write %.3f s; median of 3)",
                    r.runs, r.metricLines, r.totalSeconds, r.buildSeconds, r.writeSeconds))
            return
        }
        let (folder, name) = try Self.resolve(grid!, runsRoot: runsRoot)
        let output = try Report.build(gridFolder: folder, name: name, baseline: baseline ?? "learned")
        if let baseline { try Self.checkBaseline(baseline, in: output, grid: grid!) }
        let target = URL(fileURLWithPath: out ?? "reports/\(name)")
        try FolderCreation.create(target, option: out == nil ? nil : "--out")
        let files = try Report.write(output, to: target)
        // A sliced report (learning-rate or parametrization axis) analyses every run; `analysis` is only its first slice.
        let runs = output.slices?.runs.count ?? output.analysis.runs.count
        let problems = output.slices?.problems.count ?? output.analysis.problems.count
        print("report of \(runs) runs (\(problems) missing or not finished) → \(target.path)/README.md (+ \(files.count - 1) figures)")
    }

    /// A run folder, or a grid file mapped to runs/<name>.
    /// A baseline the user named must be one of the grid's arms: a typo would otherwise give a report without a
    /// single comparison (the default `learned` may be absent: the report then says so).
    static func checkBaseline(_ baseline: String, in output: Report.Output, grid: String) throws {
        let analyses = output.slices.map { $0.slices.map(\.tuned) } ?? [output.analysis]
        var arms: [String] = []
        for arm in analyses.flatMap(\.arms) where !arms.contains(arm) { arms.append(arm) }
        guard !arms.contains(baseline) else { return }
        let guess = StrategyRegistry.nearest(baseline, in: arms).map { " Did you mean '\($0)'?" } ?? ""
        throw CLIError(
            "'--baseline \(baseline)': no arm of \(grid) is called that.\(guess) Its arms: \(arms.joined(separator: ", ")). "
                + "Fix: pass one of them, or leave --baseline out to compare with learned.")
    }

    static func resolve(_ path: String, runsRoot: String) throws -> (URL, String) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CLIError("\(path): no such grid folder or grid file. Fix: pass runs/<grid> or ablations/<grid>.yaml.")
        }
        if isDir.boolValue {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            // The folder's name becomes reports/<name>: the same rule as a grid's name.
            return (url, try PathName.validate(url.lastPathComponent, what: "the grid folder's name", source: path))
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError("\(path): cannot be read. Fix: pass a readable grid file (ablations/<grid>.yaml) or runs/<grid>.")
        }
        let name = try GridName.of(gridFile: path, text: text)
        return (try PathName.resolve(name, in: URL(fileURLWithPath: runsRoot), what: "the grid name", source: path), name)
    }
}
