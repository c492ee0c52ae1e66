import ArgumentParser
import Dataset
import Foundation
import Kernels
import RunFormat
import Stats
import Trainer

/// `ablate doctor`: is this machine set up right, and how fast is its BLAS?
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Print the BLAS/GSL set-up, measured sgemm speed, and corpus/cache status.")

    @Flag(help: .hidden) var sgemmOnly = false

    func run() throws {
        if sgemmOnly {
            BLAS.setThreads(1)
            print(String(format: "sgemm-gflops %.1f %@", BLAS.measureGFLOPS(m: 1024, n: 1024, k: 1024), BLAS.coreName))
            return
        }
        print("ablate \(AblateVersion.string), commit \(Provenance.gitCommit())")
        print("OpenBLAS config : \(BLAS.config)")
        let env = ProcessInfo.processInfo.environment
        print(
            "OpenBLAS env    : OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "unset"), OPENBLAS_L2_SIZE=\(env["OPENBLAS_L2_SIZE"] ?? "unset"), OPENBLAS_THREAD_TIMEOUT=\(env["OPENBLAS_THREAD_TIMEOUT"] ?? "unset")"
        )
        let lib = BLAS.sgemmLibraryPath
        let ok = lib.contains("openblas")
        print(
            "cblas_sgemm from: \(lib) \(ok ? "(OpenBLAS: good)" : "(NOT OpenBLAS: matrix products will be ~30x slower; link -lopenblas, never GSL's -lgslcblas)")"
        )
        var oneThread = 0.0
        for t in [1, 2] {
            BLAS.setThreads(t)
            let g = BLAS.measureGFLOPS(m: 1024, n: 1024, k: 1024)
            if t == 1 { oneThread = g }
            print(String(format: "sgemm 1024³     : %.0f GFLOP/s with %d thread%@", g, t, t == 1 ? "" : "s"))
        }
        kernelReport(current: oneThread)
        print("GSL             : \(GSLInfo.version)")

        let home = AblateHome.fromEnvironment()
        print("ABLATE_HOME     : \(home.url.path)")
        let corpora = Corpus.preparedNames(home: home)
        if corpora.isEmpty {
            print("corpora         : none prepared — run `make data` (Shakespeare) or `ablate data prepare --corpus PATH --name NAME`")
        }
        for name in corpora {
            if let m = try? Corpus.manifest(name: name, home: home) {
                print("corpus \(name): \(m.files.count) files, train \(m.train.bytes) B, val \(m.val.bytes) B, sha256 \(m.corpusSHA256.prefix(16))…")
            }
        }
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: home.tokenizerCacheURL.path))?.sorted() ?? []
        print("tokenizer cache : \(cached.isEmpty ? "empty (tokenizers are trained on first use and cached)" : cached.joined(separator: ", "))")
    }

    /// Which kernel OpenBLAS runs and why: chosen by OPENBLAS_CORETYPE in the environment, or by OpenBLAS's own
    /// detection of this CPU. Nothing here promises another kernel: where the CPU has AVX-512 and the active kernel does
    /// not use it, the AVX-512 kernel is measured in a child process and the figure given, with how to opt in.
    func kernelReport(current: Double) {
        let env = ProcessInfo.processInfo.environment
        let active = BLAS.coreName
        print("CPU             : \(CPUInfo.summary)")
        print("own kernels     : compiled for \(KernelBuild.instructionSet) (speed only: their results are the same bits on every instruction set)")
        if let requested = env["OPENBLAS_CORETYPE"], !requested.isEmpty {
            let honoured = requested.caseInsensitiveCompare(active) == .orderedSame
            print(
                "kernel          : \(active), because the environment sets OPENBLAS_CORETYPE=\(requested)"
                    + (honoured ? "" : " (OpenBLAS did not honour that name and fell back to \(active))")
                    + "; ablate, its tests and CI leave it as set (some machines set it because older OpenBLAS builds miscompute on their CPU)")
        } else {
            print("kernel          : \(active), chosen by OpenBLAS's own CPU detection (OPENBLAS_CORETYPE is unset)")
        }
        print("                  Results are bit-identical for a config and seed on this CPU and kernel (any thread count, resume); another")
        print("                  CPU generation or kernel rounds matrix products differently, so its numbers agree to rounding only.")
        let avx512Kernels = ["SkylakeX", "Cooperlake", "SapphireRapids"]
        guard CPUInfo.hasFlag("avx512f"), !avx512Kernels.contains(active) else { return }
        guard let out = try? ChildProcess.ablate(["doctor", "--sgemm-only"], env: ["OPENBLAS_CORETYPE": "SkylakeX"]),
            let g = out.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return }
        print(
            String(
                format:
                    "AVX-512         : this CPU has AVX-512, which %@ does not use; the SkylakeX kernel measured %.0f GFLOP/s here (%.2f× the 1-thread figure above).",
                active, g, g / max(current, 1e-9)))
        print(
            "                  To use it for one grid: `blas_kernel: SkylakeX` (checked against a reference first); for the bench: `ablate bench --kernels SkylakeX`."
        )
    }
}
