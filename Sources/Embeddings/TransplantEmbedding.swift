import Foundation
import Kernels
import RunFormat
import TensorFile

/// "Pre-pre-training": start from the input table of a finished run's checkpoint instead of a random one, then
/// keep it frozen (default) or fine-tune it. Asks whether what a trained table knows transfers — e.g. a table
/// trained with a small model, transplanted into a large one.
///
/// The source table is the effective input table (`EmbeddingStrategy.inputTable`) of the strategy whose tensors
/// the checkpoint holds (e.g. A·P for lowrank), or a tensor named by `tensor`. Vocabularies must be the same
/// token list (checked by fingerprint when the checkpoint records one, and always by row count). When widths differ, `projection` decides: `error` (default), `random` (multiply by a
/// seeded Gaussian D_src×D matrix with entries N(0, 1/D_src), which preserves row norms in expectation — a
/// Johnson–Lindenstrauss map), or `truncate` (keep the first D columns, zero-pad if D is larger).
public final class TransplantEmbedding: TableLookupStrategy {
    public static let name = "transplant"
    public static let summary = "The input table of another run's checkpoint (same tokenizer), frozen or fine-tuned."
    public static let tensorNames = ["wte"]

    public enum Projection: String, OptionEnum { case error, random, truncate }

    public struct Options: StrategyOptions {
        /// A run folder, checkpoint folder or model.safetensors file.
        public var checkpoint: String = ""
        /// Source tensor name, or `auto`.
        public var tensor: String = "auto"
        public var trainable: Bool = false
        public var projection: Projection = .error
        public init() {}
    }

    public let options: Options
    public let tensors: [TensorSpec]
    private let dModel: Int
    public var tableWidth: Int { dModel }
    private let source: [Float]  // (V, D) after projection

    public init(options: Options, context: EmbeddingContext) throws {
        func fail(_ key: String, _ message: String) -> StrategyError {
            .invalidOption(strategy: Self.name, key: key, message: message)
        }
        guard !options.checkpoint.isEmpty else {
            throw fail("checkpoint", "is required: the run folder or model.safetensors to take the table from")
        }
        let file: URL
        do { file = try CheckpointLocator.modelFile(at: options.checkpoint) } catch {
            throw fail("checkpoint", String(describing: error))
        }
        let decoded: (tensors: [Safetensors.Tensor], metadata: [String: String])
        do { decoded = try Safetensors.decode(try Data(contentsOf: file), path: file.path) } catch {
            throw fail("checkpoint", String(describing: error))
        }
        let byName = Dictionary(decoded.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let v = context.vocabulary.count, d = context.dModel
        // A stand-in vocabulary (grid validation before the tokenizer is loaded) has only the right size: the row count
        // is still checked below; the fingerprint is checked when the run itself builds the strategy.
        if let fingerprint = decoded.metadata["vocabulary_fnv64"], !context.vocabulary.isStandIn,
            fingerprint != context.vocabulary.fingerprint
        {
            throw StrategyError.incompatible(
                strategy: Self.name,
                message:
                    "\(file.path) was trained with another vocabulary (fingerprint \(fingerprint), this run's is \(context.vocabulary.fingerprint)); use a checkpoint trained on the same corpus and vocab_size"
            )
        }

        // The source table (V_src, D_src): the effective input table of the strategy whose tensors the checkpoint
        // holds (asking each registered strategy, the one with the most tensors first), or the tensor named.
        var table: [Float], width: Int
        if options.tensor == "auto" {
            let owners = StrategyRegistry.all.filter { $0.checkpointNames.allSatisfy { byName[$0] != nil } }
                .sorted { $0.tensorNames.count > $1.tensorNames.count }
            guard let owner = owners.first else {
                throw fail(
                    "tensor",
                    "\(file.path) holds no known strategy's input table; its tensors: \(byName.keys.filter { $0.hasPrefix(EmbeddingTensors.checkpointPrefix) }.sorted().joined(separator: ", ")); name one with tensor: <name>"
                )
            }
            let t = try owner.inputTable(checkpoint: byName, path: file.path).table
            (table, width) = (t.values, t.shape[1])
            guard t.shape[0] == v else { throw Self.vocabMismatch(file, t.shape[0], v) }
        } else {
            guard let t = byName[options.tensor], t.shape.count == 2 else {
                throw fail(
                    "tensor",
                    "\(file.path) has no 2-D tensor named \(options.tensor); its tensors: \(byName.keys.filter { $0.hasPrefix(EmbeddingTensors.checkpointPrefix) }.sorted().joined(separator: ", "))"
                )
            }
            guard t.shape[0] == v else { throw Self.vocabMismatch(file, t.shape[0], v) }
            (table, width) = (t.values, t.shape[1])
        }
        if width != d {
            switch options.projection {
            case .error:
                throw StrategyError.incompatible(
                    strategy: Self.name,
                    message:
                        "the checkpoint's table is \(width) wide but d_model is \(d); set projection: random or truncate, or use a checkpoint of the same width"
                )
            case .truncate:
                table = (0..<(v * d)).map { i in i % d < width ? table[(i / d) * width + i % d] : 0 }
            case .random:
                var rng = Xoshiro256(seed: context.seed, stream: EmbeddingStreams.projection)
                let r = (0..<(width * d)).map { _ in Float(rng.nextNormal() / Double(width).squareRoot()) }
                var out = [Float](repeating: 0, count: v * d)
                table.withUnsafeBufferPointer { a in
                    r.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { c in
                            BLAS.sgemm(
                                transA: false, transB: false, m: v, n: d, k: width, alpha: 1, a: a.baseAddress!, lda: width,
                                b: b.baseAddress!, ldb: d, beta: 0, c: c.baseAddress!, ldc: d)
                        }
                    }
                }
                table = out
            }
        }
        self.options = options
        dModel = d
        source = table
        tensors = [TensorSpec(name: Self.tensorNames[0], shape: [v, d], trainable: options.trainable)]
    }

    /// A fine-tunable transplant from a small random checkpoint written to the temporary folder (for the conformance
    /// suite and demos): N(0, 0.02²) values, the context's vocabulary fingerprint, width d_model.
    public static func exampleOptions(for context: EmbeddingContext) throws -> [String: Any] {
        let (v, d) = (context.vocabulary.count, context.dModel)
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ablate-transplant-example-\(context.vocabulary.fingerprint)-\(d).safetensors")
        if !FileManager.default.fileExists(atPath: url.path) {
            var rng = Xoshiro256(seed: 42, stream: EmbeddingStreams.table)
            let values = (0..<(v * d)).map { _ in Float(rng.nextNormal() * 0.02) }
            let data = values.withUnsafeBufferPointer {
                Safetensors.encode(
                    [(LearnedEmbedding.checkpointNames[0], [v, d], $0)], metadata: ["vocabulary_fnv64": context.vocabulary.fingerprint])
            }
            try data.write(to: url, options: .atomic)
        }
        return ["checkpoint": url.path, "trainable": true]
    }

    /// The table comes from a file, not from the run seed (except a `random` projection).
    public var dependsOnRunSeed: Bool { options.projection == .random }

    public func initialize(_ values: [UnsafeMutableBufferPointer<Float>]) {
        source.withUnsafeBufferPointer { values[0].baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
    }

    private static func vocabMismatch(_ file: URL, _ rows: Int, _ v: Int) -> StrategyError {
        .incompatible(
            strategy: name,
            message:
                "\(file.path) has a \(rows)-token table but this run's vocabulary has \(v) tokens; use a checkpoint trained with the same tokenizer (corpus and vocab_size)"
        )
    }
}
