import TensorFile
import XCTest

/// Snapshots store tables in binary16; the conversion must be IEEE's in every floating-point mode (the training
/// threads flush subnormals to zero, and the hardware conversion then flushes half subnormals too).
final class HalfPrecisionTests: XCTestCase {
    /// Bit patterns from NumPy 1.26: `hex(np.float16(np.float32(v)).view(np.uint16))` (IEEE, ties to even).
    func testMatchesNumPyIncludingHalfSubnormalsTiesAndOverflow() {
        let cases: [(Float, UInt16)] = [
            (6.0e-5, 0x03EF),  // a half subnormal: flushed to 0 by the hardware conversion under FTZ
            (-3.1e-6, 0x8034),  // a negative half subnormal
            (5.96e-8, 0x0001),  // the smallest half subnormal
            (2.98e-8, 0x0000),  // just below half of it
            (2.9802322387695312e-08, 0x0000),  // exactly 2⁻²⁵: the tie goes to even (zero)
            (65504, 0x7BFF),  // the largest half
            (65520, 0x7C00),  // rounds up to infinity
            (1.0009765625, 0x3C01), (1.00048828125, 0x3C00),  // one ulp; a tie to even
            (1e-3, 0x1419), (0.0214, 0x257A),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(HalfPrecision.bits(value), expected, "\(value)")
        }
        XCTAssertEqual(HalfPrecision.bits(.infinity), 0x7C00)
        XCTAssertEqual(HalfPrecision.bits(-.infinity), 0xFC00)
        XCTAssertTrue(HalfPrecision.value(HalfPrecision.bits(.nan)).isNaN)
        XCTAssertEqual(HalfPrecision.value(0x0001), 0x1p-24)
        XCTAssertEqual(HalfPrecision.value(0x03FF), 0x3FFp-24)
        XCTAssertEqual(HalfPrecision.value(0x8400), -0x1p-14)
    }

    /// Every half value survives half → float → half, and the floats increase with the bit patterns.
    func testEveryHalfRoundTripsAndOrders() {
        var previous = -Float.infinity
        for bits in UInt16(0x0000)...UInt16(0x7C00) {  // +0 … +infinity
            let value = HalfPrecision.value(bits)
            XCTAssertEqual(HalfPrecision.bits(value), bits, "0x\(String(bits, radix: 16))")
            XCTAssertEqual(HalfPrecision.bits(-value), bits | 0x8000)
            XCTAssertGreaterThan(value, previous)
            previous = value
        }
    }

    /// Where no subnormal is involved the hardware conversion is the same in every mode: they must agree.
    func testAgreesWithFloat16OnNormalHalves() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let magnitude = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 33) % (0x4780_0000 - 0x3880_0000) + 0x3880_0000)
            let value = state & 1 == 0 ? magnitude : -magnitude  // |value| in [2⁻¹⁴, 65536)
            XCTAssertEqual(HalfPrecision.bits(value), Float16(value).bitPattern, "\(value)")
        }
    }
}
