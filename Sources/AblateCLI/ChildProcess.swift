import Foundation

/// Running this binary (or another program) as a child: benchmark cells, kernel checks, grid workers.
enum ChildProcess {
    /// This process's own binary (via /proc/self/exe, so it works when `ablate` was found on PATH).
    static var executable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }

    /// Runs `ablate args…` with `env` laid over this environment and returns its standard output.
    static func ablate(_ args: [String], env: [String: String] = [:]) throws -> String {
        try output(of: executable, args, env: env)
    }

    /// Runs a program with `env` laid over this environment and returns its standard output.
    static func output(of executable: URL, _ args: [String], env: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A child that stops at gates: it prints `gateLine` and waits for a line on its standard input before going on.
    /// `ablate bench` uses two at once (its own worker and PyTorch's) and lets them run their timed windows in turn, so
    /// the two never compete for the cores and a slow spell of a shared machine reaches both sides of a ratio.
    final class Gated {
        static let gateLine = "bench-gate"
        private let process = Process()
        private let input = Pipe(), output = Pipe()
        private var buffer = Data()
        /// Every line the child printed that was not a gate, in order.
        private(set) var lines: [String] = []

        init(_ executable: URL, _ args: [String], env: [String: String] = [:]) throws {
            // A child that died leaves its stdin pipe without a reader: writing "go" must then fail (and be ignored),
            // not kill this process with SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            process.executableURL = executable
            process.arguments = args
            process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            process.standardInput = input
            process.standardOutput = output
            try process.run()
        }

        /// Reads until the child's next gate; false when it exited (or closed its output) first.
        func waitForGate() -> Bool {
            while let line = readLine() {
                if line == Self.gateLine { return true }
                lines.append(line)
            }
            return false
        }

        /// Lets the child through the gate it waits at.
        func pass() { try? input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8)) }

        /// Lets the child through its last gate and collects everything it prints until it exits.
        func finish() -> [String] {
            pass()
            try? input.fileHandleForWriting.close()
            while let line = readLine() { if line != Self.gateLine { lines.append(line) } }
            process.waitUntilExit()
            return lines
        }

        /// Stops the child (when the other side failed) without waiting for its result.
        func stop() {
            if process.isRunning { process.terminate() }
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }

        private func readLine() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    return line
                }
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty {
                    guard !buffer.isEmpty else { return nil }
                    defer { buffer.removeAll() }
                    return String(decoding: buffer, as: UTF8.self)
                }
                buffer.append(chunk)
            }
        }
    }
}
