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
}
