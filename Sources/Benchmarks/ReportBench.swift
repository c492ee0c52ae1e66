import Foundation
import Kernels
import Report
import TestSupport

/// `ablate report --bench`: times the report of a synthetic grid of 100 runs × 1,000 metric lines
/// (5 strategies × 4 sizes × 5 seeds; target < 2 s), read from and written to a temporary folder.
public enum ReportBench {
    public struct Result: Sendable {
        public let runs: Int
        public let metricLines: Int
        /// Reading + analysis + rendering (median of the repeats).
        public let buildSeconds: Double
        /// Writing README.md and the figures (median).
        public let writeSeconds: Double
        public var totalSeconds: Double { buildSeconds + writeSeconds }
    }

    public static func run(repeats: Int = 3) throws -> Result {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("ablate-report-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: root)
        defer { try? FileManager.default.removeItem(at: root) }
        let grid = root.appendingPathComponent("bench")
        var spec = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random", "hashed", "mup", "lowrank"],
            shapes: [.init(64, 2, 2), .init(128, 4, 4), .init(256, 4, 4), .init(384, 6, 6)],
            seeds: [1, 2, 3, 4, 5])
        spec.steps = 10_000
        spec.logInterval = 10
        spec.evalInterval = 100
        let ids = try SyntheticGrid.write(spec, to: grid)
        let lines = 1 + spec.steps / spec.logInterval

        let clock = ContinuousClock()
        var builds = [Double](), writes = [Double]()
        for _ in 0..<max(1, repeats) {
            let t0 = clock.now
            let output = try Report.build(gridFolder: grid)
            let t1 = clock.now
            try Report.write(output, to: root.appendingPathComponent("report"))
            let t2 = clock.now
            builds.append((t1 - t0).seconds)
            writes.append((t2 - t1).seconds)
        }
        return Result(runs: ids.count, metricLines: lines, buildSeconds: median(builds), writeSeconds: median(writes))
    }

    private static func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
}
