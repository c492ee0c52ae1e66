import Foundation
import RunFormat
import Trainer

/// `grid-run.json` (declared in RunFormat) with the trainer's config.
public typealias GridRunRecord = GridRunFile<TrainConfig>

extension GridRunFile where Config == TrainConfig {
    public init(grid: GridFile, run: GridRun) {
        var c = run.config
        c.threads = 1
        self.init(
            grid: grid.name, runID: run.id, configHash: run.configHash, blasKernel: grid.blasKernel,
            axes: Dictionary(run.axisLabels.map { ($0.axis, $0.label) }, uniquingKeysWith: { a, _ in a }), config: c)
    }
}

/// Where a grid's runs live: `<root>/<grid name>/<run id>/`.
public struct GridLayout: Sendable {
    public var root: URL
    public var gridName: String
    public init(root: URL, gridName: String) { self.root = root; self.gridName = gridName }
    public var gridFolder: URL { root.appendingPathComponent(gridName) }
    public func folder(_ run: GridRun) -> URL { gridFolder.appendingPathComponent(run.id) }
}

/// What is on disk for one run.
public enum RunDiskState: Equatable, Sendable {
    case new
    /// Started before; resumes from the checkpoint at `step` (0: no checkpoint yet).
    case partial(step: Int)
    case finished(valLoss: Double?)
    case diverged(reason: String)
    case failed(reason: String)
    /// The folder holds another config (or BLAS kernel) under this id.
    case changed(detail: String)

    public var isDone: Bool {
        switch self {
        case .finished, .diverged: return true;
        default: return false
        }
    }

    public static func of(_ run: GridRun, grid: GridFile, folder: URL) -> RunDiskState {
        let rf = RunFolder(folder)
        let fm = FileManager.default
        let recordURL = folder.appendingPathComponent(GridRunRecord.fileName)
        if let rec = try? RunJSON.read(GridRunRecord.self, from: recordURL) {
            if rec.configHash != run.configHash {
                return .changed(
                    detail: "its config hash is \(rec.configHash), the grid file now gives \(run.configHash)\(rec.config.differences(to: run.config))"
                )
            }
            if rec.blasKernel != grid.blasKernel {
                return .changed(
                    detail:
                        "it was trained with BLAS kernel \(rec.blasKernel ?? "the environment's"), the grid file now asks for \(grid.blasKernel ?? "the environment's")"
                )
            }
        } else if fm.fileExists(atPath: rf.configURL.path) {
            return .changed(detail: "it holds a run not written by `ablate grid` (no \(GridRunRecord.fileName))")
        } else if !fm.fileExists(atPath: folder.path) {
            return .new
        }
        guard let status = rf.readStatus() else { return .partial(step: 0) }
        switch status.state {
        case .finished:
            let v = (try? rf.read(RunSummary.self))?.finalValLoss
            return .finished(valLoss: v)
        case .diverged: return .diverged(reason: status.reason ?? "diverged")
        case .failed: return .failed(reason: status.reason ?? "failed")
        case .running: return .partial(step: status.step)
        }
    }

}
