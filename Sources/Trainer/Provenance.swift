import Foundation

/// The package version; bump with every release that changes numbers.
public enum AblateVersion { public static let string = "0.1.0" }

/// Where a run's numbers came from: recorded in every run folder.
public struct Provenance: Codable, Sendable, Equatable {
    public var packageVersion: String
    public var gitCommit: String
    public var corpusSHA256: String
    public var tokenizerSHA256: String
    public var seed: UInt64
    /// The OpenBLAS kernel and the CPU: together they decide the last bits of every matrix product (runs from other
    /// kernels or CPU generations agree to rounding, not bit for bit). `cpu` is absent in runs from before it was recorded.
    public var blasCore: String
    public var cpu: String?
    public var threads: Int
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case packageVersion = "package_version", gitCommit = "git_commit", corpusSHA256 = "corpus_sha256"
        case tokenizerSHA256 = "tokenizer_sha256", seed, blasCore = "blas_core", cpu, threads, createdAt = "created_at"
    }

    /// The commit of the source tree `ablate` runs from (ABLATE_GIT_COMMIT overrides; "+dirty" marks local edits).
    public static func gitCommit() -> String {
        if let c = ProcessInfo.processInfo.environment["ABLATE_GIT_COMMIT"] { return c }
        func git(_ args: [String]) -> String? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git"] + args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { return nil }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { return nil }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let head = git(["rev-parse", "HEAD"]) else { return "unknown" }
        let dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "+dirty"
        return head + dirty
    }
}
