import Foundation
import Kernels

/// Tokenizer speed on a given text: trains from scratch (never the cache) and encodes, timing both.
/// A benchmark to run by hand (`ablate tokenizer bench`), never a timed test.
public enum TokenizerBench {
    public struct Result: Sendable, CustomStringConvertible {
        public var vocabSize: Int
        public var trainBytes: Int
        public var encodeBytes: Int
        public var trainSeconds: Double
        public var encodeSeconds: Double
        public var tokens: Int
        public var bytesPerToken: Double { Double(encodeBytes) / Double(max(tokens, 1)) }
        public var description: String {
            String(
                format: "train V=%d on %.2f MB: %.2f s (%.2f MB/s)\nencode %.2f MB: %.2f s (%.2f MB/s), %d tokens, %.3f bytes/token",
                vocabSize, Double(trainBytes) / 1e6, trainSeconds, Double(trainBytes) / 1e6 / trainSeconds,
                Double(encodeBytes) / 1e6, encodeSeconds, Double(encodeBytes) / 1e6 / encodeSeconds, tokens, bytesPerToken)
        }
    }

    /// Trains on `train` to `vocabSize`, then encodes `encode` (e.g. the whole corpus).
    public static func run(train: [UInt8], encode: [UInt8], vocabSize: Int) throws -> Result {
        let clock = ContinuousClock()
        var tok: BPETokenizer?
        let tt = try clock.measure { tok = try BPETokenizer.train(bytes: train, vocabSize: vocabSize) }
        var ids = [Int32]()
        let te = clock.measure { ids = tok!.encode(encode) }
        return Result(
            vocabSize: vocabSize, trainBytes: train.count, encodeBytes: encode.count,
            trainSeconds: tt.seconds, encodeSeconds: te.seconds, tokens: ids.count)
    }
}
