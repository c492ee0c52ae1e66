import XCTest

/// The kernels' results do not depend on the vector instruction set they were compiled for, so a run trained on a
/// machine with AVX-512 gives the numbers of one with AVX2 only (OpenBLAS's products aside: each CPU has its own
/// kernel). The expected fingerprints were printed by `kernelFingerprints()` compiled on its own with Kernels for
/// baseline x86-64 (SSE2), `-target-cpu haswell`, `skylake-avx512` and `znver3`: all four gave these values.
/// A deliberate change to a kernel's arithmetic changes them too; then every committed report trained with the old
/// arithmetic has to be regenerated, which is why the values are pinned here.
final class InstructionSetTests: XCTestCase {
    func testKernelResultsAreTheSameOnEveryInstructionSet() {
        let expected: [String: UInt64] = [
            "GELU": 0x4785_66d0_e867_71fc,
            "LayerNorm": 0x2d09_fcf9_e30d_ae7b,
            "softmax cross-entropy": 0x3986_308e_0936_8283,
            "causal softmax": 0x33eb_005f_05cc_5934,
            "elementwise": 0x9093_daf9_a0c7_33e5,
            "AdamW": 0x085b_4836_653c_3593,
        ]
        let measured = kernelFingerprints()
        XCTAssertEqual(Set(measured.map(\.kernel)), Set(expected.keys))
        for (kernel, hash) in measured {
            XCTAssertEqual(
                hash, expected[kernel],
                "\(kernel): fingerprint \(String(hash, radix: 16)) differs from the one every instruction set gave; the kernel's rounding changed")
        }
    }
}
