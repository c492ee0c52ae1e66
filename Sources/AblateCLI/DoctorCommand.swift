import ArgumentParser
import Dataset
import Foundation
import RunFormat
import Kernels
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
        print("OpenBLAS core   : \(BLAS.coreName) (OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "unset"), OPENBLAS_L2_SIZE=\(env["OPENBLAS_L2_SIZE"] ?? "unset"), OPENBLAS_THREAD_TIMEOUT=\(env["OPENBLAS_THREAD_TIMEOUT"] ?? "unset"))")
        let lib = BLAS.sgemmLibraryPath
        let ok = lib.contains("openblas")
        print("cblas_sgemm from: \(lib) \(ok ? "(OpenBLAS: good)" : "(NOT OpenBLAS: matrix products will be ~30x slower; see shared build notes)")")
        var oneThread = 0.0
        for t in [1, 2] {
            BLAS.setThreads(t)
            let g = BLAS.measureGFLOPS(m: 1024, n: 1024, k: 1024)
            if t == 1 { oneThread = g }
            print(String(format: "sgemm 1024³     : %.0f GFLOP/s with %d thread%@", g, t, t == 1 ? "" : "s"))
        }
        kernelAdvice(current: oneThread)
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

    /// Where the CPU has AVX-512 but OpenBLAS runs an AVX2 kernel, measure the AVX-512 one in a child and say how
    /// to opt in (the environment's choice is never changed behind the user's back).
    func kernelAdvice(current: Double) {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let avx512Kernels = ["SkylakeX", "Cooperlake", "SapphireRapids"]
        guard cpu.contains(" avx512f"), !avx512Kernels.contains(BLAS.coreName) else {
            print("kernel          : \(BLAS.coreName) is the best OpenBLAS kernel for this CPU")
            return
        }
        guard let out = try? ChildProcess.ablate(["doctor", "--sgemm-only"], env: ["OPENBLAS_CORETYPE": "SkylakeX"]) else { return }
        if let g = out.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) {
            print(String(format: "kernel          : this CPU has AVX-512 but OpenBLAS runs %@; SkylakeX measured %.0f GFLOP/s (%.2f× the current 1-thread figure).",
                         BLAS.coreName, g, g / max(current, 1e-9)))
            print("                  Opt in per grid with `blas_kernel: SkylakeX` (checked against a reference first) or `ablate bench --kernels SkylakeX`.")
        }
    }
}
