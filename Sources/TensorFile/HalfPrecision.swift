/// IEEE binary16 ↔ binary32 conversion in integer arithmetic, so a snapshot's bytes never depend on the thread's
/// floating-point mode: the training threads flush subnormals to zero (Kernels' FloatEnvironment), and the hardware
/// conversion (`Float16(x)`, F16C's vcvtps2ph) then flushes half-precision subnormals too — every |x| < 6.1e-5 became
/// 0 in snapshots written after the first kernel ran, so a frozen table seemed to move between its first snapshot and
/// its last. Both functions give the IEEE result with round-to-nearest-even, exactly what `Float16(x)` gives in the
/// default mode.
public enum HalfPrecision {
    /// The binary16 bit pattern nearest to `value` (ties to even); overflow gives ±infinity, NaN stays NaN.
    public static func bits(_ value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF)
        var mantissa = x & 0x7F_FFFF
        if exponent == 0xFF {  // infinity, or NaN (kept quiet, with its top payload bits)
            return sign | 0x7C00 | (mantissa != 0 ? UInt16(0x200 | (mantissa >> 13)) : 0)
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            // A half subnormal (or zero): below 2⁻²⁵ everything rounds to zero.
            if halfExponent < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - halfExponent)
            var half = mantissa >> shift
            let rest = mantissa & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rest > halfway || (rest == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(halfExponent) << 10 | mantissa >> 13
        let rest = mantissa & 0x1FFF
        // A carry out of the mantissa rounds into the next exponent, up to infinity: the right answer in each case.
        if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }

    /// The binary32 value of a binary16 bit pattern (always exact).
    public static func value(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        var mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // A half subnormal, mantissa · 2⁻²⁴: normalise it into a binary32 normal.
            var e = 127 - 14
            while mantissa & 0x400 == 0 { mantissa <<= 1; e -= 1 }
            return Float(bitPattern: sign | UInt32(e) << 23 | (mantissa & 0x3FF) << 13)
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }
}
