import ArgumentParser
import Dataset
import Embeddings
import Foundation
import Model
import RunFormat
import TensorFile
import Trainer

/// `ablate eval`: the mean loss of a checkpoint, on the validation batches or on a raw token file.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Print the mean loss and bits per byte of a checkpoint on the validation set or on a token file.",
        discussion: """
            CHECKPOINT is a run folder (its latest checkpoint is used), a checkpoint folder, or a model.safetensors file. \
            --tokens FILE holds raw little-endian token ids with no header: uint16 (--dtype u16, the format of the \
            tokenizer cache's .bin streams) or int32 (--dtype i32). The file is cut into consecutive windows of \
            context_length + 1 tokens that share their boundary token (window w holds tokens w·T … w·T + T for \
            T = context_length), so every token after the first is predicted exactly once (a trailing partial window \
            is dropped); the loss is the mean over all predicted tokens. The second line gives bits per byte over the same tokens, Σ loss / (ln 2 · Σ bytes), with \
            each predicted token's UTF-8 byte length from the tokenizer: comparable across vocabularies.
            """)

    @Argument(help: "Run folder, checkpoint folder, or model.safetensors.") var checkpoint: String
    @Option(help: "A raw token file to evaluate instead of the validation batches.") var tokens: String?
    @Option(help: "Token file element type: u16 or i32.") var dtype: String = "u16"
    @Option(help: "Number of fixed validation batches (default: the run's final_eval_batches).") var batches: Int?
    /// For `make test-hf`: the logits of the first batch of --tokens windows, raw little-endian float32 [B, T, V].
    @Option(help: .hidden) var dumpLogits: String?

    func validate() throws {
        guard ["u16", "i32"].contains(dtype) else { throw ValidationError("--dtype must be u16 or i32, got '\(dtype)'") }
        if let batches, !(1...1_000_000).contains(batches) { throw ValidationError("--batches must be in 1…1000000, got \(batches)") }
        if dumpLogits != nil && tokens == nil { throw ValidationError("--dump-logits needs --tokens") }
    }

    func run() throws {
        let loaded = try RunArtifacts.loadModel(at: checkpoint) { runData, vocabSize, config in
            guard let tokens else { return }
            // The model's vocabulary is the tokenizer's (BPE may stop below the requested vocab_size).
            let ids = try Self.readTokens(path: tokens, dtype: dtype, vocabSize: vocabSize)
            runData.batches = try WindowBatches(tokens: ids, context: config.contextLength, batchSize: config.batchSize, path: tokens)
            runData.validationTokens = ids.count
        }
        let trainer = loaded.trainer, config = loaded.config, file = loaded.file
        if let tokens {
            let windows = trainer.data.batches as! WindowBatches
            let evaluation = windows.evaluate(model: trainer.model, byteLengths: trainer.tokenByteLengths)
            if let dumpLogits { try windows.dumpFirstBatchLogits(model: trainer.model, to: dumpLogits) }
            print(String(format: "%.6f  mean loss over %d tokens of %@ (%@)", evaluation.loss, evaluation.tokens, tokens, file.path))
            Self.printBitsPerByte(evaluation)
        } else {
            let n = batches ?? config.finalEvalBatches
            let evaluation = trainer.evaluate(batches: n)
            print(String(format: "%.6f  mean validation loss over %d batches (%@)", evaluation.loss, n, file.path))
            Self.printBitsPerByte(evaluation)
        }
    }

    static func printBitsPerByte(_ e: Evaluation) {
        print(String(format: "%.6f  bits per byte over the %d UTF-8 bytes of those %d tokens", e.bitsPerByte, e.bytes, e.tokens))
    }

    static func readTokens(path: String, dtype: String, vocabSize: Int) throws -> [Int32] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot be read.") }
        let width = dtype == "u16" ? 2 : 4
        guard data.count % width == 0 else {
            throw CLIError("\(path): \(data.count) bytes is not a whole number of \(dtype) tokens. Fix: check --dtype.")
        }
        let ids: [Int32] = data.withUnsafeBytes { raw in
            (0..<(data.count / width)).map { i in
                width == 2
                    ? Int32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    : Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
            }
        }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
            throw CLIError("\(path): token id \(bad) is outside the checkpoint's vocabulary 0..<\(vocabSize). Fix: encode with the same tokenizer.")
        }
        return ids
    }
}

/// Consecutive windows of T + 1 tokens of a token file, sharing their boundary token (window w holds tokens w·T … w·T + T),
/// for `ablate eval --tokens`: every token after the first is predicted exactly once.
final class WindowBatches: BatchSource, @unchecked Sendable {
    let tokens: [Int32], context: Int, batchSize: Int
    var windowCount: Int { (tokens.count - 1) / context }
    var predictedTokens: Int { windowCount * context }

    init(tokens: [Int32], context: Int, batchSize: Int, path: String) throws {
        guard tokens.count >= context + 1 else {
            throw CLIError("\(path): \(tokens.count) tokens, fewer than one window of context_length + 1 = \(context + 1).")
        }
        self.tokens = tokens; self.context = context; self.batchSize = batchSize
    }

    func trainBatch(step: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        validationBatch(index: step, of: 0, inputs: inputs, targets: targets)
    }

    func validationBatch(index: Int, of count: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        for b in 0..<batchSize {
            let w = min(index * batchSize + b, windowCount - 1)
            for t in 0..<context {
                inputs[b * context + t] = tokens[w * context + t]
                targets[b * context + t] = tokens[w * context + t + 1]
            }
        }
    }

    /// The logits of the first batch's windows (every row, padding windows included) as float32 [B, T, V].
    func dumpFirstBatchLogits(model: GPT, to path: String) throws {
        validationBatch(index: 0, of: 1, inputs: model.inputs, targets: model.targets)
        _ = model.forward(batch: batchSize, forBackward: false)
        try AtomicWrite.write(Data(buffer: model.lastLogits), to: URL(fileURLWithPath: path))
    }

    /// Mean loss over every window exactly once (the last batch's padding rows are excluded), with the bytes of
    /// the same predicted tokens.
    func evaluate(model: GPT, byteLengths: TokenByteLengths) -> Evaluation {
        var total = 0.0, bytes = 0
        let batches = (windowCount + batchSize - 1) / batchSize
        for i in 0..<batches {
            validationBatch(index: i, of: batches, inputs: model.inputs, targets: model.targets)
            _ = model.forward(batch: batchSize, forBackward: false)
            let valid = min(batchSize, windowCount - i * batchSize)
            let losses = model.lastLosses
            for r in 0..<(valid * context) { total += Double(losses[r]) }
            bytes += byteLengths.bytes(of: model.targets, count: valid * context)
        }
        return Evaluation(loss: total / Double(predictedTokens), tokens: predictedTokens, bytes: bytes)
    }
}
