import Dataset
import Embeddings

/// Batches from a prepared corpus: training windows drawn per (seed, step), validation sets fixed and cached.
public final class DatasetBatches: BatchSource, @unchecked Sendable {
    let train: BatchLoader
    let val: BatchLoader
    private var validationSets: [Int: [TokenBatch]] = [:]

    public init(data: PreparedData, context: Int, batchSize: Int, seed: UInt64) throws {
        train = try data.trainBatches(context: context, batchSize: batchSize, seed: seed)
        val = try data.valBatches(context: context, batchSize: batchSize)
    }

    public func trainBatch(step: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        train.fill(step: step, inputs: inputs, targets: targets)
    }

    public func validationBatch(index: Int, of count: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        if validationSets[count] == nil { validationSets[count] = val.validationBatches(count: count) }
        let batch = validationSets[count]![index]
        batch.inputs.withUnsafeBufferPointer { inputs.update(from: $0.baseAddress!, count: $0.count) }
        batch.targets.withUnsafeBufferPointer { targets.update(from: $0.baseAddress!, count: $0.count) }
    }
}

extension RunData {
    /// Run data from a prepared corpus and tokenizer, with the batch layout of `config`.
    public init(prepared: PreparedData, config: TrainConfig) throws {
        self.init(
            vocabulary: Vocabulary(tokenBytes: prepared.tokenBytes),
            batches: try DatasetBatches(
                data: prepared, context: config.contextLength, batchSize: config.batchSize,
                seed: config.seed),
            corpusSHA256: prepared.corpusSHA256, tokenizerSHA256: prepared.tokenizerSHA256,
            trainTokens: prepared.train.count, validationTokens: prepared.val.count, trainBytes: prepared.trainBytes)
    }
}
