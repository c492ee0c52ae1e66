import Foundation

/// Finds the weights file of a checkpoint given what a user naturally points at: a run folder (its newest
/// checkpoint, named in `checkpoints/latest`), a checkpoint folder, or a `model.safetensors` file.
public enum CheckpointLocator {
    public static let modelFile = "model.safetensors"

    public enum Error: Swift.Error, CustomStringConvertible {
        case notFound(String), noCheckpoint(String)
        public var description: String {
            switch self {
            case let .notFound(p):
                return "\(p): no such checkpoint. Fix: give a run folder, a checkpoint folder or a model.safetensors file."
            case let .noCheckpoint(p):
                return "\(p): holds no checkpoint yet. Fix: train the run first (ablate train / ablate grid run)."
            }
        }
    }

    /// The newest complete checkpoint folder of a run folder, if any.
    public static func latestCheckpoint(inRun run: URL) -> URL? {
        let checkpoints = run.appendingPathComponent("checkpoints")
        guard let data = try? Data(contentsOf: checkpoints.appendingPathComponent("latest")) else { return nil }
        let url = checkpoints.appendingPathComponent(String(decoding: data, as: UTF8.self))
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("state.json").path) ? url : nil
    }

    public static func modelFile(at path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw Error.notFound(path) }
        if !isDir.boolValue { return url }
        let direct = url.appendingPathComponent(modelFile)
        if FileManager.default.fileExists(atPath: direct.path) { return direct }
        if let latest = latestCheckpoint(inRun: url) { return latest.appendingPathComponent(modelFile) }
        throw Error.noCheckpoint(path)
    }
}
