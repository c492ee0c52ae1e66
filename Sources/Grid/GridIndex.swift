import Foundation
import Trainer

/// `runs/<grid>/grid.json`: every run of the grid with its axis labels, config hash and state — what the report
/// and humans read to see which runs exist and how they ended.
public struct GridIndex: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var index: Int
        public var id: String
        public var axes: [String: String]
        public var configHash: String
        public var state: String
        public var reason: String?
        public var finalValLoss: Double?
        public var nonEmbeddingParameters: Int
        public var tokens: Int
        enum CodingKeys: String, CodingKey {
            case index, id, axes, configHash = "config_hash", state, reason, finalValLoss = "final_val_loss"
            case nonEmbeddingParameters = "non_embedding_parameters", tokens
        }
    }
    public var name: String
    public var file: String
    public var axes: [String]
    public var runs: [Entry]
    public var updatedAt: String
    enum CodingKeys: String, CodingKey { case name, file, axes, runs, updatedAt = "updated_at" }
    public static let fileName = "grid.json"

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
            return Entry(index: run.index, id: run.id, axes: Dictionary(run.axisLabels.map { ($0.axis, $0.label) }, uniquingKeysWith: { a, _ in a }),
                         configHash: run.configHash, state: name, reason: reason, finalValLoss: loss,
                         nonEmbeddingParameters: run.model.nonEmbeddingParameters, tokens: run.config.totalSteps * run.config.batchSize * run.config.contextLength)
        }
        let index = GridIndex(name: grid.name, file: grid.path, axes: grid.axes.map(\.name), runs: entries,
                              updatedAt: ISO8601DateFormatter().string(from: Date()))
        try FileManager.default.createDirectory(at: layout.gridFolder, withIntermediateDirectories: true)
        try RunFolder.writeAtomically(RunFolder.encodeJSON(index), to: layout.gridFolder.appendingPathComponent(fileName))
        return index
    }
}
