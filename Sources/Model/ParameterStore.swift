import Embeddings
import Kernels

/// One model tensor: where it lives in the arenas and how it is trained.
public struct Parameter: Sendable {
    public var spec: TensorSpec
    public var kind: TensorKind
    /// Offset into `ParameterStore.values`.
    public var offset: Int
    /// Offset into `ParameterStore.gradients`, nil for frozen tensors (no gradient, no optimizer state).
    public var gradientOffset: Int?
    public var name: String { spec.name }
    public var count: Int { spec.count }
}

/// All parameters in one allocation and all gradients in another (llm.c style), so the optimizer, clipping and
/// checkpoints each make one pass over flat memory. Frozen tensors live only in `values`.
public final class ParameterStore: @unchecked Sendable {
    public let parameters: [Parameter]
    public let values: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    public let valueCount: Int
    public let gradientCount: Int
    private let index: [String: Int]

    public init(specs: [(TensorSpec, TensorKind)]) {
        var params: [Parameter] = []
        var offset = 0, gradOffset = 0
        for (spec, kind) in specs {
            params.append(Parameter(spec: spec, kind: kind, offset: offset, gradientOffset: spec.trainable ? gradOffset : nil))
            offset += spec.count
            if spec.trainable { gradOffset += spec.count }
        }
        parameters = params
        valueCount = offset
        gradientCount = gradOffset
        values = .allocate(capacity: max(offset, 1))
        values.initialize(repeating: 0, count: max(offset, 1))
        gradients = .allocate(capacity: max(gradOffset, 1))
        gradients.initialize(repeating: 0, count: max(gradOffset, 1))
        index = Dictionary(uniqueKeysWithValues: params.enumerated().map { ($1.name, $0) })
    }

    deinit { values.deallocate(); gradients.deallocate() }

    public subscript(name: String) -> Parameter? { index[name].map { parameters[$0] } }

    public func value(_ p: Parameter) -> UnsafeMutablePointer<Float> { values + p.offset }
    public func gradient(_ p: Parameter) -> UnsafeMutablePointer<Float>? { p.gradientOffset.map { gradients + $0 } }

    public func zeroGradients() { gradients.update(repeating: 0, count: gradientCount) }

    public var trainableCount: Int { gradientCount }
    public var totalCount: Int { valueCount }
}
