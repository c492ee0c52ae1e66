import Dataset
import Embeddings
import Foundation
import Kernels
import Model
import TensorFile
import Trainer
import XCTest

/// The parts of `ablate export hf` that Swift can check on its own; `make test-hf` checks the whole folder in
/// transformers (logits and token ids).
final class HuggingFaceExportTests: XCTestCase {
    /// The pre-split regex tiles text exactly as `PreTokenizer` chunks it (ICU here, Oniguruma in tokenizers: the
    /// pattern uses only syntax both share — classes, \x{…}, alternation, lookahead).
    func testPreSplitPatternEqualsThePreTokenizer() throws {
        let regex = try NSRegularExpression(pattern: HuggingFaceExport.preSplitPattern)
        // Characters of every class, weighted towards the whitespace and space/word boundaries the rules are about.
        let alphabet: [String] = [
            "a", "Z", "é", "日", "🙂", "7", "0", ".", "'", "-", "\u{0}", "\u{7f}", " ", " ", " ",
            "\n", "\t", "\r", "\u{0b}", "\u{0c}",
        ]
        var rng = Xoshiro256(seed: 3)
        for _ in 0..<2000 {
            let text = (0..<rng.nextInt(below: 14)).map { _ in alphabet[rng.nextInt(below: alphabet.count)] }.joined()
            let ns = text as NSString
            let matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
            XCTAssertEqual(matches, PreTokenizer.chunks(text), "\(Array(text.unicodeScalars).map { $0.value })")
        }
    }

    func testWeightsAreGPT2LayoutWithTheAttentionScaleInTheQueries() throws {
        let config = ModelConfig(
            vocabSize: 256, dModel: 16, nLayer: 1, nHead: 2, contextLength: 8,
            tieEmbeddings: true, parametrization: "mup", baseWidth: 8, outputMultiplier: 3)
        let context = EmbeddingContext(vocabulary: .bytes, dModel: 16, seed: 1, parametrization: config.resolvedParametrization)
        let model = try GPT(config: config, strategy: try StrategyRegistry.make(name: "mup", context: context), batchSize: 1, seed: 1)
        let tokenizer = try BPETokenizer(merges: [], corpusSHA256: "test", requestedVocabSize: 256)
        let folder = try HuggingFaceExport.folder(model: model, tokenizer: tokenizer, provenance: [:])
        let byName = Dictionary(uniqueKeysWithValues: folder.tensors.map { ($0.name, $0) })
        func ours(_ name: String) -> [Float] {
            let p = model.store[name]!
            return Array(UnsafeBufferPointer(start: model.store.value(p), count: p.count))
        }
        let d = 16, s = Float(1.0 / 8.0 * 8.0.squareRoot())  // (1/d_head) · √d_head, d_head = 8
        let qkv = ours("h.0.attn.c_attn.weight"), exported = try XCTUnwrap(byName["transformer.h.0.attn.c_attn.weight"])
        XCTAssertEqual(exported.shape, [d, 3 * d])
        for o in 0..<(3 * d) {
            for i in 0..<d {
                XCTAssertEqual(exported.values[i * 3 * d + o], qkv[o * d + i] * (o < d ? s : 1))
            }
        }
        XCTAssertEqual(byName["transformer.h.0.ln_1.bias"]?.values, [Float](repeating: 0, count: d))
        XCTAssertEqual(byName["transformer.h.0.mlp.c_fc.weight"]?.shape, [d, 4 * d])
        // Tied with α_in ≠ α_out/m: exported as two tables, each with its multiplier folded in.
        XCTAssertEqual(folder.config["tie_word_embeddings"] as? Bool, false)
        let table = ours("embedding." + model.strategy.tensors[0].name)
        let alphaIn = model.strategy.outputMultiplier, logitScale = ParameterRules.logitMultiplier(config)
        XCTAssertEqual(byName["transformer.wte.weight"]?.values, table.map { $0 * alphaIn })
        XCTAssertEqual(byName["lm_head.weight"]?.values, table.map { $0 * logitScale })
        XCTAssertEqual(folder.config["layer_norm_epsilon"] as? Double, 1e-5)
    }

    /// Frozen tables under μP carry α_in like the trained one: the exported wte is the stored table × α_in (10).
    func testFrozenTablesUnderMuPFoldTheirInputMultiplier() throws {
        let config = ModelConfig(vocabSize: 256, dModel: 16, nLayer: 1, nHead: 2, contextLength: 8, parametrization: "mup", baseWidth: 8)
        let context = EmbeddingContext(vocabulary: .bytes, dModel: 16, seed: 1, parametrization: config.resolvedParametrization)
        let tokenizer = try BPETokenizer(merges: [], corpusSHA256: "test", requestedVocabSize: 256)
        for name in ["frozen-random", "hashed"] {
            let model = try GPT(config: config, strategy: try StrategyRegistry.make(name: name, context: context), batchSize: 1, seed: 1)
            XCTAssertEqual(model.strategy.outputMultiplier, 10, name)
            let folder = try HuggingFaceExport.folder(model: model, tokenizer: tokenizer, provenance: [:])
            let p = model.store["embedding." + model.strategy.tensors[0].name]!
            let table = Array(UnsafeBufferPointer(start: model.store.value(p), count: p.count))
            XCTAssertEqual(folder.tensors.first { $0.name == "transformer.wte.weight" }?.values, table.map { $0 * 10 }, name)
            XCTAssertTrue(folder.notes.contains("input multiplier 10.0 folded into wte"), "\(name): \(folder.notes)")
        }
    }

    func testWriteReplacesOnlyAnEarlierExport() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-hf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let context = EmbeddingContext(vocabulary: .bytes, dModel: 8, seed: 1)
        let model = try GPT(
            config: ModelConfig(vocabSize: 256, dModel: 8, nLayer: 1, nHead: 1, contextLength: 4),
            strategy: try StrategyRegistry.make(name: "learned", context: context), batchSize: 1, seed: 1)
        let folder = try HuggingFaceExport.folder(
            model: model, tokenizer: try BPETokenizer(merges: [], corpusSHA256: "t", requestedVocabSize: 256),
            provenance: [:])
        let out = root.appendingPathComponent("hf")
        try HuggingFaceExport.write(folder, to: out)
        try HuggingFaceExport.write(folder, to: out)  // an earlier export is replaced
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(names, ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
        let other = root.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: other.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try HuggingFaceExport.write(folder, to: other)) { XCTAssertTrue("\($0)".contains("choose a new --out")) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.path), ["config.json"])
    }

    func testTwoTokensWithTheSameBytesAreRefused() throws {
        // "ab"+"c" and "a"+"bc" both spell "abc": a Hugging Face vocabulary cannot hold both ids.
        let merges = [BPETokenizer.Merge(97, 98), BPETokenizer.Merge(256, 99), BPETokenizer.Merge(98, 99), BPETokenizer.Merge(97, 258)]
        let tokenizer = try BPETokenizer(merges: merges, corpusSHA256: "test", requestedVocabSize: 260)
        let context = EmbeddingContext(vocabulary: Vocabulary(tokenBytes: tokenizer.tokenBytes), dModel: 8, seed: 1)
        let model = try GPT(
            config: ModelConfig(vocabSize: 260, dModel: 8, nLayer: 1, nHead: 1, contextLength: 4),
            strategy: try StrategyRegistry.make(name: "learned", context: context), batchSize: 1, seed: 1)
        XCTAssertThrowsError(try HuggingFaceExport.folder(model: model, tokenizer: tokenizer, provenance: [:])) {
            XCTAssertTrue("\($0)".contains("tokens 257 and 259 have the same bytes"), "\($0)")
        }
    }
}
