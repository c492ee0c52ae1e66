import Foundation
import Kernels
import Trainer

/// The Markdown page `ablate bench` writes: every figure with the kernel it used, where a step's time goes, and the
/// targets checked.
public enum BenchReport {
    /// Model FLOP utilisation targets, of the sgemm peak measured in the same run.
    static let mfuTargets = ["a": 0.75, "b": 0.80, "c": 0.85, "g48": 0.75, "g80": 0.75, "g128": 0.75, "s64": 0.75]
    /// Training speed over PyTorch eager on the same shape and thread count, every shape, every thread count.
    static let speedupTarget = 1.3
    /// 2 threads over 1 thread on the shape that has enough work per step to use both.
    static let threadScalingTarget = (shape: "c", ratio: 1.7)

    /// PyTorch eager on one shape and thread count, measured by bench_torch.py taking turns with ablate's worker.
    public struct TorchCell {
        public var tokensPerSecond: Double
        /// The sgemm peak of torch's own BLAS, measured as ablate's is (the same three products, before and between windows).
        public var sgemmPeakGFLOPS: Double
        /// The BLAS torch was built with (its BLAS_INFO, e.g. "mkl").
        public var blas: String
        public var version: String

        public init(tokensPerSecond: Double, sgemmPeakGFLOPS: Double, blas: String, version: String) {
            self.tokensPerSecond = tokensPerSecond; self.sgemmPeakGFLOPS = sgemmPeakGFLOPS; self.blas = blas; self.version = version
        }
    }

    public static func cellKey(_ shape: String, _ threads: Int) -> String { "\(shape)-\(threads)" }

    /// "3" or "3–15": the values' range (nil when there are none).
    static func range(_ values: [Int]) -> String? {
        guard let low = values.min(), let high = values.max() else { return nil }
        return low == high ? "\(low)" : "\(low)–\(high)"
    }

    public static func markdown(
        results: [TrainingBenchmark.Result], torch: [String: TorchCell], shapes: [String], threads: [Int],
        invocation: String, minSeconds: Double, turnPause: Double
    ) -> String {
        var md = "# Training throughput benchmark\n\n"
        md += "Written by `\(invocation)` (`make bench` runs `ablate bench $(BENCH_ARGS)`) on \(CPUInfo.summary), "
        md += "\(ProcessInfo.processInfo.activeProcessorCount) cores; \(BLAS.config); "
        md += "the project's own kernels compiled for \(KernelBuild.instructionSet).\n"
        md += "Environment: OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"), "
        md += "OPENBLAS_L2_SIZE=\(ProcessInfo.processInfo.environment["OPENBLAS_L2_SIZE"] ?? "(unset)"), "
        md += "OPENBLAS_THREAD_TIMEOUT=\(ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "(unset)") "
        md += "(`ablate` sets 4 unless given: idle BLAS workers sleep at once instead of spinning against our kernels).\n\n"
        md += "Shapes (V, d, L, H, T, B), each trained with the `learned` strategy under SP on random tokens:\n\n"
        for name in shapes {
            guard let s = TrainingBenchmark.shape(named: name) else { continue }
            md += "- **\(s.name)** (\(dimensions(s))): \(s.origin)\n"
        }
        md += "\nFLOP/token = 6·N + 12·L·d·T (N = non-embedding parameters incl. the untied head). MFU = model FLOP/s ÷ the "
        md += "best sgemm GFLOP/s measured in the same process at the same thread count (square 1024³ and the model's own "
        md += "shapes), measured before the timed steps and after each timed window, the highest used. "
        let windows = results.compactMap(\.windows)
        if let count = range(windows), windows.max()! > 1, let n = results.first?.steps {
            md += "Each cell times \(count) windows of \(n) steps after 2 warm-up steps and reports the fastest (a slow spell "
            md += "of a shared machine only ever slows a window down); PyTorch is timed the same way. "
            if windows.min() != windows.max() {
                md += "A cell whose windows are short gets more of them, until its timed steps add up to about "
                md += "\(String(format: "%g", minSeconds)) s (column *windows*). "
            }
        }
        md += "Training uses the default "
        md += "`batch_shards` (\(TrainConfig.defaultBatchShards)): with 2 threads each shard runs on its own thread. "
        md += "A shared VM: repeated runs differ by a few per cent, the smallest shapes at 2 threads by up to a third "
        md += "(a step of a few ms feels every pause of either core); compare ratios within one run.\n\n"
        md +=
            "| shape (V, d, L, H, T, B) | kernel | threads | windows | tokens/s | ms/step fwd / bwd / opt | model GFLOP/s | sgemm peak | MFU (target) | PyTorch tokens/s | ×PyTorch | PyTorch sgemm peak | PyTorch MFU | peak RSS |\n"
        md += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for r in results {
            let s = r.shape
            let target = mfuTargets[s.name].map { String(format: "%.0f %%", 100 * $0) } ?? "–"
            let mfu = TrainingBenchmark.formatted(r.mfu, against: mfuTargets[s.name] ?? 0, decimals: 0, scale: 100)
            let pt = torch[cellKey(s.name, r.threads)]
            md += "| (\(s.name)) \(dimensions(s)) | \(r.kernel) | \(r.threads) | \(r.windows.map(String.init) ?? "–") | "
            md += String(
                format: "%.0f | %.1f / %.1f / %.1f | %.0f | %.0f | %@ %% (%@) | ", r.tokensPerSecond, r.msForward,
                r.msBackward, r.msOptimizer, r.modelGFLOPS, r.sgemmPeakGFLOPS, mfu, target)
            md +=
                pt.map {
                    String(
                        format: "%.0f | %@× | %.0f (%@) | %.0f %% | ", $0.tokensPerSecond,
                        TrainingBenchmark.formatted(r.tokensPerSecond / $0.tokensPerSecond, against: speedupTarget, decimals: 2),
                        $0.sgemmPeakGFLOPS, $0.blas, 100 * torchMFU($0, r))
                } ?? "– | – | – | – | "
            md += String(format: "%.0f MiB |\n", r.peakRSSMiB)
        }
        md += "\n"
        if let v = torch.values.first?.version {
            md += "PyTorch \(v) eager on CPU, same model (fp32, untied head, no biases, AdamW, SDPA attention, clipping), "
            md += "same threads, the same warm-up and timed windows (`Sources/AblateCLI/Python/bench_torch.py`), "
            md += "timed in turns with ablate's cell of the same shape and thread count: both set up and warm up, then "
            md +=
                "ablate times a window, PyTorch times one, and so on, each keeping its fastest (" + String(format: "%.1f s", turnPause)
                + " apart, so that neither "
            md += "side's threads still spin during the other's window). Its sgemm peak is its own BLAS's, measured "
            md += "as ablate's is (the same three products, before the timed steps and after each window); PyTorch MFU = its model FLOP/s "
            md += "(the same FLOP/token) ÷ that peak. The two MFUs compare the code around the products; ×PyTorch also "
            md += "includes the difference between the two BLAS libraries."
            if Set(results.map(\.kernel)).count > 1 {
                md += " PyTorch runs beside the environment's kernel only: a cell of another kernel (`--kernels`) is "
                md += "divided by the PyTorch figure of the same shape and thread count measured beside the environment's "
                md += "cell, minutes apart, so its ratio also carries whatever the shared machine did in between."
            }
            md += "\n\n"
        } else {
            md += "PyTorch was not importable, so there is no PyTorch column (install the CPU wheel: "
            md += "`pip install torch --index-url https://download.pytorch.org/whl/cpu`).\n\n"
        }
        md += timeSection(results)
        md += targetsSection(results, torch: torch)
        return md
    }

    /// PyTorch's model FLOP/s (the same FLOP/token as ablate's) over its own BLAS's sgemm peak.
    static func torchMFU(_ cell: TorchCell, _ r: TrainingBenchmark.Result) -> Double {
        cell.tokensPerSecond * r.flopsPerToken / (cell.sgemmPeakGFLOPS * 1e9)
    }

    public static func dimensions(_ s: TrainingBenchmark.Shape) -> String {
        "\(s.vocab), \(s.dModel), \(s.layers), \(s.heads), \(s.context), \(s.batch)"
    }

    // MARK: - where the time goes

    /// One table per shape with a profile, from the cells of the first kernel that has profiles.
    public static func timeSection(_ results: [TrainingBenchmark.Result]) -> String {
        let profiled = results.filter { $0.profile != nil }
        guard let kernel = profiled.first?.kernel else { return "" }
        var md = "## Where the time goes\n\n"
        let counts = profiled.map { $0.profile!.steps }
        let count = range(counts)! + " more" + (counts.min() == counts.max() ? "" : " (more where steps are short)")
        md += "Each cell's timed steps are followed by \(count), with every operation of the step "
        md += "timed (`StepProfile`; kernel \(kernel)), so the timing never touches the throughput above. " + profileLegend + "\n\n"
        var seen: [String] = []
        for r in profiled where r.kernel == kernel && !seen.contains(r.shape.name) {
            seen.append(r.shape.name)
            let cells = profiled.filter { $0.kernel == kernel && $0.shape.name == r.shape.name }
            md += "### \(r.shape.name) (\(dimensions(r.shape)))\n\n"
            md += profileTable(cells.map { $0.profile! })
            for cell in cells {
                if let line = productSpeedLine(shape: cell.shape, profile: cell.profile!, sgemmPeakGFLOPS: cell.sgemmPeakGFLOPS) {
                    md += line + "\n"
                }
            }
            md += "\n"
        }
        return md
    }

    /// "Speed of the products at 1 thread (…): head 81 %, block Linear 84 %, attention (with its softmax) 55 %."
    public static func productSpeedLine(
        shape: TrainingBenchmark.Shape, profile: TrainingBenchmark.Profile, sgemmPeakGFLOPS peak: Double
    )
        -> String?
    {
        guard let list = TrainingBenchmark.productEfficiencies(shape: shape, profile: profile, sgemmPeakGFLOPS: peak) else { return nil }
        let t = profile.threads
        return String(
            format: "Speed of the products at %d thread%@ (model FLOPs ÷ time, of the sgemm peak measured in the same run, %.0f GFLOP/s%@): %@.",
            t, t == 1 ? "" : "s", peak, t == 1 ? "" : "; thread time against each thread's share of it", efficiencyList(list))
    }

    /// "head 81 %, block Linear 84 %, attention (with its softmax) 55 %".
    static func efficiencyList(_ list: [(kind: TrainingBenchmark.ProductKind, efficiency: Double)]) -> String {
        list.map { String(format: "%@ %.0f %%", $0.kind.rawValue, 100 * $0.efficiency) }.joined(separator: ", ")
    }

    public static let profileLegend = """
        ms per step, mean over the profiled steps. At 1 thread every figure is wall time and the operations are \
        disjoint parts of the step; "other" is the step's time outside every timed operation. At 2 threads the two \
        batch shards run concurrently and a shard operation's time is summed over both threads (thread-ms), the \
        whole-batch operations (embedding, wpe, the shard gradient sum, gradient zeroing and norm, AdamW, batch \
        loading) are timed once on the calling thread, and % is of 2 × the step's wall time, so "other" also holds \
        the time a thread waits (while the other runs a whole-batch operation, or finishes a longer shard) and the \
        second thread's share inside whole-batch operations. Batch loading is the benchmark's random-token source, not \
        the corpus loader. Evaluation is timed apart, without the per-operation timing.
        """

    /// A row per category that was called, a column pair per profile (thread count), then the sum, the rest and the
    /// measured step; the evaluation cost below.
    public static func profileTable(_ profiles: [TrainingBenchmark.Profile]) -> String {
        guard let first = profiles.first else { return "" }
        var md = "| pass | operation | calls/step |"
        var rule = "|---|---|---|"
        for p in profiles {
            md += p.threads == 1 ? " 1 thread: ms/step | % |" : " \(p.threads) threads: thread-ms/step | % |"
            rule += "---|---|"
        }
        md += "\n" + rule + "\n"
        func ms(_ ns: UInt64, _ p: TrainingBenchmark.Profile) -> Double { Double(ns) * 1e-6 / Double(max(1, p.steps)) }
        /// Thread time available in the profiled steps: the wall time on each thread.
        func capacity(_ p: TrainingBenchmark.Profile) -> UInt64 { p.stepNanoseconds * UInt64(max(1, p.threads)) }
        func cells(_ ns: (TrainingBenchmark.Profile) -> UInt64) -> String {
            profiles.map { p in
                let share = capacity(p) > 0 ? 100 * Double(ns(p)) / Double(capacity(p)) : 0
                return String(format: " %.2f | %.1f %% |", ms(ns(p), p), share)
            }.joined()
        }
        for category in StepProfile.Category.allCases {
            let calls = first.totals.first { $0.category == category }?.calls ?? 0
            guard profiles.contains(where: { p in p.totals.contains { $0.category == category && $0.calls > 0 } }) else { continue }
            let perStep = Double(calls) / Double(max(1, first.steps))
            md += "| \(category.pass.rawValue) | \(category.label) | "
            md += perStep == perStep.rounded() ? "\(Int(perStep)) |" : String(format: "%.1f |", perStep)
            md += cells { p in p.totals.first { $0.category == category }?.nanoseconds ?? 0 } + "\n"
        }
        md += "| | **sum of the operations** | |" + cells(\.attributedNanoseconds) + "\n"
        md += "| | other (outside every timed operation) | |"
        md += cells { p in capacity(p) > p.attributedNanoseconds ? capacity(p) - p.attributedNanoseconds : 0 } + "\n"
        md += "| | **step, measured** (wall × threads) | |" + cells(capacity) + "\n\n"
        for p in profiles {
            let perBatch = Double(p.evaluationNanoseconds) * 1e-6 / Double(max(1, p.evaluationBatches))
            let step = ms(p.stepNanoseconds, p)
            md += String(
                format: "Evaluation at %d thread%@: %.2f ms per batch of %d tokens (%.2f µs per evaluated token; a forward "
                    + "pass and its batch loading, mean of %d batches), %.0f %% of a training step (%.2f ms wall).\n",
                p.threads, p.threads == 1 ? "" : "s", perBatch, p.tokensPerBatch, 1000 * perBatch / Double(max(1, p.tokensPerBatch)),
                p.evaluationBatches, step > 0 ? 100 * perBatch / step : 0, step)
        }
        return md
    }

    // MARK: - targets

    /// The step's operations that are matrix products: the block and head Linear products and attention (its products
    /// carry the 12·L·d·T FLOPs; its softmax is timed with them).
    static let productCategories = TrainingBenchmark.ProductKind.allCases.reduce(into: Set<StepProfile.Category>()) {
        $0.formUnion($1.categories)
    }

    /// The MFU the cell would reach if every operation except the matrix products took no time: its MFU divided by
    /// the share of the profiled step's thread time spent in products. Below a target, no work outside the products
    /// can meet it; only faster products at the model's own shapes (nil without a profile).
    static func productsOnlyMFU(_ r: TrainingBenchmark.Result) -> Double? {
        guard let p = r.profile, p.stepNanoseconds > 0 else { return nil }
        let products = p.totals.filter { productCategories.contains($0.category) }.reduce(UInt64(0)) { $0 + $1.nanoseconds }
        let capacity = Double(p.stepNanoseconds) * Double(max(1, p.threads))
        return products > 0 ? r.mfu * capacity / Double(products) : nil
    }

    public static func targetsSection(_ results: [TrainingBenchmark.Result], torch: [String: TorchCell]) -> String {
        var md = "## Targets\n\n"
        md += "Products-only bound (after a missed target): the MFU the cell would reach if every operation but the "
        md += "matrix products (block and head Linear products, attention) took no time, = its MFU ÷ the products' share "
        md += "of the profiled step (\"Where the time goes\"). An MFU target above it, or a speed target that needs a "
        md += "higher MFU, cannot be met by work around the products, only by faster products at the model's own shapes "
        md += "(K = d_model is small in the grids' models). Beside it, each kind of product's own speed: its model FLOPs "
        md += "over its time at the peak (\"Where the time goes\").\n\n"
        var outOfReach: [String] = []
        for kernel in Array(Set(results.map(\.kernel))).sorted() {
            let rs = results.filter { $0.kernel == kernel }
            for r in rs {
                guard let t = mfuTargets[r.shape.name] else { continue }
                md += String(
                    format: "- %@ (%@, %d thr): MFU %@ %% vs target %.0f %% — %@", r.shape.name, kernel, r.threads,
                    TrainingBenchmark.formatted(r.mfu, against: t, decimals: 0, scale: 100), 100 * t,
                    r.mfu >= t ? "met" : "**not met**")
                if r.mfu < t, let bound = productsOnlyMFU(r) {
                    md +=
                        bound > 1
                        ? " (products-only bound not informative: over 100 %, so the profile and the timed windows ran at different speeds)"
                        : String(
                            format: " (products-only bound %.0f %%%@; the products ran at %@ of the peak)", 100 * bound,
                            bound < t ? ": out of reach without faster products at these shapes" : "",
                            TrainingBenchmark.productEfficiencies(r).map(efficiencyList) ?? "–")
                }
                md += "\n"
            }
            for r in rs {
                guard let cell = torch[cellKey(r.shape.name, r.threads)], cell.tokensPerSecond > 0 else { continue }
                let pt = cell.tokensPerSecond
                let ratio = r.tokensPerSecond / pt
                var line = String(
                    format: "- %@ (%@, %d thr): %@× PyTorch vs target %.1f× — %@", r.shape.name, kernel, r.threads,
                    TrainingBenchmark.formatted(ratio, against: speedupTarget, decimals: 2), speedupTarget,
                    ratio >= speedupTarget ? "met" : "**not met**")
                if ratio < speedupTarget {
                    // The MFU at which this shape would run at the target speed, from this run's own peak and FLOPs.
                    let needed = speedupTarget * pt * r.flopsPerToken / (r.sgemmPeakGFLOPS * 1e9)
                    line += String(
                        format:
                            " (needs MFU %.1f %%, measured %@ %%; PyTorch's MFU %.0f %% of its %@ sgemm peak %.0f GFLOP/s, %.2f× OpenBLAS's here)",
                        100 * needed, TrainingBenchmark.formatted(r.mfu, against: needed, decimals: 1, scale: 100), 100 * torchMFU(cell, r),
                        cell.blas, cell.sgemmPeakGFLOPS,
                        cell.sgemmPeakGFLOPS / r.sgemmPeakGFLOPS)
                    // Needing more than the products-only bound: no work around the products can close the gap.
                    if needed <= 1, let bound = productsOnlyMFU(r), needed > bound {
                        line += String(
                            format: " — above its products-only bound %.0f %%: out of reach without faster products at these shapes",
                            100 * bound)
                    }
                    if needed > 1 {
                        outOfReach.append(
                            String(
                                format: "%@ at %d thread%@ with %@ (sgemm peak %.0f GFLOP/s, %.0f FLOP/token, PyTorch %.0f tokens/s: at most %.2f×)",
                                r.shape.name, r.threads, r.threads == 1 ? "" : "s", kernel, r.sgemmPeakGFLOPS, r.flopsPerToken, pt,
                                r.sgemmPeakGFLOPS * 1e9 / r.flopsPerToken / pt))
                    }
                }
                md += line + "\n"
            }
            let c = threadScalingTarget.shape
            if let one = rs.first(where: { $0.shape.name == c && $0.threads == 1 }),
                let two = rs.first(where: { $0.shape.name == c && $0.threads == 2 })
            {
                let ratio = two.tokensPerSecond / one.tokensPerSecond
                md += String(
                    format: "- %@ (%@): 2 threads = %@× 1 thread vs target %.1f× — %@\n", c, kernel,
                    TrainingBenchmark.formatted(ratio, against: threadScalingTarget.ratio, decimals: 2), threadScalingTarget.ratio,
                    ratio >= threadScalingTarget.ratio ? "met" : "**not met**")
            }
        }
        // A speed target is out of this CPU's reach when even 100 % MFU — every model FLOP at the sgemm peak measured
        // in the same run — would not reach it: only a faster sgemm (another kernel or CPU) or fewer FLOPs could.
        if !outOfReach.isEmpty {
            md += "\nOn this machine (\(CPUInfo.summary)) the \(String(format: "%.1f", speedupTarget))× PyTorch target is out "
            md += "of reach on " + outOfReach.joined(separator: "; ") + ": even at 100 % MFU of the sgemm peak measured in "
            md += "the same run, training would be slower than the target, so no work on the kernels around the products can "
            md += "meet it here; a faster sgemm (another OpenBLAS kernel, `--kernels`) or another CPU could.\n"
        }
        return md
    }
}
