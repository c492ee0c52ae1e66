import Foundation

/// The report's committed fixture grid (Tests/ReportTests/Fixtures/fixture-grid): 4 strategies × 3 sizes × 3 seeds,
/// one run missing, one diverged; synthetic probes.json in every finished run but one. Regenerated, with the golden
/// report, by `swift run -c release report-fixtures` (Tests/ReportFixtures).
public enum ReportFixtureGrid {
    public static let name = "fixture-grid"
    public static let missing = "hashed-d256-L4-v2048-s3"
    public static let diverged = "frozen-random-d128-L4-v2048-s2"
    /// A finished run without probes.json (not probed yet).
    public static let unprobed = "mup-d64-L2-v2048-s3"

    public static var spec: SyntheticGrid.Spec {
        var s = SyntheticGrid.Spec(
            strategies: ["learned", "frozen-random", "hashed", "mup"],
            shapes: [.init(64, 2, 2), .init(128, 4, 4), .init(256, 4, 4)], seeds: [1, 2, 3])
        s.missing = [missing]
        s.diverged = [diverged]
        s.probes = true
        s.withoutProbes = [unprobed]
        return s
    }
}
