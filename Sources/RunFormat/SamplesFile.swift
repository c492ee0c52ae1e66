import Foundation

/// `samples.json` in a run folder: text generated from the run's latest checkpoint (written by `ablate sample --save`),
/// shown in the report's Samples section. The report reads it from disk, so it never needs the model.
public struct RunSamples: RunFormatFile, Sendable, Equatable {
    public static let fileName = RunFiles.samples
    public static let formatVersion = 1

    public var format: FormatVersion?
    public var prompt: String
    /// The generated continuation (without the prompt).
    public var text: String
    public var seed: UInt64
    public var temperature: Double
    public var topK: Int?
    public var tokens: Int
    /// The checkpoint the text came from (its folder name, e.g. `step-0001000`).
    public var checkpoint: String

    public init(prompt: String, text: String, seed: UInt64, temperature: Double, topK: Int?, tokens: Int, checkpoint: String) {
        format = FormatVersion(Self.formatVersion)
        self.prompt = prompt; self.text = text; self.seed = seed; self.temperature = temperature; self.topK = topK
        self.tokens = tokens; self.checkpoint = checkpoint
    }

    enum CodingKeys: String, CodingKey {
        case format, prompt, text, seed, temperature, topK = "top_k", tokens, checkpoint
    }

    /// Writes `samples.json` into `runFolder` (the one atomic write).
    public func write(toRun runFolder: URL) throws {
        try RunJSON.write(self, to: runFolder.appendingPathComponent(Self.fileName))
    }

    /// The samples of `runFolder`; nil when it has none (a file that exists but cannot be read is an error naming it).
    public static func read(fromRun runFolder: URL) throws -> RunSamples? {
        let url = runFolder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try RunJSON.read(RunSamples.self, from: url)
    }
}
