import Dataset
import Embeddings
import Foundation
import Model
import RunFormat
import TensorFile

/// A trained model as a Hugging Face `GPT2LMHeadModel` folder (config.json, model.safetensors, tokenizer.json,
/// tokenizer_config.json) that `transformers` loads without custom code.
///
/// The architectures are the same (pre-LayerNorm blocks, fused QKV, 4× tanh-GELU MLP, learned positions, LayerNorm
/// eps 1e-5), so the export is a change of layout plus three folds:
/// - the input table is the strategy's *effective* table (`GPT.effectiveInputTable`: hashed and low-rank tables are
///   materialised) with α_in folded in;
/// - the logit multiplier (μP's α_out/m) is folded into lm_head;
/// - HF scales attention scores by 1/√d_head; our scale s (1/d_head under μP) is matched by multiplying the query
///   rows of c_attn (and their bias) by s·√d_head.
/// Linear weights become GPT-2's Conv1D layout [in, out]; tensors the run did not have (biases) are zeros, which is
/// what GPT-2's always-present biases compute as.
public enum HuggingFaceExport {
    public struct Folder {
        public var config: [String: Any]
        public var tensors: [Safetensors.Tensor]
        public var tokenizer: [String: Any]
        public var tokenizerConfig: [String: Any]
        /// What a user should know about this export (printed by the CLI, kept in config.json).
        public var notes: [String]
    }

    public struct ExportError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// GPT-2 reserves no id we could use for begin/end of text; id 0 (the NUL byte) never occurs in text, so
    /// `generate` never stops early on it, and it is inside the vocabulary as `transformers` requires.
    public static let boundaryTokenID = 0

    public static func folder(model: GPT, tokenizer: BPETokenizer, provenance: [String: String]) throws -> Folder {
        let c = model.config
        guard tokenizer.vocabSize == c.vocabSize else {
            throw ExportError(
                message:
                    "the tokenizer has \(tokenizer.vocabSize) tokens but the model \(c.vocabSize). Fix: export with the run's own corpus and vocab_size."
            )
        }
        let (tensors, tied, notes) = weights(model)
        var ablate: [String: Any] = provenance
        ablate["strategy"] = model.strategy.name
        ablate["parametrization"] = c.parametrization
        ablate["notes"] = notes
        let config: [String: Any] = [
            "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
            "vocab_size": c.vocabSize, "n_positions": c.contextLength, "n_ctx": c.contextLength,
            "n_embd": c.dModel, "n_layer": c.nLayer, "n_head": c.nHead, "n_inner": 4 * c.dModel,
            "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "summary_first_dropout": 0.0,
            "initializer_range": c.initStd, "scale_attn_weights": true, "scale_attn_by_inverse_layer_idx": false,
            "reorder_and_upcast_attn": false, "use_cache": true, "tie_word_embeddings": tied,
            "bos_token_id": boundaryTokenID, "eos_token_id": boundaryTokenID, "torch_dtype": "float32",
            "ablate": ablate,
        ]
        let (tok, tokConfig) = try tokenizerFiles(tokenizer, contextLength: c.contextLength)
        return Folder(config: config, tensors: tensors, tokenizer: tok, tokenizerConfig: tokConfig, notes: notes)
    }

    /// GPT-2's state_dict of `model`, whether the head can stay tied, and notes.
    static func weights(_ model: GPT) -> ([Safetensors.Tensor], tied: Bool, notes: [String]) {
        let c = model.config, d = c.dModel, v = c.vocabSize
        let store = model.store
        func values(_ name: String) -> [Float]? {
            store[name].map { Array(UnsafeBufferPointer(start: store.value($0), count: $0.count)) }
        }
        /// [out, in] (torch.nn.Linear) → [in, out] (GPT-2's Conv1D).
        func conv1D(_ w: [Float], out: Int, in inputs: Int) -> [Float] {
            var t = [Float](repeating: 0, count: w.count)
            for o in 0..<out { for i in 0..<inputs { t[i * out + o] = w[o * inputs + i] } }
            return t
        }
        var out: [Safetensors.Tensor] = []
        func add(_ name: String, _ shape: [Int], _ values: [Float]) {
            out.append(Safetensors.Tensor(name: name, shape: shape, values: values))
        }
        func norm(_ ours: String, _ theirs: String) {
            add(theirs + ".weight", [d], values(ours + ".weight")!)
            add(theirs + ".bias", [d], values(ours + ".bias") ?? [Float](repeating: 0, count: d))
        }
        func linear(_ ours: String, _ theirs: String, out o: Int, in i: Int, scaleFirst rows: Int = 0, by s: Float = 1) {
            var w = values(ours + ".weight")!
            var b = values(ours + ".bias") ?? [Float](repeating: 0, count: o)
            if s != 1 {
                for k in 0..<(rows * i) { w[k] *= s }
                for k in 0..<rows { b[k] *= s }
            }
            add(theirs + ".weight", [i, o], conv1D(w, out: o, in: i))
            add(theirs + ".bias", [o], b)
        }

        var notes: [String] = []
        let table = model.effectiveInputTable()
        add("transformer.wte.weight", [v, d], table)
        add("transformer.wpe.weight", [c.contextLength, d], values("wpe")!)
        // HF divides q·k by √d_head; ours multiplies by `attentionScale`.
        // (Under SP the two scales agree up to the rounding of 1/√d_head: leave the weights untouched then.)
        let ratio = Double(ParameterRules.attentionScale(c)) * Double(c.headSize).squareRoot()
        let queryScale = abs(ratio - 1) < 1e-6 ? 1 : Float(ratio)
        if queryScale != 1 { notes.append("attention scale \(ParameterRules.attentionScale(c)) folded into the query weights (×\(queryScale))") }
        for l in 0..<c.nLayer {
            let p = "h.\(l).", h = "transformer.h.\(l)."
            norm(p + "ln_1", h + "ln_1")
            linear(p + "attn.c_attn", h + "attn.c_attn", out: 3 * d, in: d, scaleFirst: d, by: queryScale)
            linear(p + "attn.c_proj", h + "attn.c_proj", out: d, in: d)
            norm(p + "ln_2", h + "ln_2")
            linear(p + "mlp.c_fc", h + "mlp.c_fc", out: 4 * d, in: d)
            linear(p + "mlp.c_proj", h + "mlp.c_proj", out: d, in: 4 * d)
        }
        norm("ln_f", "transformer.ln_f")

        // The head: lm_head, or the strategy's single table when tied (GPT allows tying only then).
        let headName = c.tieEmbeddings ? "embedding." + model.strategy.tensors[0].name : "lm_head.weight"
        var head = values(headName)!
        let logitScale = ParameterRules.logitMultiplier(c)
        if logitScale != 1 {
            for k in head.indices { head[k] *= logitScale }
            notes.append("logit multiplier \(logitScale) folded into lm_head")
        }
        if model.strategy.outputMultiplier != 1 { notes.append("input multiplier \(model.strategy.outputMultiplier) folded into wte") }
        // HF ties by sharing one tensor: possible only when the two folded tables are equal.
        let tied = c.tieEmbeddings && head == table
        if c.tieEmbeddings && !tied {
            notes.append(
                "the run ties its input and output tables, but with different multipliers on each side; exported untied (two tensors) so the logits are unchanged"
            )
        }
        if !tied { add("lm_head.weight", [v, d], head) }
        if !c.bias { notes.append("the run has no biases: GPT-2's biases are exported as zeros") }
        return (out, tied, notes)
    }

    // MARK: - tokenizer

    /// GPT-2's byte → printable character map (`bytes_to_unicode`), which byte-level BPE vocabularies are spelt in.
    public static let byteCharacters: [Character] = {
        var bs = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) { bs.append(b); cs.append(256 + n); n += 1 }
        var map = [Character](repeating: " ", count: 256)
        for (b, c) in zip(bs, cs) { map[b] = Character(Unicode.Scalar(UInt32(c))!) }
        return map
    }()

    /// Our pre-split (`PreTokenizer`) as a regex over Unicode text, for a `Split` pre-tokenizer in front of
    /// `ByteLevel`. It is exact: every byte of a non-ASCII character is ≥ 0x80, a letter byte for us, so a
    /// non-ASCII character is a letter; the alternatives are tried in the order of our rules, and every character
    /// belongs to one class, so the matches tile the text as our chunks do.
    public static let preSplitPattern: String = {
        let letter = #"[A-Za-z\x{80}-\x{10FFFF}]"#, digit = "[0-9]"
        let space = #"[\t\n\x0B\f\r ]"#, notSpace = #"[^\t\n\x0B\f\r ]"#
        let punct = #"[\x00-\x08\x0E-\x1F!-/:-@\[-`{-\x7F]"#
        return [
            " \(letter)+", " \(digit)+", " \(punct)+",  // rule 1: a space joins the run after it
            "\(space)+(?= \(notSpace))", "\(space)+",  // rule 2: whitespace, leaving the last space
            "\(letter)+", "\(digit)+", "\(punct)+",
        ].joined(separator: "|")  // rule 3
    }()

    static func tokenizerFiles(_ t: BPETokenizer, contextLength: Int) throws -> ([String: Any], [String: Any]) {
        let spelled = t.tokenBytes.map { String($0.map { byteCharacters[Int($0)] }) }
        var vocab: [String: Int] = [:]
        for (id, s) in spelled.enumerated() {
            if let other = vocab[s] {
                throw ExportError(
                    message:
                        "tokens \(other) and \(id) have the same bytes (two merges build the same string); a Hugging Face BPE vocabulary maps each string to one id, so this tokenizer cannot be exported exactly"
                )
            }
            vocab[s] = id
        }
        let merges = t.merges.map { spelled[Int($0.left)] + " " + spelled[Int($0.right)] }
        let null = NSNull()
        let tokenizer: [String: Any] = [
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [] as [Any], "normalizer": null,
            "pre_tokenizer": [
                "type": "Sequence",
                "pretokenizers": [
                    ["type": "Split", "pattern": ["Regex": preSplitPattern], "behavior": "Isolated", "invert": false],
                    ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
                ],
            ],
            "post_processor": null,
            "decoder": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            "model": [
                "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": merges,
            ],
        ]
        let config: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": contextLength,
            "clean_up_tokenization_spaces": false, "add_prefix_space": false,
        ]
        return (tokenizer, config)
    }

    /// Writes the folder atomically: into `<dir>.tmp`, then renamed over `dir`. An existing `dir` is replaced only
    /// when it is empty or an earlier export (a config.json with model_type gpt2), never any other folder or file.
    public static func write(_ f: Folder, to dir: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir.path) {
            let empty = (try? fm.contentsOfDirectory(atPath: dir.path))?.isEmpty == true
            let earlier =
                (try? Data(contentsOf: dir.appendingPathComponent("config.json")))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["model_type"] as? String == "gpt2"
            guard empty || earlier else {
                throw ExportError(
                    message: "\(dir.path): exists and is not an earlier Hugging Face export; it would be replaced. Fix: choose a new --out folder.")
            }
        }
        let tmp = dir.deletingLastPathComponent().appendingPathComponent(dir.lastPathComponent + ".tmp")
        try? fm.removeItem(at: tmp)
        try FolderCreation.create(tmp, option: "--out")
        func json(_ object: Any, _ name: String) throws {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try data.write(to: tmp.appendingPathComponent(name))
        }
        try json(f.config, "config.json")
        try json(f.tokenizer, "tokenizer.json")
        try json(f.tokenizerConfig, "tokenizer_config.json")
        let buffers = f.tensors.map { t -> UnsafeMutableBufferPointer<Float> in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: t.values.count)
            _ = b.initialize(from: t.values)
            return b
        }
        defer { buffers.forEach { $0.deallocate() } }
        let entries = zip(f.tensors, buffers).map { (name: $0.name, shape: $0.shape, data: UnsafeBufferPointer($1)) }
        try Safetensors.encode(entries, metadata: ["format": "pt"]).write(to: tmp.appendingPathComponent("model.safetensors"))
        try? fm.removeItem(at: dir)
        try fm.moveItem(at: tmp, to: dir)
    }
}
