import Kernels
import XCTest

/// The kernels' results do not depend on the vector instruction set they were compiled for, so a run trained on a
/// machine with AVX-512 gives the numbers of one with AVX2 only (OpenBLAS's products aside: each CPU has its own
/// kernel). This test checks the build it runs in against the pinned fingerprints (`KernelFingerprints.swift`);
/// `make test-isa` compiles the same fingerprints for every instruction set this CPU can execute.
final class InstructionSetTests: XCTestCase {
    func testKernelResultsAreTheSameOnEveryInstructionSet() {
        XCTAssertEqual(Set(kernelFingerprints().map(\.kernel)), Set(expectedKernelFingerprints.keys))
        XCTAssertEqual(
            kernelFingerprintMismatches(), [],
            "these kernels' outputs differ from the fingerprints every instruction set gave: their rounding changed")
    }
}

/// A binary started on a CPU without the instructions its kernels were built for stops with a message naming the fix.
final class KernelBuildTests: XCTestCase {
    func testACPUWithoutTheBuildsInstructionsIsRefusedWithTheFix() {
        XCTAssertNil(KernelBuild.unsupportedCPU(hasFlag: { _ in true }))
        let bare = KernelBuild.unsupportedCPU(hasFlag: { _ in false })
        if KernelBuild.instructionSet.hasPrefix("baseline") {
            XCTAssertNil(bare, "a baseline build runs on any x86-64")
        } else {
            let message = bare ?? "(no message)"
            XCTAssertTrue(message.contains(KernelBuild.instructionSet), message)
            XCTAssertTrue(message.contains("ABLATE_TARGET_CPU=haswell"), message)
        }
        // This machine runs the tests, so it can run the build.
        XCTAssertNil(KernelBuild.unsupportedCPU)
    }
}
