import Foundation

/// The built `ablate` binary, run in a temporary folder with its own ABLATE_HOME, for tests that drive the real
/// command line (grid processes, the end-to-end test).
public struct AblateBinary {
    public let url: URL
    /// The working folder; ABLATE_HOME is `<folder>/.ablate`.
    public let folder: URL

    /// `.build/<config>/ablate` next to the test bundle (debug or release, whichever built these tests).
    public static func find() -> URL? {
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("ablate"))
            dir = dir.deletingLastPathComponent()
        }
        if let b = Bundle.main.executableURL { candidates.append(b.deletingLastPathComponent().appendingPathComponent("ablate")) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    public init(url: URL, folder: URL) { self.url = url; self.folder = folder }

    public struct Result { public var status: Int32; public var output: String }

    /// Runs `ablate args…` and waits, at most `timeout` seconds (then the process is killed: a hang fails the test
    /// instead of stalling the suite).
    @discardableResult
    public func run(_ args: [String], timeout: Double = 300, fileSizeLimitKB: Int? = nil) throws -> Result {
        let (p, pipe) = try start(args, fileSizeLimitKB: fileSizeLimitKB)
        let pid = p.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return Result(status: p.terminationStatus, output: String(decoding: out, as: UTF8.self))
    }

    /// Starts `ablate args…` with stdout and stderr on one pipe. `fileSizeLimitKB` runs it under `ulimit -f` (with
    /// SIGXFSZ ignored), so that a write past the limit fails as a write to a full disk does.
    public func start(_ args: [String], fileSizeLimitKB: Int? = nil) throws -> (Process, Pipe) {
        let p = Process()
        if let kb = fileSizeLimitKB {
            p.executableURL = URL(fileURLWithPath: "/bin/bash")  // bash counts ulimit -f in KiB
            p.arguments = ["-c", "trap '' XFSZ; ulimit -f \(kb); exec \"$0\" \"$@\"", url.path] + args
        } else {
            p.executableURL = url
            p.arguments = args
        }
        p.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        env["ABLATE_HOME"] = folder.appendingPathComponent(".ablate").path
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        return (p, pipe)
    }
}

/// A small corpus with structure (a few hundred lines of a fixed word chain), so tiny models learn something in
/// a few dozen steps.
public enum TinyCorpus {
    public static func write(to url: URL, lines: Int = 1500, seed: UInt64 = 42) throws {
        var rng = SplitMix64(seed)
        let words = "the king queen lord lady love death night day sword crown heart blood sweet fair foul good ill".split(separator: " ")
        var text = ""
        for _ in 0..<lines {
            var w = rng.below(words.count)
            for _ in 0..<(4 + rng.below(6)) { text += words[w] + " "; w = (w * 7 + 3 + rng.below(2)) % words.count }
            text += ".\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
