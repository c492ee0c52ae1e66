import Embeddings
import Foundation

/// The UTF-8 byte length of every token id, for bits per byte: losses in nats per token are not comparable across
/// vocabularies (a token holds about one byte at V = 256 and about three at V = 8192), bits per byte of the same text
/// are. Summing a batch's target lengths costs one table look-up per predicted token.
public struct TokenByteLengths: Sendable {
    public let lengths: [Int32]

    public init(_ vocabulary: Vocabulary) { lengths = vocabulary.tokenBytes.map { Int32($0.count) } }

    /// Σ byte lengths of `count` token ids.
    public func bytes(of ids: UnsafePointer<Int32>, count: Int) -> Int {
        lengths.withUnsafeBufferPointer { table in
            var total = 0
            for i in 0..<count { total += Int(table[Int(ids[i])]) }
            return total
        }
    }
}

/// A loss over a set of predicted tokens, with the bytes of those tokens' text.
public struct Evaluation: Sendable, Equatable {
    /// Mean cross-entropy in nats per predicted token.
    public var loss: Double
    /// Predicted tokens the loss is averaged over, and their UTF-8 bytes.
    public var tokens: Int
    public var bytes: Int

    public init(loss: Double, tokens: Int, bytes: Int) { self.loss = loss; self.tokens = tokens; self.bytes = bytes }

    /// Bits per byte = Σ NLL / (ln 2 · Σ bytes) = loss / ln 2 · tokens / bytes, over exactly the tokens of `loss`
    /// (written so that a byte-level vocabulary, where tokens = bytes, gives loss / ln 2 exactly).
    public var bitsPerByte: Double { loss / log(2.0) * (Double(tokens) / Double(bytes)) }
}
