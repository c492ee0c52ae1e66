import COpenBLAS
import Foundation

/// The one door to OpenBLAS. Every matrix product in the project goes through `sgemm`,
/// so large calls are easy to audit and the thread count is set in one place.
public enum BLAS {
    /// Row-major single-precision GEMM: C = alpha · op(A) · op(B) + beta · C.
    /// A is M×K after `transA`, B is K×N after `transB`; lda/ldb/ldc are the row strides as stored.
    @inline(__always)
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor,
            transA ? CblasTrans : CblasNoTrans,
            transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Row-major double-precision GEMM, as `sgemm` (for probes that must agree with float64 references).
    @inline(__always)
    public static func dgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor,
            transA ? CblasTrans : CblasNoTrans,
            transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets the OpenBLAS thread count (when several training processes share a machine, give each 1).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// OpenBLAS's build configuration string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var config: String { String(cString: openblas_get_config()) }
    /// The kernel family OpenBLAS picked at start-up (honours OPENBLAS_CORETYPE).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The shared object that the dynamic linker bound `cblas_sgemm` to. Must be libopenblas, never libgslcblas.
    /// Found by locating the function's address among this process's mappings (/proc/self/maps).
    public static var sgemmLibraryPath: String {
        // dlsym with the default scope resolves the symbol exactly as the dynamic linker does for our calls.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "cblas_sgemm") else { return "unresolved" }
        let address = UInt(bitPattern: symbol)
        // Read line by line with stdio: Foundation may stop at the first page of a /proc file.
        guard let file = fopen("/proc/self/maps", "r") else { return "unknown" }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else { continue }
            if address >= lo && address < hi { return fields[5].trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        return "unknown"
    }

    /// Measures sgemm GFLOP/s on an M×N×K product (best of `repeats`), with the current thread count.
    public static func measureGFLOPS(m: Int, n: Int, k: Int, repeats: Int = 5) -> Double {
        var rng = Xoshiro256(seed: 1)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<(m * k) { a[i] = rng.nextUniform() - 0.5 }
        for i in 0..<(k * n) { b[i] = rng.nextUniform() - 0.5 }
        c.initialize(repeating: 0, count: m * n)
        // One warm-up call so thread start-up and page faults are not timed.
        sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n, beta: 0, c: c, ldc: n)
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n, beta: 0, c: c, ldc: n)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = min(best, dt)
        }
        return 2.0 * Double(m) * Double(n) * Double(k) / best / 1e9
    }
}
