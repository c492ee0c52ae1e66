import Foundation
import Kernels

/// Checks the OpenBLAS kernel this process runs with: sgemm on awkward shapes (all four transpose cases, edge
/// tiles) against a naive Double product. A grid that opts in to a kernel (`blas_kernel: SkylakeX`) has a child
/// process run this under `OPENBLAS_CORETYPE=<kernel>` before any worker gets that environment.
public enum BLASKernelCheck {
    public struct Result: Sendable, CustomStringConvertible {
        public var core: String
        public var maxRelativeError: Double
        public var passed: Bool { maxRelativeError <= Self.tolerance }
        public static let tolerance = 1e-5
        public var description: String {
            String(
                format: "core %@: max relative error %.2e vs a Double reference (tolerance %.0e): %@",
                core, maxRelativeError, Self.tolerance, passed ? "ok" : "FAILED")
        }
    }

    /// Runs the check in this process (with whatever kernel OpenBLAS picked).
    public static func runHere(threads: Int = 1) -> Result {
        BLAS.setThreads(threads)
        var rng = Xoshiro256(seed: 7)
        var worst = 0.0
        for (m, n, k) in [(67, 129, 45), (256, 256, 256), (33, 512, 100), (128, 2048, 64), (1, 17, 300)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = (0..<(m * k)).map { _ in rng.nextUniform() - 0.5 }
                let b = (0..<(k * n)).map { _ in rng.nextUniform() - 0.5 }
                var c = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            BLAS.sgemm(
                                transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: ta ? m : k,
                                b: pb.baseAddress!, ldb: tb ? k : n, beta: 0, c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0, scale = 0.0
                        for p in 0..<k {
                            let x = Double(ta ? a[p * m + i] : a[i * k + p]), y = Double(tb ? b[j * k + p] : b[p * n + j])
                            s += x * y; scale += abs(x * y)
                        }
                        worst = max(worst, abs(Double(c[i * n + j]) - s) / max(scale, 1e-30))
                    }
                }
            }
        }
        return Result(core: BLAS.coreName, maxRelativeError: worst)
    }

    /// Runs `ablate grid check-blas` in a child with OPENBLAS_CORETYPE=`kernel`; throws unless that kernel was
    /// really selected and its products match the reference.
    public static func verify(kernel: String, executable: URL) throws -> String {
        let p = Process()
        p.executableURL = executable
        p.arguments = ["grid", "check-blas"]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = kernel
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw GridRunError("blas_kernel \(kernel): the check failed: \(out). Fix: remove `blas_kernel` to use the environment's kernel")
        }
        guard out.lowercased().contains("core \(kernel.lowercased()):") else {
            throw GridRunError(
                "blas_kernel \(kernel): OpenBLAS did not select that kernel (\(out)). Fix: use a core name this OpenBLAS knows (e.g. Haswell, SkylakeX) or remove `blas_kernel`"
            )
        }
        return out
    }
}
