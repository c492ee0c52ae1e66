import Foundation
import RunFormat
import Trainer

extension GridIndex {
    @discardableResult
    public static func write(grid: GridFile, runs: [GridRun], layout: GridLayout) throws -> GridIndex {
        let entries = runs.map { run -> Entry in
            let state = RunDiskState.of(run, grid: grid, folder: layout.folder(run))
            var name = "pending", reason: String? = nil, loss: Double? = nil
            switch state {
            case .new: name = "pending"
            case let .partial(step): name = step > 0 ? "partial" : "pending"
            case let .finished(v): name = "finished"; loss = v
            case let .diverged(r): name = "diverged"; reason = r
            case let .failed(r): name = "failed"; reason = r
            case let .changed(d): name = "changed"; reason = d
            }
            return Entry(
                index: run.index, id: run.id, axes: Dictionary(run.axisLabels.map { ($0.axis, $0.label) }, uniquingKeysWith: { a, _ in a }),
                configHash: run.configHash, state: name, reason: reason, finalValLoss: loss,
                nonEmbeddingParameters: run.model.nonEmbeddingParameters,
                tokens: run.totalSteps * run.config.batchSize * run.config.contextLength)
        }
        let index = GridIndex(
            name: grid.name, file: grid.path, axes: grid.axes.map(\.name), runs: entries,
            updatedAt: ISO8601DateFormatter().string(from: Date()))
        try RunJSON.write(index, to: layout.gridFolder.appendingPathComponent(fileName))
        return index
    }
}
