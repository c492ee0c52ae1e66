import ArgumentParser
import Benchmarks
import Dataset
import Foundation
import Kernels
import RunFormat
import Trainer

/// `ablate bench`: training throughput and MFU of the reference shapes and the grids' shapes at 1 and 2 threads, next to
/// PyTorch eager when torch is importable, and where a step's time goes by operation, written to reports/bench.md;
/// `--profile` prints only the per-operation profile.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training tokens/s and model FLOP utilisation; write reports/bench.md.",
        discussion: """
            Each (kernel, shape, threads) cell runs in its own child process, so peak memory is per cell and the \
            OpenBLAS kernel can differ per cell. MFU = model FLOP/s ÷ the sgemm peak measured in the same process at \
            the same thread count. --kernels adds cells with OPENBLAS_CORETYPE set for that child alone, after a child \
            has checked that kernel's sgemm against a Double reference. When torch is importable, PyTorch eager runs \
            the same model beside each cell of the environment's kernel (Python/bench_torch.py), and the two take turns \
            window by window, so a slow spell of a shared machine reaches both sides of the ratio.

            After its timed steps each cell of the environment's kernel profiles --profile-steps more with every \
            operation timed (page section "Where the time goes"). --profile prints only that profile and the \
            products' speed against a quick sgemm peak, in this process, without the timed windows or PyTorch: e.g. \
            `ablate bench --profile --shapes g80 --threads 1`.

            Shapes:
            \(TrainingBenchmark.shapes.map(Self.helpLines).joined(separator: "\n"))
            """)

    @Option(help: "Shapes to run, comma-separated (see below).")
    var shapes: String = TrainingBenchmark.shapes.map(\.name).joined(separator: ",")
    @Option(help: "Thread counts.") var threads: String = "1,2"
    @Option(help: "Timed steps per window (after 2 warm-up steps).") var steps: Int = 6
    @Option(help: "Timed windows per cell, at least; the fastest counts (a shared machine's slow spells only slow a window down).")
    var windows: Int = 3
    @Option(
        help: """
            A cell whose windows are short gets more of them (up to \(Self.maxWindows)) until its timed steps add up to \
            this many seconds, and more profiled steps (up to \(Self.maxProfileSteps)) until they add up to a third of \
            it, from a step time measured first in this process (0: exactly --windows and --profile-steps).
            """)
    var minSeconds: Double = 1.5
    @Option(help: "Steps profiled operation by operation after the timed ones, at least (0: no profile).") var profileSteps: Int = 5
    @Flag(help: "Print only the per-operation profile of each shape and thread count (no report, no PyTorch).") var profile = false
    @Option(help: "Extra OpenBLAS kernels to measure besides the environment's, e.g. SkylakeX,Haswell.") var kernels: String = ""
    @Flag(help: "Skip the PyTorch comparison.") var noTorch = false
    @Option(help: "Where to write the Markdown report.") var out: String = "reports/bench.md"
    @Flag(help: "Print the per-kernel timing table (ms, GFLOP/s or GB/s per kernel at the reference shape) instead.")
    var kernelTable = false

    // Child modes.
    @Option(help: .hidden) var worker: String?
    @Flag(help: .hidden) var verifyKernel = false
    /// With --worker: stop at each window's gate (`ChildProcess.Gated`) until the parent says go.
    @Flag(help: .hidden) var gated = false

    func run() throws {
        if verifyKernel { return try Self.verifyKernelInProcess() }
        if kernelTable { return print(KernelBench.run()) }
        // The page's folder before minutes of measuring: a path that cannot hold it fails now.
        if worker == nil && !profile { try FolderCreation.create(URL(fileURLWithPath: out).deletingLastPathComponent(), option: "--out") }
        if let worker {
            let shape = try Self.shape(named: worker)
            let r = try TrainingBenchmark.run(
                shape: shape, threads: Int(threads) ?? 1, steps: steps, windows: windows, profileSteps: profileSteps
            ) {
                guard gated else { return }
                print(ChildProcess.Gated.gateLine)
                fflush(stdout)
                _ = readLine()
            }
            print(String(decoding: try RunJSON.encode(r, pretty: false), as: UTF8.self))
            return
        }
        let shapeNames = shapes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let shapeList = try shapeNames.map(Self.shape(named:))
        let threadCounts = try threads.split(separator: ",").map { t -> Int in
            guard let n = Int(t.trimmingCharacters(in: .whitespaces)), n >= 1 else {
                throw CLIError("--threads: '\(t)' is not a thread count. Fix: give positive integers, e.g. --threads 1,2.")
            }
            return n
        }
        guard steps >= 1, windows >= 1, profileSteps >= 0, !profile || profileSteps >= 1, minSeconds >= 0, minSeconds.isFinite else {
            throw CLIError(
                "--steps and --windows must be ≥ 1, --profile-steps ≥ 0 (≥ 1 with --profile) and --min-seconds ≥ 0. Fix: e.g. --steps 6 --windows 3 --profile-steps 5 --min-seconds 1.5."
            )
        }
        if profile { return try Self.printProfiles(shapes: shapeList, threads: threadCounts, steps: profileSteps) }
        var kernelList: [String?] = [nil]
        for k in kernels.split(separator: ",").map(String.init) where !k.isEmpty {
            if try Self.child(["bench", "--verify-kernel"], coretype: k).contains("kernel-ok") {
                kernelList.append(k)
            } else {
                print("kernel \(k): its sgemm does not match the reference on this machine; not measured")
            }
        }
        // Where PyTorch is measured (the environment's kernel only), its worker and ablate's take turns window by window
        // (`cell`), so a slow spell of this shared machine reaches both sides of a ratio rather than one.
        let torchScript = noTorch ? nil : Self.torchScript().flatMap { Self.torchAvailable() ? $0 : nil }
        var torch: [String: BenchReport.TorchCell] = [:]
        // Windows and profiled steps per (shape, threads), decided once: every kernel's cell of a shape takes the same
        // number (the fastest of more windows is a lower time, so unequal counts would tilt a kernel comparison).
        var countsByCell: [String: (windows: Int, profileSteps: Int)] = [:]
        var results: [TrainingBenchmark.Result] = []
        for kernel in kernelList {
            for name in shapeNames {
                for t in threadCounts {
                    let script = kernel == nil ? torchScript : nil
                    print(
                        "measuring shape \(name), \(t) thread\(t == 1 ? "" : "s"), kernel \(kernel ?? "environment")"
                            + (script == nil ? "" : ", taking turns with PyTorch eager") + " …")
                    fflush(stdout)
                    let key = BenchReport.cellKey(name, t)
                    let cellCounts = try countsByCell[key] ?? counts(Self.shape(named: name), threads: t)
                    countsByCell[key] = cellCounts
                    let (r, torchCell) = try cell(
                        name, threads: t, kernel: kernel, windows: cellCounts.windows, profileSteps: cellCounts.profileSteps,
                        torchScript: script)
                    results.append(r)
                    print(
                        String(
                            format: "  %.0f tokens/s, %.0f GFLOP/s, MFU %.0f %% of %.0f GFLOP/s sgemm (%@)",
                            r.tokensPerSecond, r.modelGFLOPS, 100 * r.mfu, r.sgemmPeakGFLOPS, r.kernel))
                    if let torchCell {
                        torch[BenchReport.cellKey(name, t)] = torchCell
                        print(
                            String(
                                format: "  PyTorch: %.0f tokens/s, %.0f GFLOP/s sgemm (%@)", torchCell.tokensPerSecond,
                                torchCell.sgemmPeakGFLOPS, torchCell.blas))
                    } else if script != nil {
                        print("  PyTorch gave no result for this cell (bench_torch.py failed or printed no JSON line); left out")
                    }
                    if let p = r.profile { print(BenchReport.profileTable([p])) }
                }
            }
        }
        var markdown = BenchReport.markdown(
            results: results, torch: torch, shapes: shapeNames, threads: threadCounts, invocation: invocation,
            minSeconds: minSeconds, turnPause: Self.turnPause)
        markdown += Self.tokenizerSection()
        let url = URL(fileURLWithPath: out)
        try AtomicWrite.write(markdown, to: url)
        print("wrote \(out)")
    }

    /// The command line that measured the page, without --out and with the options left at their defaults omitted,
    /// so that the page says how to measure it again.
    var invocation: String {
        guard let defaults = try? BenchCommand.parse([]) else { return "ablate bench" }
        var parts = ["ablate bench"]
        if shapes != defaults.shapes { parts.append("--shapes \(shapes)") }
        if threads != defaults.threads { parts.append("--threads \(threads)") }
        if steps != defaults.steps { parts.append("--steps \(steps)") }
        if windows != defaults.windows { parts.append("--windows \(windows)") }
        if minSeconds != defaults.minSeconds { parts.append("--min-seconds \(minSeconds)") }
        if profileSteps != defaults.profileSteps { parts.append("--profile-steps \(profileSteps)") }
        if !kernels.isEmpty { parts.append("--kernels \(kernels)") }
        if noTorch { parts.append("--no-torch") }
        return parts.joined(separator: " ")
    }

    /// A shape in `--help`: its dimensions, then where it comes from.
    static func helpLines(_ s: TrainingBenchmark.Shape) -> String {
        let name = s.name.padding(toLength: 6, withPad: " ", startingAt: 0)
        return "  \(name)V \(s.vocab), d \(s.dModel), L \(s.layers), H \(s.heads), T \(s.context), B \(s.batch)\n        \(s.origin)"
    }

    static func shape(named name: String) throws -> TrainingBenchmark.Shape {
        guard let shape = TrainingBenchmark.shape(named: name) else {
            throw CLIError(
                "--shapes: unknown shape '\(name)'. Fix: use some of \(TrainingBenchmark.shapes.map(\.name).joined(separator: ", ")) (`ablate bench --help` lists them)."
            )
        }
        return shape
    }

    /// `--profile`: each shape at each thread count, in this process, printed as it goes.
    static func printProfiles(shapes: [TrainingBenchmark.Shape], threads: [Int], steps: Int) throws {
        print("Per-operation profile (\(CPUInfo.summary), kernel \(BLAS.coreName)), 2 warm-up steps then \(steps) profiled.")
        print(BenchReport.profileLegend + "\n")
        for shape in shapes {
            for t in threads {
                print("## \(shape.name) (\(BenchReport.dimensions(shape))), \(t) thread\(t == 1 ? "" : "s"): \(shape.origin)\n")
                fflush(stdout)
                let profile = try TrainingBenchmark.profile(shape: shape, threads: t, steps: steps)
                print(BenchReport.profileTable([profile]))
                // The sgemm peak at the profile's thread count (under a second), for the products' speed.
                if let line = BenchReport.productSpeedLine(
                    shape: shape, profile: profile, sgemmPeakGFLOPS: TrainingBenchmark.sgemmPeak(for: shape))
                {
                    print(line + "\n")
                }
            }
        }
    }

    /// Tokenizer speed on the prepared Shakespeare corpus (targets: train V=4096 < 20 s, encode < 5 s).
    static func tokenizerSection() -> String {
        let home = AblateHome.fromEnvironment()
        guard let train = try? Corpus.splitBytes("train", name: "shakespeare", home: home),
            let val = try? Corpus.splitBytes("val", name: "shakespeare", home: home)
        else {
            return "\n## Tokenizer\n\nThe Shakespeare corpus is not prepared (`make data`), so the tokenizer was not measured.\n"
        }
        print("measuring the tokenizer (V = 4096) …")
        guard let r = try? TokenizerBench.run(train: train, encode: train + val, vocabSize: 4096) else { return "" }
        print("  " + r.description.replacingOccurrences(of: "\n", with: "\n  "))
        return "\n## Tokenizer\n\nByte-level BPE on the Shakespeare train split, one core, from scratch (no cache):\n\n"
            + String(
                format:
                    "| vocab | train bytes | train time | encode bytes (whole corpus) | encode time | bytes/token |\n|---|---|---|---|---|---|\n| %d | %d | %.2f s (target < 20 s) | %d | %.2f s (target < 5 s) | %.3f |\n",
                r.vocabSize, r.trainBytes, r.trainSeconds, r.encodeBytes, r.encodeSeconds, r.bytesPerToken)
    }

    /// Child check: this process's sgemm (under the kernel in its environment) against a Double product.
    static func verifyKernelInProcess() throws {
        var rng = Xoshiro256(seed: 5)
        for (m, n, k) in [(67, 45, 33), (256, 512, 128), (128, 128, 2048)] {
            let a = (0..<(m * k)).map { _ in rng.nextUniform() - 0.5 }
            let b = (0..<(k * n)).map { _ in rng.nextUniform() - 0.5 }
            var c = [Float](repeating: 0, count: m * n)
            for t in [1, 2] {
                BLAS.setThreads(t)
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            BLAS.sgemm(
                                transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: k,
                                b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        var ref = 0.0
                        for p in 0..<k { ref += Double(a[i * k + p]) * Double(b[p * n + j]) }
                        // Float accumulation of k products of magnitude ≤ 0.25: error ≲ k·2⁻²⁴·0.25·√k-ish; 1e-4·√k is generous.
                        if abs(Double(c[i * n + j]) - ref) > 1e-4 * Double(k).squareRoot() {
                            print("kernel-mismatch \(BLAS.coreName) at (\(m),\(n),\(k)) [\(i),\(j)]: \(c[i * n + j]) vs \(ref)")
                            return
                        }
                    }
                }
            }
        }
        print("kernel-ok \(BLAS.coreName)")
    }

    static func child(_ args: [String], coretype: String?) throws -> String {
        try ChildProcess.ablate(args, env: coretype.map { ["OPENBLAS_CORETYPE": $0] } ?? [:])
    }

    static let env = URL(fileURLWithPath: "/usr/bin/env")

    /// Seconds between one side's timed window and the other's: the side that just ran may have threads still spinning
    /// for work (OpenMP's wait policy in PyTorch), which would take a core from the other's window.
    static let turnPause = 0.3

    /// One cell: ablate's worker (a child, so each cell starts from a fresh process under its kernel) and, with
    /// `torchScript`, PyTorch eager on the same shape and threads (bench_torch.py). Both set up and warm up one after
    /// the other, then time their windows in turn (ablate, PyTorch, ablate, …), each taking its fastest; neither runs
    /// while the other is timed. A PyTorch failure only leaves its side out (nil).
    func cell(
        _ name: String, threads t: Int, kernel: String?, windows: Int, profileSteps: Int, torchScript: String?
    ) throws
        -> (TrainingBenchmark.Result, BenchReport.TorchCell?)
    {
        let s = try Self.shape(named: name)
        let worker = try ChildProcess.Gated(
            ChildProcess.executable,
            [
                "bench", "--worker", name, "--threads", String(t), "--steps", String(steps), "--windows", String(windows),
                "--profile-steps", String(kernel == nil ? profileSteps : 0), "--gated",
            ], env: kernel.map { ["OPENBLAS_CORETYPE": $0] } ?? [:])
        func workerFailed() -> CLIError {
            CLIError("benchmark child failed for shape \(name): \(worker.finish().joined(separator: "\n"))")
        }
        guard worker.waitForGate() else { throw workerFailed() }
        var pytorch: ChildProcess.Gated? = nil
        if let torchScript {
            pytorch = try? ChildProcess.Gated(
                Self.env,
                [
                    "python3", torchScript, "--vocab", "\(s.vocab)", "--d_model", "\(s.dModel)", "--layers", "\(s.layers)",
                    "--heads", "\(s.heads)", "--context", "\(s.context)", "--batch", "\(s.batch)", "--threads", "\(t)",
                    "--steps", "\(steps)", "--windows", "\(windows)", "--gated",
                ])
            if let p = pytorch, !p.waitForGate() { _ = p.finish(); pytorch = nil }
        }
        func settle() { if pytorch != nil { Thread.sleep(forTimeInterval: Self.turnPause) } }
        for _ in 0..<windows {
            settle()
            worker.pass()
            guard worker.waitForGate() else {
                pytorch?.stop()
                throw workerFailed()
            }
            if let p = pytorch {
                settle()
                p.pass()
                if !p.waitForGate() { _ = p.finish(); pytorch = nil }
            }
        }
        // PyTorch finishes first (it has nothing left but printing), then ablate profiles alone.
        let torchLines = pytorch?.finish()
        let lines = worker.finish()
        guard let line = lines.last, let r = try? JSONDecoder().decode(TrainingBenchmark.Result.self, from: Data(line.utf8)) else {
            throw CLIError("benchmark child failed for shape \(name): \(lines.joined(separator: "\n"))")
        }
        guard let torchLine = torchLines?.last,
            let obj = try? JSONSerialization.jsonObject(with: Data(torchLine.utf8)) as? [String: Any],
            let tps = obj["tokens_per_s"] as? Double, let peak = obj["sgemm_gflops"] as? Double
        else { return (r, nil) }
        return (
            r,
            BenchReport.TorchCell(
                tokensPerSecond: tps, sgemmPeakGFLOPS: peak, blas: obj["blas"] as? String ?? "unknown",
                version: obj["torch"] as? String ?? "unknown")
        )
    }

    static let maxWindows = 15

    static let maxProfileSteps = 100

    /// The windows and profiled steps of one cell (`TrainingBenchmark.windowCount`), from a step time measured here
    /// with the environment's kernel; both sides of a PyTorch comparison get the same windows. A profile of five steps
    /// of a few ms each is as exposed to a pause as a short window: at g48 with 2 threads one such profile put the
    /// products at 57 % of the step, another at 84 %.
    func counts(_ shape: TrainingBenchmark.Shape, threads: Int) -> (windows: Int, profileSteps: Int) {
        guard minSeconds > 0,
            let perStep = try? TrainingBenchmark.secondsPerStep(config: TrainingBenchmark.config(shape: shape, threads: threads))
        else { return (windows, profileSteps) }
        let windows = TrainingBenchmark.windowCount(
            requested: windows, steps: steps, secondsPerStep: perStep, minSeconds: minSeconds, limit: Self.maxWindows)
        let profiled =
            profileSteps == 0
            ? 0
            : TrainingBenchmark.windowCount(
                requested: profileSteps, steps: 1, secondsPerStep: perStep, minSeconds: minSeconds / 3, limit: Self.maxProfileSteps)
        return (windows, profiled)
    }

    static func torchAvailable() -> Bool {
        (try? ChildProcess.output(of: env, ["python3", "-c", "import torch; print('torch-ok')"]))?.contains("torch-ok") == true
    }

    /// The PyTorch script ships beside this source file.
    static func torchScript() -> String? {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/bench_torch.py").path
        let local = "Sources/AblateCLI/Python/bench_torch.py"
        return [here, local].first { FileManager.default.fileExists(atPath: $0) }
    }
}
