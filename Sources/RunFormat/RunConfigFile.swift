import Foundation

/// config.json: the resolved training config, the model shape, the strategy's full options, parameter counts and
/// provenance. `Config` and `Model` are the trainer's own types when it writes the file (`TrainConfig`,
/// `ModelConfig`, which declare those sections' keys), and the reader views below when a module that cannot import
/// the trainer reads it (the report): the keys those views name are checked against a trainer-written file by a test.
public struct RunConfigFile<Config: Codable & Sendable, Model: Codable & Sendable>: RunFormatFile, Sendable {
    public static var fileName: String { RunFiles.config }
    public static var formatVersion: Int { 1 }

    public var format: FormatVersion?
    public var config: Config
    public var model: Model
    public var strategyOptions: JSONValue?
    public var parameters: ParameterCounts?
    public var provenance: Provenance?
    public var configHash: String?
    /// `config.batch_shards` as resolved (the default when the config leaves it out): it decides the rounding.
    public var batchShards: Int?
    /// The learning-rate schedule as resolved into steps; absent in files written before it was recorded (cosine).
    public var schedule: ScheduleRecord?

    public init(
        config: Config, model: Model, strategyOptions: JSONValue, parameters: ParameterCounts,
        provenance: Provenance, configHash: String, batchShards: Int?, schedule: ScheduleRecord? = nil
    ) {
        format = FormatVersion(Self.formatVersion)
        self.config = config; self.model = model; self.strategyOptions = strategyOptions; self.parameters = parameters
        self.provenance = provenance; self.configHash = configHash; self.batchShards = batchShards
        self.schedule = schedule
    }
    enum CodingKeys: String, CodingKey {
        case format, config, model, strategyOptions = "strategy_options", parameters, provenance, configHash = "config_hash"
        case batchShards = "batch_shards", schedule
    }
}

/// config.json `schedule`: where a run's learning-rate phases begin, in steps and in training tokens, so that a
/// reader can judge the loss curve phase by phase (the report reads a WSD run's plateau on its stable phase).
public struct ScheduleRecord: Codable, Sendable, Equatable {
    /// "cosine" or "wsd" (`config.lr_schedule` resolved).
    public var kind: String
    public var warmupSteps: Int
    /// The first step of the decay: the end of warm-up for cosine, the end of the stable phase for WSD.
    public var decayStartStep: Int
    public var totalSteps: Int
    /// Training tokens seen before `decay_start_step` (the x-axis of the loss curves).
    public var decayStartTokens: Int
    /// A warm-up–stable–decay run (kind "wsd"): the peak rate held until `decay_start_step`.
    public var isWarmupStableDecay: Bool { kind == "wsd" }
    public init(kind: String, warmupSteps: Int, decayStartStep: Int, totalSteps: Int, decayStartTokens: Int) {
        self.kind = kind; self.warmupSteps = warmupSteps; self.decayStartStep = decayStartStep
        self.totalSteps = totalSteps; self.decayStartTokens = decayStartTokens
    }
    enum CodingKeys: String, CodingKey {
        case kind, warmupSteps = "warmup_steps", decayStartStep = "decay_start_step", totalSteps = "total_steps"
        case decayStartTokens = "decay_start_tokens"
    }
}

/// config.json as readers outside the trainer see it.
public typealias RunConfigView = RunConfigFile<RunConfigSections.ConfigView, RunConfigSections.ModelView>

/// The keys of config.json's `config` and `model` sections that readers outside the trainer use.
public enum RunConfigSections {
    /// The keys of the `config` section that readers outside the trainer use.
    public struct ConfigView: Codable, Sendable {
        public var strategy: String
        public var strategyOptions: JSONValue?
        public var seed: UInt64?
        public var corpus: String?
        public var contextLength: Int?
        /// The peak learning rate (a grid may sweep it); the report picks each arm's best.
        public var learningRate: Double?
        /// "sp" or "mup"; absent in files that predate the key (read as "sp").
        public var parametrization: String?
        /// Validation batches of each evaluation during training (the curve) and of the final evaluation.
        public var evalBatches: Int?
        public var finalEvalBatches: Int?
        public init(
            strategy: String, strategyOptions: JSONValue?, seed: UInt64?, corpus: String?, contextLength: Int?,
            learningRate: Double? = nil, parametrization: String? = nil, evalBatches: Int? = nil,
            finalEvalBatches: Int? = nil
        ) {
            self.strategy = strategy; self.strategyOptions = strategyOptions; self.seed = seed; self.corpus = corpus
            self.contextLength = contextLength; self.learningRate = learningRate; self.parametrization = parametrization
            self.evalBatches = evalBatches; self.finalEvalBatches = finalEvalBatches
        }
        enum CodingKeys: String, CodingKey {
            case strategy, strategyOptions = "strategy_options", seed, corpus, contextLength = "context_length"
            case learningRate = "learning_rate", parametrization, evalBatches = "eval_batches"
            case finalEvalBatches = "final_eval_batches"
        }
    }

    /// The keys of the `model` section that readers outside the trainer use.
    public struct ModelView: Codable, Sendable {
        public var dModel: Int, nLayer: Int, nHead: Int, vocabSize: Int, contextLength: Int?, tieEmbeddings: Bool?
        public init(dModel: Int, nLayer: Int, nHead: Int, vocabSize: Int, contextLength: Int?, tieEmbeddings: Bool?) {
            self.dModel = dModel; self.nLayer = nLayer; self.nHead = nHead; self.vocabSize = vocabSize
            self.contextLength = contextLength; self.tieEmbeddings = tieEmbeddings
        }
        enum CodingKeys: String, CodingKey {
            case dModel = "d_model", nLayer = "n_layer", nHead = "n_head", vocabSize = "vocab_size"
            case contextLength = "context_length", tieEmbeddings = "tie_embeddings"
        }
    }
}

/// Parameter counts of a run. `non_embedding_parameters` is the name in every file; config.json files written
/// before it was unified say `non_embedding`, which is still read.
public struct ParameterCounts: Codable, Sendable, Equatable {
    public var total: Int, trainable: Int, embedding: Int?, nonEmbedding: Int, optimizerStateBytes: Int?
    public init(total: Int, trainable: Int, embedding: Int, nonEmbedding: Int, optimizerStateBytes: Int) {
        self.total = total; self.trainable = trainable; self.embedding = embedding; self.nonEmbedding = nonEmbedding
        self.optimizerStateBytes = optimizerStateBytes
    }
    enum CodingKeys: String, CodingKey {
        case total, trainable, embedding, nonEmbedding = "non_embedding_parameters", optimizerStateBytes = "optimizer_state_bytes"
        case legacyNonEmbedding = "non_embedding"
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decode(Int.self, forKey: .total)
        trainable = try c.decode(Int.self, forKey: .trainable)
        embedding = try c.decodeIfPresent(Int.self, forKey: .embedding)
        nonEmbedding = try c.decodeIfPresent(Int.self, forKey: .nonEmbedding) ?? c.decode(Int.self, forKey: .legacyNonEmbedding)
        optimizerStateBytes = try c.decodeIfPresent(Int.self, forKey: .optimizerStateBytes)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(total, forKey: .total); try c.encode(trainable, forKey: .trainable)
        try c.encodeIfPresent(embedding, forKey: .embedding); try c.encode(nonEmbedding, forKey: .nonEmbedding)
        try c.encodeIfPresent(optimizerStateBytes, forKey: .optimizerStateBytes)
    }
}

/// Where a run's numbers came from: recorded in every run folder's config.json. Optional fields are absent in
/// runs from before they were recorded.
public struct Provenance: Codable, Sendable, Equatable {
    public var packageVersion: String?
    public var gitCommit: String?
    public var corpusSHA256: String?
    public var tokenizerSHA256: String?
    public var seed: UInt64?
    /// The OpenBLAS kernel and the CPU: together they decide the last bits of every matrix product. `cpu` is absent
    /// in runs from before it was recorded (and nil until the trainer records it).
    public var blasCore: String?
    public var cpu: String?
    public var threads: Int?
    public var createdAt: String?

    public init(
        packageVersion: String, gitCommit: String, corpusSHA256: String, tokenizerSHA256: String, seed: UInt64,
        blasCore: String, cpu: String? = nil, threads: Int, createdAt: String
    ) {
        self.packageVersion = packageVersion; self.gitCommit = gitCommit; self.corpusSHA256 = corpusSHA256
        self.tokenizerSHA256 = tokenizerSHA256; self.seed = seed; self.blasCore = blasCore; self.cpu = cpu; self.threads = threads
        self.createdAt = createdAt
    }
    enum CodingKeys: String, CodingKey {
        case packageVersion = "package_version", gitCommit = "git_commit", corpusSHA256 = "corpus_sha256"
        case tokenizerSHA256 = "tokenizer_sha256", seed, blasCore = "blas_core", cpu, threads, createdAt = "created_at"
    }
}
