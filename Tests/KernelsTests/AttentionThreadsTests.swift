import Dispatch
import Kernels
import XCTest

/// Attention splits the (batch, head) pairs across our own threads and calls OpenBLAS concurrently with OpenBLAS
/// set to 1 thread. These tests pin down that this is safe and that results do not depend on the thread count.
final class AttentionThreadsTests: XCTestCase {
    /// Forward and backward at 2 threads equal 1 thread bit for bit, on shapes OpenBLAS itself would split
    /// (T = 128, hs = 32) and with a pair count that does not divide evenly; the thread count is restored.
    func testTwoThreadsBitIdenticalToOne() {
        check(batch: 4, seq: 128, channels: 128, heads: 4, seed: 41)  // 16 pairs
        check(batch: 1, seq: 64, channels: 96, heads: 3, seed: 42)  // 3 pairs: uneven split
        check(batch: 1, seq: 20, channels: 8, heads: 1, seed: 43)  // 1 pair: inline path
    }

    func check(batch B: Int, seq T: Int, channels C: Int, heads H: Int, seed: UInt64) {
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        var rng = Xoshiro256(seed: seed)
        let qkv = buffer(randomValues(B * T * 3 * C, &rng, scale: 1.5))
        let dout = buffer(randomValues(B * T * C, &rng))
        let dqkv0 = randomValues(B * T * 3 * C, &rng)  // backward accumulates into dqkv
        let scale = 1 / Float(C / H).squareRoot()
        var results: [[[Float]]] = []
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            let out = filled(.nan, B * T * C), att = filled(.nan, B * H * T * T), datt = filled(.nan, B * H * T * T)
            let dqkv = buffer(dqkv0)
            CausalSelfAttention.forward(out: out.p, att: att.p, qkv: qkv.p, batch: B, seq: T, channels: C, heads: H, scale: scale)
            CausalSelfAttention.backward(
                dqkv: dqkv.p, datt: datt.p, dout: dout.p, qkv: qkv.p, att: att.p,
                batch: B, seq: T, channels: C, heads: H, scale: scale)
            XCTAssertEqual(BLAS.threads, threads, "attention must restore the OpenBLAS thread count")
            results.append([out.floats, att.floats, dqkv.floats, datt.floats])
        }
        for (i, name) in ["out", "att", "dqkv", "datt"].enumerated() {
            let a = results[0][i], b = results[1][i]
            XCTAssertFalse(a.contains { $0.isNaN }, "\(name) fully written")
            let differing = zip(a, b).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            XCTAssertEqual(differing, 0, "\(name): \(differing) elements differ between 1 and 2 threads (B=\(B) T=\(T) C=\(C) H=\(H))")
        }
    }

    /// Many concurrent single-threaded sgemm calls from two user threads give exactly the serial results
    /// (OpenBLAS must be a threaded build ≥ 0.3.7 for this; a non-thread-safe build fails here).
    func testConcurrentSgemmMatchesSerial() {
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        BLAS.setThreads(1)
        let M = 128, N = 128, K = 32, calls = 64
        var rng = Xoshiro256(seed: 44)
        let a = buffer(randomValues(calls * M * K, &rng)), b = buffer(randomValues(calls * K * N, &rng))
        let serial = filled(.nan, calls * M * N)
        func product(_ i: Int, into c: UnsafeMutablePointer<Float>) {
            BLAS.sgemm(
                transA: i % 2 == 1, transB: true, m: M, n: N, k: K, alpha: 0.5,
                a: a.p + i * M * K, lda: i % 2 == 1 ? M : K, b: b.p + i * K * N, ldb: K, beta: 0, c: c + i * M * N, ldc: N)
        }
        for i in 0..<calls { product(i, into: serial.p) }
        for round in 0..<20 {
            let concurrent = filled(.nan, calls * M * N)
            let c = UInt(bitPattern: concurrent.p)
            DispatchQueue.concurrentPerform(iterations: 2) { t in
                let p = UnsafeMutablePointer<Float>(bitPattern: c)!
                for i in stride(from: t, to: calls, by: 2) { product(i, into: p) }
            }
            let differing = zip(serial.floats, concurrent.floats).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            XCTAssertEqual(differing, 0, "round \(round): concurrent sgemm differs from serial in \(differing) elements")
        }
    }
}
