import Dispatch

/// Work splitting for the non-matrix kernels: up to `BLAS.threads` contiguous chunks run concurrently, so the one
/// knob `BLAS.setThreads` sets all of a process's parallelism (1 when several training processes share a machine).
/// Only kernels whose outputs are disjoint per chunk use it, and each element's arithmetic does not depend on the
/// split, so results are bit-identical for every thread count. Reductions across rows (dweight, dbias) stay serial.
enum Parallel {
    /// Calls body(start, end) over a partition of 0..<count into chunks of at least `minimumPerThread` items
    /// (chunk boundaries are multiples of `alignment`). Runs inline when one chunk suffices.
    @inline(__always)
    static func forEachChunk(count: Int, minimumPerThread: Int, alignment: Int = 1, _ body: (_ start: Int, _ end: Int) -> Void) {
        let threads = min(BLAS.threads, count / max(1, minimumPerThread))
        if threads <= 1 { body(0, count); return }
        let per = ((count + threads - 1) / threads + alignment - 1) / alignment * alignment
        withoutActuallyEscaping(body) { body in
            // The chunks write disjoint memory through raw pointers; Sendable checking cannot see that.
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let start = t * per, end = min(count, start + per)
                if start < end { work.value(start, end) }
            }
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
