import XCTest
import Kernels

final class KernelBenchTests: XCTestCase {
    /// Prints the kernel timing table. Opt-in (it takes a few seconds and means nothing in a debug build):
    /// `swift build -c release --build-tests && ABLATE_KERNEL_BENCH=1 swift test -c release --skip-build --filter KernelBenchTests`.
    /// Never asserts timings.
    func testPrintKernelBench() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["ABLATE_KERNEL_BENCH"] == "1", "set ABLATE_KERNEL_BENCH=1 to run")
        print(KernelBench.run())
    }
}
