import TensorFile

/// A strategy whose output is a row lookup in its first tensor, a V×D table (learned, frozen-random, hashed, mup,
/// transplant). Conforming gives forward (gather rows) and backward (scatter-add into the table's gradient when it
/// has one; frozen tables have none) for free: such a strategy only describes and fills its table.
public protocol TableLookupStrategy: EmbeddingStrategy {
    /// D, the table's row width.
    var tableWidth: Int { get }
}

extension TableLookupStrategy {
    /// The table is the first tensor, as stored.
    public static func inputTable(from stored: [Safetensors.Tensor]) throws -> Safetensors.Tensor {
        guard let table = stored.first, table.shape.count == 2, table.values.count == table.shape[0] * table.shape[1] else {
            throw StrategyError.incompatible(
                strategy: name,
                message:
                    "the stored table \(stored.first.map { "\($0.name) has shape \($0.shape)" } ?? "is missing"); expected a 2-D V×D tensor")
        }
        return table
    }

    public func forward(into out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, count: Int, tensors: TensorPointers) {
        EmbeddingTable.gather(into: out, table: tensors.values[0], tokens: tokens, count: count, width: tableWidth)
    }

    public func backward(dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, count: Int, tensors: TensorPointers) {
        guard let grad = tensors.gradients[0] else { return }
        EmbeddingTable.scatterAdd(into: grad, dout: dout, tokens: tokens, count: count, width: tableWidth)
    }
}
