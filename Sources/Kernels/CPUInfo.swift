import Foundation

/// What CPU this process runs on, from /proc/cpuinfo (first processor, read once). Recorded in every run's
/// provenance beside the OpenBLAS kernel: the two together decide the last bits of every matrix product, so runs
/// made on different CPU generations or kernels agree to rounding, not bit for bit.
public enum CPUInfo {
    /// "key: value" lines of the first processor's block.
    static let fields: [String: String] = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty && !fields.isEmpty { break }  // a blank line ends the first processor's block
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }()

    public static func field(_ key: String) -> String? { fields[key] }
    public static var name: String { field("model name") ?? "unknown CPU" }
    public static var family: Int? { field("cpu family").flatMap { Int($0) } }
    public static var model: Int? { field("model").flatMap { Int($0) } }
    public static func hasFlag(_ flag: String) -> Bool { field("flags")?.split(separator: " ").contains(Substring(flag)) == true }

    /// Family and model, with the AMD Zen generation where it decides what AVX-512 can gain: in family 25 only Zen 4
    /// has AVX-512, and it runs 512-bit instructions on 256-bit datapaths, so an AVX-512 sgemm does the same FLOPs per
    /// cycle as AVX2; Zen 5 (family 26) has full-width units.
    public static var generation: String {
        guard let family, let model else { return "family unknown" }
        let text = "family \(family), model \(model)"
        guard field("vendor_id") == "AuthenticAMD" else { return text }
        if family == 25 { return text + (hasFlag("avx512f") ? ": Zen 4, AVX-512 on 256-bit datapaths" : ": Zen 3, AVX2") }
        if family == 26 { return text + ": Zen 5, full-width AVX-512" }
        return text
    }

    /// One line for provenance and reports, e.g. "AMD EPYC (family 26, model 2: Zen 5, full-width AVX-512)".
    public static var summary: String { "\(name) (\(generation))" }
}
