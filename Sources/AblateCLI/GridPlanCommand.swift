import ArgumentParser
import Foundation
import Grid
import RunFormat
import Trainer

/// `ablate grid plan FILE`: every run with its size, budget, cost and estimated time, and the total.
struct GridPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Validate a grid file and print every run (parameters, tokens, FLOPs, estimated time) and the total.",
        discussion: """
            Time estimates: FLOPs (6N + 12·L·d·T per trained token, a third of that per evaluated token) divided by \
            a training rate. For a grid without finished runs the rate comes from timing training steps of each model \
            shape now, in this process (in a child under the grid's blas_kernel, when it sets one), on random tokens \
            (two warm-up steps, then up to ten timed ones or half a second). Once the grid has finished runs, it is \
            the sgemm GFLOP/s measured now at each model's own matrix shapes times the median achieved/sgemm ratio of \
            those runs; --efficiency gives that factor instead, and nothing is timed. Plus a start-up per run (process start, data \
            loading, model init: what the rate's training-loop time leaves out), the median of this grid's finished \
            runs or a measured default. The numbers used are printed, and for finished runs where their process time \
            went.

            A grid with max_train_bytes shows each run's byte budget; its steps follow from the training split's bytes \
            per token under the run's tokenizer, known once that tokenizer is cached (`grid run` trains it first).
            """)

    @OptionGroup var file: GridFileOptions
    @OptionGroup var parallel: GridParallelOptions
    @Option(help: "Override the efficiency factor (achieved ÷ sgemm FLOP/s).") var efficiency: Double?

    func validate() throws {
        if let efficiency, !(efficiency > 0 && efficiency <= 1) {
            throw ValidationError("--efficiency must be in (0, 1] (achieved ÷ sgemm FLOP/s), got \(efficiency)")
        }
    }

    /// How the plan's rate was found, with examples: the first run and the largest.
    static func rateText(_ runs: [GridRun], throughput: Throughput) -> String {
        let examples = runs.isEmpty ? [] : [runs.first!, runs.max { $0.model.nonEmbeddingParameters < $1.model.nonEmbeddingParameters }!]
        var tp = throughput
        switch tp.basis {
        case .timedSteps:
            // What the estimates timed; a run they did not (a byte budget without its tokenizer) is not timed for this line.
            let steps = examples.map { run in
                switch tp.stepSeconds[Throughput.stepKey(run)] {
                case let seconds??: return String(format: "%@ %.1f ms/step", run.id, seconds * 1e3)
                case .some(nil): return "\(run.id) not timed (\(tp.source))"
                case nil: return "\(run.id) not timed (no estimate yet)"
                }
            }
            let process = tp.kernel.map { "a child process with OpenBLAS kernel \($0) (blas_kernel)" } ?? "one process"
            return "training steps of each model shape timed now, \(process) with \(tp.threads) thread(s), random tokens (e.g. "
                + steps.joined(separator: ", ") + ")"
        case .sgemmEfficiency:
            let peaks = examples.map { String(format: "%@ %.0f", $0.id, tp.peakGFLOPS($0)) }
            return
                "sgemm GFLOP/s measured now at each model's shapes with \(tp.threads) thread(s) (e.g. \(peaks.joined(separator: ", "))) × \(tp.source)"
        }
    }

    func run() throws {
        let (grid, expanded) = try file.load()
        let runs = GridSupport.resolveTrainSplits(expanded, prepare: false)
        let (jobs, threads) = try parallel.resolve(grid)
        let layout = file.layout(grid)
        let (estimates, tp) = GridSupport.estimates(runs, layout: layout, threads: threads, efficiency: efficiency, kernel: grid.blasKernel)
        print(
            "grid \(grid.name) (\(grid.path)): \(runs.count) runs, axes \(grid.axes.map { "\($0.name)[\($0.values.count)]" }.joined(separator: " × "))\(grid.blasKernel.map { ", blas_kernel \($0)" } ?? "")"
        )
        if let d = grid.description { print(d.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let conflicting = GridExpansion.conflictingCombinations(grid)
        if conflicting > 0 {
            print(
                "\(conflicting) combination(s) of axis values yield no run: two of their values set one key differently "
                    + "(e.g. a strategy pinned to parametrization: sp, crossed with parametrization mup)")
        }
        let idWidth = max(6, runs.map(\.id.count).max() ?? 0)
        func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
            s.count >= w ? s : (left ? s + String(repeating: " ", count: w - s.count) : String(repeating: " ", count: w - s.count) + s)
        }
        let showBytes = runs.contains { $0.config.maxTrainBytes != nil }
        print(
            pad("#", 4) + "  " + pad("run id", idWidth, left: true) + pad("non-emb N", 11) + pad("emb+pos", 9) + (showBytes ? pad("bytes", 9) : "")
                + pad("tokens", 9) + pad("steps", 7) + pad("FLOPs", 9) + pad("est.", 8) + pad("mem", 8) + "  state")
        for e in estimates {
            let state: String
            switch RunDiskState.of(e.run, grid: grid, folder: layout.folder(e.run)) {
            case .new: state = "new"
            case let .partial(s): state = s > 0 ? "partial (step \(s))" : "started"
            case let .finished(v): state = v.map { String(format: "finished (val %.4f)", $0) } ?? "finished"
            case .diverged: state = "diverged"
            case .failed: state = "failed"
            case .changed: state = "CHANGED (config differs from the folder's)"
            }
            let bytes = showBytes ? pad(e.run.config.maxTrainBytes.map { GridPlan.count(Double($0)) } ?? "-", 9) : ""
            func known(_ s: String) -> String { e.known ? s : "?" }
            print(
                pad(String(e.run.index), 4) + "  " + pad(e.run.id, idWidth, left: true)
                    + pad(GridPlan.count(Double(e.nonEmbeddingParameters)), 11) + pad(GridPlan.count(Double(e.run.embeddingParameters)), 9)
                    + bytes + pad(known(GridPlan.count(Double(e.tokens))), 9) + pad(known(String(e.steps)), 7)
                    + pad(known(GridPlan.count(e.flops)), 9) + pad(known(GridPlan.duration(e.seconds)), 8) + pad("\(e.memoryBytes >> 20)M", 8)
                    + "  " + state)
        }
        let cpu = estimates.reduce(0) { $0 + $1.seconds }
        let pending = estimates.filter { !RunDiskState.of($0.run, grid: grid, folder: layout.folder($0.run)).isDone }
        let wall = GridPlan.wallSeconds(pending.map(\.seconds), jobs: jobs)
        print(
            String(
                format: "total: %d runs, %@ tokens, %@ FLOPs, %@ of worker time; %d pending → about %@ wall on %d job(s) × %d thread(s)",
                runs.count, GridPlan.count(Double(estimates.reduce(0) { $0 + $1.tokens })),
                GridPlan.count(estimates.reduce(0) { $0 + $1.flops }), GridPlan.duration(cpu), pending.count,
                GridPlan.duration(wall), jobs, threads))
        let unknown = estimates.filter { !$0.known }.count
        if unknown > 0 {
            print(
                "\(unknown) run(s) with max_train_bytes have no tokenizer cached yet: their steps, FLOPs and time (shown as ?) are not in the total; `ablate grid run` trains the tokenizers first"
            )
        }
        print(
            "time estimate: " + Self.rateText(runs, throughput: tp)
                + ", plus a start-up of \(tp.startupSource); the machine's current load is included")
        // What the finished runs' processes spent their time on (summary.json's `timing`; older runs have none).
        let timed = estimates.compactMap { e -> (RunEstimate, RunTiming)? in
            guard let t = (try? RunFolder(layout.folder(e.run)).read(RunSummary.self))?.timing else { return nil }
            return (e, t)
        }
        if !timed.isEmpty {
            let wall = timed.reduce(0) { $0 + $1.1.wall }, planned = timed.reduce(0) { $0 + $1.0.seconds(fromStep: $1.1.fromStep) }
            print(
                "finished: \(timed.count) run(s) with a timing record, \(GridOverhead.seconds(wall)) of process time against the plan's \(GridOverhead.seconds(planned)): "
                    + GridOverhead.shares(timed.map(\.1)))
        }
    }
}
