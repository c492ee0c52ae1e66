import Kernels
import XCTest

/// Kernels run with subnormals flushed to zero (FloatEnvironment): on x86 every arithmetic on a subnormal float takes
/// a microcode assist, and late in long runs softmax tails and gradients fall into that range.
final class FloatEnvironmentTests: XCTestCase {
    /// y = leastNormal − ¾·leastNormal is subnormal under IEEE gradual underflow; with flushing, the kernel reads the
    /// subnormal input as 0 (DAZ, giving leastNormal) or flushes the subnormal result to 0 (FTZ), on every thread.
    func testKernelChunksProduceNoSubnormalsOnAnyThread() {
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            let count = 1 << 16  // four chunks' worth of the accumulation's minimum, so 2 threads split it
            var y = [Float](repeating: .leastNormalMagnitude, count: count)
            // −¾·leastNormal from its bits: computed at run time it would itself be flushed to 0 on a thread that an
            // earlier kernel left in flush mode (the test's own thread, in an unoptimised build).
            let x = [Float](repeating: Float(bitPattern: 0x8060_0000), count: count)
            XCTAssertTrue(x[0].isSubnormal)
            y.withUnsafeMutableBufferPointer { py in
                x.withUnsafeBufferPointer { px in
                    Elementwise.accumulate(into: py.baseAddress!, sources: px.baseAddress!, count: 1, stride: count, elements: count)
                }
            }
            let subnormal = y.filter(\.isSubnormal).count
            XCTAssertEqual(subnormal, 0, "\(threads) thread(s): \(subnormal) subnormal results, e.g. \(y[0])")
        }
    }
}
