import Foundation

/// Fixed number formats of the report (deterministic: C-locale `printf`, never NaN in the text).
enum Format {
    static func loss(_ x: Double) -> String { finite(x) { String(format: "%.4f", $0) } }
    static func signed(_ x: Double) -> String {
        finite(x) { v in
            let s = String(format: "%+.4f", v)
            return s == "-0.0000" || s == "+0.0000" ? "0.0000" : s
        }
    }
    static func interval(_ lo: Double, _ hi: Double) -> String { "[\(signedOrPlain(lo)), \(signedOrPlain(hi))]" }
    private static func signedOrPlain(_ x: Double) -> String { signed(x) }

    /// p-values: three decimals, or two significant digits in scientific notation below 0.001.
    static func p(_ p: Double) -> String {
        finite(p) { v in v >= 0.001 ? String(format: "%.3f", v) : String(format: "%.1e", v) }
    }

    static func fixed(_ x: Double, _ digits: Int) -> String { finite(x) { String(format: "%.\(digits)f", $0) } }

    /// Three significant digits, scientific notation outside [0.001, 10⁶).
    static func sig(_ x: Double) -> String {
        finite(x) { v in
            let a = abs(v)
            if a == 0 { return "0" }
            if a >= 1e6 || a < 1e-3 { return String(format: "%.2e", v) }
            let digits = max(0, 2 - Int(floor(log10(a))))
            return String(format: "%.\(digits)f", v)
        }
    }

    /// 1,234,567.
    static func count(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// Tokens with SI suffix: 1.23M.
    static func tokens(_ t: Double) -> String { finite(t) { AxisMap.trimmed($0 / 1e6, maxDigits: 3) + "M" } }

    static func bytes(_ b: Int) -> String {
        let a = Double(abs(b))
        let mib = 1_048_576.0, kib = 1024.0
        let text =
            a >= mib
            ? String(format: "%.2f MiB", a / mib)
            : a >= kib ? String(format: "%.1f KiB", a / kib) : "\(abs(b)) B"
        return b < 0 ? "−" + text : text
    }

    private static func finite(_ x: Double, _ f: (Double) -> String) -> String { x.isFinite ? f(x) : "—" }
}
