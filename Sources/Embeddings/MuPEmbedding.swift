/// The name old run folders and grids use for a learned table under μP (maximal update parametrization; Yang et al.,
/// "Tensor Programs V", 2022): exactly `learned` in a μP run — σ_base 0.08 and α_in 10 by default (`TableScale.muP`,
/// the Cerebras-GPT recipe), same options, same tensor `wte`, same RNG stream — except that it refuses SP.
///
/// μP is a property of the whole network: the hidden matrices' σ/√m and η/m, the readout's α_out/m and attention's
/// q·k/d_head are applied by the model, so this name **requires** `context.parametrization == .mup`. To compare
/// embedding strategies under μP, use `parametrization: mup` with any strategy; this one is kept so that `mup` runs
/// stay readable and comparable.
public final class MuPEmbedding: TableLookupStrategy {
    public static let name = "mup"
    public static let summary = "The learned table under μP (σ_base 0.08, output × α_in 10; Cerebras recipe); needs parametrization: mup."
    public static let tensorNames = LearnedEmbedding.tensorNames

    public typealias Options = LearnedEmbedding.Options

    private let table: LearnedEmbedding
    public var options: Options { table.options }
    public var tensors: [TensorSpec] { table.tensors }
    public var tableWidth: Int { table.tableWidth }

    public init(options: Options, context: EmbeddingContext) throws {
        guard context.parametrization.isMuP else {
            throw StrategyError.incompatible(
                strategy: Self.name,
                message:
                    "requires the μP parametrization (the model must apply μP to the hidden matrices, readout and attention); "
                    + "set `parametrization: mup` and `base_width` (e.g. 256) in the run config, or use strategy 'learned' for SP")
        }
        table = try LearnedEmbedding(options: options, context: context, strategy: Self.name)
    }

    public func initialize(_ values: [UnsafeMutableBufferPointer<Float>]) { table.initialize(values) }
}
