import Dispatch

/// Work splitting for the non-matrix kernels: up to `BLAS.threads` contiguous chunks run concurrently, so the one
/// knob `BLAS.setThreads` sets all of a process's parallelism (1 when several training processes share a machine).
/// Only kernels whose outputs are disjoint per chunk use it, and each element's arithmetic does not depend on the
/// split, so results are bit-identical for every thread count. Reductions across rows (dweight, dbias) stay serial.
enum Parallel {
    /// Calls body(start, end) over a partition of 0..<count into chunks of at least `minimumPerThread` items
    /// (chunk boundaries are multiples of `alignment`). Runs inline when one chunk suffices.
    /// `threads` overrides the thread count (default `BLAS.threads`), for callers that have set OpenBLAS to 1 thread.
    @inline(__always)
    static func forEachChunk(
        count: Int, minimumPerThread: Int, alignment: Int = 1, threads maxThreads: Int? = nil,
        _ body: (_ start: Int, _ end: Int) -> Void
    ) {
        // Every thread that runs a kernel chunk flushes subnormals (FloatEnvironment): the caller's, and each worker's.
        FloatEnvironment.flushSubnormalsToZero()
        let threads = min(maxThreads ?? BLAS.threads, count / max(1, minimumPerThread))
        if threads <= 1 { body(0, count); return }
        let per = ((count + threads - 1) / threads + alignment - 1) / alignment * alignment
        withoutActuallyEscaping(body) { body in
            // The chunks write disjoint memory through raw pointers; Sendable checking cannot see that.
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                FloatEnvironment.flushSubnormalsToZero()
                let start = t * per, end = min(count, start + per)
                if start < end { work.value(start, end) }
            }
        }
    }
}

extension BLAS {
    /// Runs body(start, end) over contiguous chunks of 0..<count on up to `threads` of our own threads, with OpenBLAS
    /// set to 1 thread for the duration, so each chunk may call `sgemm` concurrently and every call is single-threaded
    /// (OpenBLAS ≥ 0.3.7 built with threading allows concurrent calls from several user threads). Restores the thread
    /// count afterwards. With 1 thread (or count 1) runs inline and leaves OpenBLAS alone.
    public static func forEachChunkSingleThreaded(count: Int, _ body: (_ start: Int, _ end: Int) -> Void) {
        let threads = min(BLAS.threads, count)
        if threads <= 1 { body(0, count); return }
        withOneThread { Parallel.forEachChunk(count: count, minimumPerThread: 1, threads: threads, body) }
    }
}

extension BLAS {
    /// Runs body with OpenBLAS at 1 thread (restored afterwards), for products whose rounding must not depend on the
    /// thread count: OpenBLAS's threaded driver may block the summed dimension differently from the serial one.
    public static func withOneThread(_ body: () -> Void) {
        let saved = threads
        if saved == 1 { body(); return }
        setThreads(1)
        defer { setThreads(saved) }
        body()
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
