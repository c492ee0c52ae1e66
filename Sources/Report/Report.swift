import Foundation
import RunFormat

/// `ablate report`: reads the run folders of a grid (`runs/<grid>/<run-id>/`) and writes `README.md` plus SVG
/// figures. Deterministic: the same folders give byte-identical files (no timestamps, stable order, fixed formats).
public enum Report {
    public struct Output: Sendable {
        public let analysis: GridAnalysis
        /// The embedding-probe numbers (empty when no run folder holds probes.json).
        public let probes: ProbeAnalysis
        /// The slices of a grid with a learning-rate or parametrization axis (`analysis` is then the first slice's);
        /// nil for other grids.
        public let slices: GridSlices?
        public let markdown: String
        /// (file name, SVG text), in figure order.
        public let figures: [(name: String, svg: String)]
        /// The vocabulary axis (nil unless the runs span several vocabularies).
        public var vocabulary: VocabularyAnalysis? = nil
    }

    /// Reads `gridFolder` and builds the report in memory. `name` defaults to the folder's name.
    public static func build(gridFolder: URL, name: String? = nil, baseline: String = "learned") throws -> Output {
        let runs = try RunReader.readGrid(gridFolder)
        guard !runs.isEmpty else {
            throw ReportError("\(gridFolder.path): holds no run folders. Fix: run the grid first (ablate grid run), or check the path.")
        }
        return build(
            runs: runs, name: name ?? gridFolder.standardizedFileURL.lastPathComponent, baseline: baseline,
            expectedRunIDs: try RunReader.listedRuns(gridFolder))
    }

    /// - Parameter expectedRunIDs: every run the grid defines (from its grid.json); runs without a folder are listed
    ///   as missing. Without it, the grid is taken to be every arm × size × seed that appears among the runs.
    public static func build(
        runs: [RunRecord], name: String, baseline: String = "learned",
        expectedRunIDs: [String]? = nil
    ) -> Output {
        if GridSlices.needsSlicing(runs) {
            let slices = GridSlices(gridName: name, runs: runs, baseline: baseline, expectedRunIDs: expectedRunIDs)
            let report = SlicedReport(slices)
            let first = report.slices[0]
            return Output(
                analysis: first.analysis, probes: first.probes, slices: slices, markdown: report.markdown,
                figures: report.figures.map { ($0.fileName, $0.svg) }, vocabulary: first.vocabulary)
        }
        let analysis = GridAnalysis(gridName: name, runs: runs, baseline: baseline, expectedRunIDs: expectedRunIDs)
        let sections = AnalysisSections(analysis)
        return Output(
            analysis: analysis, probes: sections.probes, slices: nil, markdown: Markdown.render(sections),
            figures: sections.figures.map { ($0.fileName, $0.svg) }, vocabulary: sections.vocabulary)
    }

    /// Writes README.md and the figures into `directory` (created if needed), each atomically (`AtomicWrite`).
    /// Then removes the figures the README.md it replaced linked and this report no longer draws (e.g. after an axis
    /// split the report into slices, whose figures are named per slice), so no stale figure sits beside the report;
    /// every other file is left alone. Returns the written files.
    @discardableResult
    public static func write(_ output: Output, to directory: URL) throws -> [URL] {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let readme = directory.appendingPathComponent("README.md")
        let linkedBefore = (try? String(contentsOf: readme, encoding: .utf8)).map(linkedFigures) ?? []
        var written = [URL]()
        for (name, text) in output.figures + [("README.md", output.markdown)] {
            let url = directory.appendingPathComponent(name)
            try AtomicWrite.write(Data(text.utf8), to: url)
            written.append(url)
        }
        let drawn = Set(output.figures.map(\.name))
        for name in linkedBefore where !drawn.contains(name) {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue { try fm.removeItem(at: url) }
        }
        return written
    }

    /// The figure files a report's Markdown embeds from its own folder: `![…](name.svg)`.
    static func linkedFigures(_ markdown: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^()/\s]+\.svg)\)"#)
        let range = NSRange(markdown.startIndex..., in: markdown)
        return Set(pattern.matches(in: markdown, range: range).compactMap { Range($0.range(at: 1), in: markdown).map { String(markdown[$0]) } })
    }
}
