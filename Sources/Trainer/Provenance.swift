import Foundation
import RunFormat

/// The package version; bump with every release that changes numbers.
public enum AblateVersion { public static let string = "0.1.0" }

extension Provenance {
    /// The commit of the source tree `ablate` runs from (ABLATE_GIT_COMMIT overrides; "+dirty" marks local edits).
    public static let gitCommitVariable = "ABLATE_GIT_COMMIT"
    public static func gitCommit() -> String {
        if let c = ProcessInfo.processInfo.environment[gitCommitVariable] { return c }
        func git(_ args: [String]) -> String? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git"] + args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            // Not `waitUntilExit`: it polls in 50 ms steps, which every run's start-up would pay twice.
            let exited = DispatchSemaphore(value: 0)
            p.terminationHandler = { _ in exited.signal() }
            do { try p.run() } catch { return nil }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            exited.wait()
            guard p.terminationStatus == 0 else { return nil }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let head = git(["rev-parse", "HEAD"]) else { return "unknown" }
        let dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "+dirty"
        return head + dirty
    }
}
