import Foundation
import XCTest

/// Runs the built `ablate` binary in a fresh temp folder (its ABLATE_HOME inside it), with a small generated
/// corpus `tiny.txt` and tiny grids: the helpers of the end-to-end tests. Skipped if `ablate` is not built.
class BinaryTestCase: XCTestCase {
    var tmp: URL!
    var binary: URL!

    /// `.build/<config>/ablate` next to the test bundle (debug or release, whichever built these tests).
    static func findBinary() -> URL? {
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("ablate"))
            dir = dir.deletingLastPathComponent()
        }
        if let b = Bundle.main.executableURL { candidates.append(b.deletingLastPathComponent().appendingPathComponent("ablate")) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    override func setUpWithError() throws {
        guard let b = Self.findBinary() else { throw XCTSkip("the ablate binary is not built next to the tests (swift build --build-tests builds it)") }
        binary = b
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-grid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        // A small corpus with structure: a few hundred lines of a fixed word chain.
        var rng = SplitMix(seed: 42)
        let words = "the king queen lord lady love death night day sword crown heart blood sweet fair foul good ill".split(separator: " ")
        var text = ""
        for _ in 0..<1500 {
            var w = rng.next(words.count)
            for _ in 0..<(4 + rng.next(6)) { text += words[w] + " "; w = (w * 7 + 3 + rng.next(2)) % words.count }
            text += ".\n"
        }
        try text.write(to: tmp.appendingPathComponent("tiny.txt"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { if let tmp { try? FileManager.default.removeItem(at: tmp) } }

    struct SplitMix {
        var s: UInt64
        init(seed: UInt64) { s = seed }
        mutating func next(_ n: Int) -> Int {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
    }

    func writeGrid(_ name: String, steps: Int = 40, axes: String, extra: String = "") throws -> String {
        let path = tmp.appendingPathComponent("\(name).yaml").path
        try """
        name: \(name)
        base: {corpus: \(tmp.path)/tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4, d_model: 16, n_layer: 1, n_head: 2,
               max_steps: \(steps), warmup_steps: 3, learning_rate: 3e-3, eval_interval: 10, eval_batches: 2, final_eval_batches: 2,
               log_interval: 5, checkpoint_interval: 10}
        axes:
        \(axes)
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    struct Result { var status: Int32; var output: String }

    /// Runs `ablate args…` in the temp dir (ABLATE_HOME inside it) and waits, at most `timeout` seconds (then the
    /// process is killed: a hang fails the test instead of stalling the suite).
    @discardableResult
    func ablate(_ args: [String], timeout: Double = 120, fileSizeLimitKB: Int? = nil) throws -> Result {
        let p = try start(args, fileSizeLimitKB: fileSizeLimitKB)
        let pid = p.0.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let out = p.1.fileHandleForReading.readDataToEndOfFile()
        p.0.waitUntilExit()
        killer.cancel()
        return Result(status: p.0.terminationStatus, output: String(decoding: out, as: UTF8.self))
    }

    /// `fileSizeLimitKB` runs it under `ulimit -f` (with SIGXFSZ ignored), so that a write past the limit fails as
    /// a write to a full disk does.
    func start(_ args: [String], fileSizeLimitKB: Int? = nil) throws -> (Process, Pipe) {
        let p = Process()
        if let kb = fileSizeLimitKB {
            p.executableURL = URL(fileURLWithPath: "/bin/bash")  // bash counts ulimit -f in KiB
            p.arguments = ["-c", "trap '' XFSZ; ulimit -f \(kb); exec \"$0\" \"$@\"", binary.path] + args
        } else {
            p.executableURL = binary
            p.arguments = args
        }
        p.currentDirectoryURL = tmp
        var env = ProcessInfo.processInfo.environment
        env["ABLATE_HOME"] = tmp.appendingPathComponent(".ablate").path
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        return (p, pipe)
    }

    func runFolder(_ grid: String, _ id: String, root: String = "runs") -> URL {
        tmp.appendingPathComponent(root).appendingPathComponent(grid).appendingPathComponent(id)
    }
}
