import Foundation

/// probes.json: every probe number of one run (format documented in Sources/Probes/README.md).
public struct ProbeReport: RunFormatFile, Sendable {
    public static let formatName = "ablate-probes-1"
    public static let fileName = RunFiles.probes
    public static let formatVersion = 1

    public struct RunInfo: Codable, Sendable {
        public var folder: String
        public var strategy: String
        public var corpus: String
        public var dModel: Int
        public var nLayer: Int
        public var nHead: Int
        public var vocabSize: Int
        public var nonEmbeddingParameters: Int?
        public var seed: Int
        public var tieEmbeddings: Bool
        public var configHash: String?
        public var status: String?
        public var totalSteps: Int
        /// The step of the checkpoint probed as "final".
        public var step: Int
        public var finalValLoss: Double?
        enum CodingKeys: String, CodingKey {
            case folder, strategy, corpus, dModel = "d_model", nLayer = "n_layer", nHead = "n_head", vocabSize = "vocab_size"
            case nonEmbeddingParameters = "non_embedding_parameters", seed, tieEmbeddings = "tie_embeddings"
            case configHash = "config_hash", status, totalSteps = "total_steps", step, finalValLoss = "final_val_loss"
        }
        public init(
            folder: String, strategy: String, corpus: String, dModel: Int, nLayer: Int, nHead: Int, vocabSize: Int,
            nonEmbeddingParameters: Int?, seed: Int, tieEmbeddings: Bool, configHash: String?, status: String?,
            totalSteps: Int, step: Int, finalValLoss: Double?
        ) {
            self.folder = folder; self.strategy = strategy; self.corpus = corpus; self.dModel = dModel; self.nLayer = nLayer
            self.nHead = nHead; self.vocabSize = vocabSize; self.nonEmbeddingParameters = nonEmbeddingParameters
            self.seed = seed; self.tieEmbeddings = tieEmbeddings; self.configHash = configHash; self.status = status
            self.totalSteps = totalSteps; self.step = step; self.finalValLoss = finalValLoss
        }
    }

    public struct Settings: Codable, Sendable {
        public var isotropyPairs: Int
        public var isotropySeed: UInt64
        public var driftThreshold: Double
        public var cosineThreshold: Double
        /// How the numbers were defined (absent in files that only carry the numbers).
        public var wordVector: String?
        public var inCorpus: String?
        public var effectiveRank: String?
        public var seenTokens: String?
        /// sha256 of each word-similarity file used.
        public var wordSets: [String: String]?
        enum CodingKeys: String, CodingKey {
            case isotropyPairs = "isotropy_pairs", isotropySeed = "isotropy_seed", driftThreshold = "drift_threshold"
            case cosineThreshold = "cosine_threshold", wordVector = "word_vector", inCorpus = "in_corpus"
            case effectiveRank = "effective_rank", seenTokens = "seen_tokens", wordSets = "word_sets"
        }
        public init(
            isotropyPairs: Int, isotropySeed: UInt64, driftThreshold: Double, cosineThreshold: Double,
            wordVector: String?, inCorpus: String?, effectiveRank: String?, seenTokens: String?, wordSets: [String: String]?
        ) {
            self.isotropyPairs = isotropyPairs; self.isotropySeed = isotropySeed; self.driftThreshold = driftThreshold
            self.cosineThreshold = cosineThreshold; self.wordVector = wordVector; self.inCorpus = inCorpus
            self.effectiveRank = effectiveRank; self.seenTokens = seenTokens; self.wordSets = wordSets
        }
    }

    public struct Table: Codable, Sendable {
        /// The checkpoint tensor(s) the input table was computed from (the strategy's `checkpointNames`, joined by `·`).
        public var tensor: String
        public var shape: [Int]
        /// Metrics of the final checkpoint (F32).
        public var final: TableMetrics
        /// Metrics of snapshot 0, the untrained initialisation (the baseline); nil without snapshots.
        public var initial: TableMetrics?
        enum CodingKeys: String, CodingKey { case tensor, shape, final, initial = "init" }
        public init(tensor: String, shape: [Int], final: TableMetrics, initial: TableMetrics?) {
            self.tensor = tensor; self.shape = shape; self.final = final; self.initial = initial
        }
    }

    public struct Tables: Codable, Sendable {
        public var input: Table
        /// The output head `lm_head.weight`; nil when tied to the input table.
        public var output: Table?
        public init(input: Table, output: Table?) { self.input = input; self.output = output }
    }

    public struct DriftPair: Codable, Sendable {
        public var input: Drift?
        public var output: Drift?
        public init(input: Drift?, output: Drift?) { self.input = input; self.output = output }
    }

    public struct Snapshot: Codable, Sendable {
        public var step: Int
        public var fraction: Double
        public var input: TableMetrics
        public var output: TableMetrics?
        /// Retrieval MAP of the snapshot's input table (`Retrieval` below); absent in older files.
        public var retrievalMAP: Double?
        enum CodingKeys: String, CodingKey { case step, fraction, input, output, retrievalMAP = "retrieval_map" }
        public init(step: Int, fraction: Double, input: TableMetrics, output: TableMetrics?, retrievalMAP: Double? = nil) {
            self.step = step; self.fraction = fraction; self.input = input; self.output = output
            self.retrievalMAP = retrievalMAP
        }
    }

    /// Retrieval quality of the input table **alone** (tokenizer + table + mean pooling, no transformer layer) by mean
    /// average precision, as in the embedding-scaling study; definitions in Sources/Probes/README.md. Every MAP is nil
    /// when undefined (no query with a relevant passage) or not measured (`init` without a step-0 snapshot, `cropped`
    /// / `padded` when the width equals the table's).
    public struct Retrieval: Codable, Sendable, Equatable {
        /// Passages (queries and documents), works they come from, tokens per passage, at most this many per work,
        /// and the seed that chose them.
        public var passages: Int
        public var works: Int
        public var passageLength: Int
        public var perWork: Int
        public var seed: UInt64
        /// The final input table; the run's own init (snapshot 0).
        public var trained: Double?
        public var initial: Double?
        /// A xavier-normal table of the same shape, N(0, 2/(V + D)), from `randomSeed` (shared by every run and size).
        public var random: Double?
        public var randomSeed: UInt64
        /// The final table cropped to its first `croppedWidth` columns (the grid's smallest d_model).
        public var cropped: Double?
        public var croppedWidth: Int?
        /// The final table padded to `paddedWidth` columns (the grid's largest d_model) with noise at its own RMS.
        public var padded: Double?
        public var paddedWidth: Int?
        /// TF-IDF over token ids (bag of tokens, no table): what token overlap alone gives; the same for every run
        /// of a tokenizer.
        public var tfidf: Double?
        /// The MAP a random ranking scores on average (the chance level); absent in probes written before it existed.
        public var chance: Double?
        enum CodingKeys: String, CodingKey {
            case passages, works, passageLength = "passage_length", perWork = "per_work", seed, trained
            case initial = "init", random, randomSeed = "random_seed", cropped, croppedWidth = "cropped_width", padded
            case paddedWidth = "padded_width", tfidf, chance
        }
        public init(
            passages: Int, works: Int, passageLength: Int, perWork: Int, seed: UInt64, trained: Double?, initial: Double?,
            random: Double?, randomSeed: UInt64, cropped: Double?, croppedWidth: Int?, padded: Double?, paddedWidth: Int?,
            tfidf: Double?, chance: Double? = nil
        ) {
            self.passages = passages; self.works = works; self.passageLength = passageLength; self.perWork = perWork
            self.seed = seed; self.trained = trained; self.initial = initial; self.random = random
            self.randomSeed = randomSeed; self.cropped = cropped; self.croppedWidth = croppedWidth; self.padded = padded
            self.paddedWidth = paddedWidth; self.tfidf = tfidf; self.chance = chance
        }
    }

    /// The nearest tokens of a word (a single token in the run's tokenizer) by cosine in the final input table.
    public struct Neighbours: Codable, Sendable, Equatable {
        public struct Neighbour: Codable, Sendable, Equatable {
            public var token: Int
            /// The token's text for display (printable ASCII as is, other bytes as `\\xNN`).
            public var text: String
            public var cosine: Double
            public init(token: Int, text: String, cosine: Double) { self.token = token; self.text = text; self.cosine = cosine }
        }
        /// The word with its leading space, e.g. " king".
        public var word: String
        public var token: Int
        /// Nearest first; ties by token id.
        public var nearest: [Neighbour]
        public init(word: String, token: Int, nearest: [Neighbour]) { self.word = word; self.token = token; self.nearest = nearest }
    }

    public var format: String
    public var createdAt: String
    public var run: RunInfo
    /// Absent in files that carry only the numbers.
    public var settings: Settings?
    public var tables: Tables
    /// Nil members without snapshots (or with fewer than 2).
    public var drift: DriftPair
    /// Full metrics of every snapshot (F16 tables), ascending step.
    public var snapshots: [Snapshot]
    /// Anything the reader should know (missing snapshots, unfinished run, …).
    public var notes: [String]
    /// Retrieval MAP of the input table and its variants; absent in older files and when the corpus has no
    /// validation passages.
    public var retrieval: Retrieval?
    /// Nearest tokens of a fixed list of frequent words; absent in older files.
    public var neighbours: [Neighbours]?
    /// Words of that list that are not a single token in this run's tokenizer (so have no neighbours here).
    public var neighboursSkipped: [String]?

    enum CodingKeys: String, CodingKey {
        case format, createdAt = "created_at", run, settings, tables, drift, snapshots, notes, retrieval, neighbours
        case neighboursSkipped = "neighbours_skipped"
    }

    public init(
        format: String, createdAt: String, run: RunInfo, settings: Settings?, tables: Tables, drift: DriftPair,
        snapshots: [Snapshot], notes: [String], retrieval: Retrieval? = nil, neighbours: [Neighbours]? = nil,
        neighboursSkipped: [String]? = nil
    ) {
        self.format = format; self.createdAt = createdAt; self.run = run; self.settings = settings; self.tables = tables
        self.drift = drift; self.snapshots = snapshots; self.notes = notes; self.retrieval = retrieval
        self.neighbours = neighbours; self.neighboursSkipped = neighboursSkipped
    }

    /// Lenient where files differ: `settings`, `snapshots` and `notes` may be absent (files that carry only the numbers).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt) ?? ""
        run = try c.decode(RunInfo.self, forKey: .run)
        settings = try c.decodeIfPresent(Settings.self, forKey: .settings)
        tables = try c.decode(Tables.self, forKey: .tables)
        drift = try c.decodeIfPresent(DriftPair.self, forKey: .drift) ?? DriftPair(input: nil, output: nil)
        snapshots = try c.decodeIfPresent([Snapshot].self, forKey: .snapshots) ?? []
        notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? []
        retrieval = try c.decodeIfPresent(Retrieval.self, forKey: .retrieval)
        neighbours = try c.decodeIfPresent([Neighbours].self, forKey: .neighbours)
        neighboursSkipped = try c.decodeIfPresent([String].self, forKey: .neighboursSkipped)
    }
}

/// Everything the probes measure on one table (input table or output head, at one step).
public struct TableMetrics: Codable, Sendable, Equatable {
    /// Rows (= vocabulary size) and rows of tokens that occur in the training stream ("seen").
    public var rows: Int
    public var rowsSeen: Int
    public var effectiveRank: Double?
    public var effectiveRankSeen: Double?
    /// effectiveRank / D.
    public var effectiveRankRatio: Double?
    public var isotropy: Double?
    public var isotropySeen: Double?
    public var meanRowNorm: Double
    /// Spearman ρ(row norm, train count) over the seen tokens.
    public var normFrequencySpearman: Double?
    /// Keyed by set name (wordsim353, simlex999, men, …).
    public var wordSimilarity: [String: WordSimilarityResult]

    enum CodingKeys: String, CodingKey {
        case rows, rowsSeen = "rows_seen", effectiveRank = "effective_rank", effectiveRankSeen = "effective_rank_seen"
        case effectiveRankRatio = "effective_rank_ratio", isotropy, isotropySeen = "isotropy_seen"
        case meanRowNorm = "mean_row_norm", normFrequencySpearman = "norm_frequency_spearman"
        case wordSimilarity = "word_similarity"
    }

    public init(
        rows: Int, rowsSeen: Int, effectiveRank: Double?, effectiveRankSeen: Double?, effectiveRankRatio: Double?,
        isotropy: Double?, isotropySeen: Double?, meanRowNorm: Double, normFrequencySpearman: Double?,
        wordSimilarity: [String: WordSimilarityResult]
    ) {
        self.rows = rows; self.rowsSeen = rowsSeen; self.effectiveRank = effectiveRank; self.effectiveRankSeen = effectiveRankSeen
        self.effectiveRankRatio = effectiveRankRatio; self.isotropy = isotropy; self.isotropySeen = isotropySeen
        self.meanRowNorm = meanRowNorm; self.normFrequencySpearman = normFrequencySpearman; self.wordSimilarity = wordSimilarity
    }
}

/// One word-similarity set's result on one table (Spearman ρ between cosine similarities and human scores).
public struct WordSimilarityResult: Codable, Sendable, Equatable {
    /// ρ over every pair that has two non-zero vectors (nil when fewer than 3).
    public var rho: Double?
    public var pairs: Int
    /// ρ over the in-corpus pairs only (see `WordEncoder`).
    public var rhoInCorpus: Double?
    public var pairsInCorpus: Int
    /// Pairs in the set; `pairs < totalPairs` only when a word has no tokens or a zero vector.
    public var totalPairs: Int
    /// pairsInCorpus / totalPairs.
    public var coverageInCorpus: Double
    /// Approximate 95 % intervals of the two ρ's (see `interval`); absent when ρ is, or n < 5.
    public var rhoCI95: [Double]?
    public var rhoInCorpusCI95: [Double]?
    enum CodingKeys: String, CodingKey {
        case rho, pairs, rhoInCorpus = "rho_in_corpus", pairsInCorpus = "pairs_in_corpus"
        case totalPairs = "total_pairs", coverageInCorpus = "coverage_in_corpus"
        case rhoCI95 = "rho_ci95", rhoInCorpusCI95 = "rho_in_corpus_ci95"
    }
    public init(
        rho: Double?, pairs: Int, rhoInCorpus: Double?, pairsInCorpus: Int, totalPairs: Int, coverageInCorpus: Double,
        rhoCI95: [Double]?, rhoInCorpusCI95: [Double]?
    ) {
        self.rho = rho; self.pairs = pairs; self.rhoInCorpus = rhoInCorpus; self.pairsInCorpus = pairsInCorpus
        self.totalPairs = totalPairs; self.coverageInCorpus = coverageInCorpus; self.rhoCI95 = rhoCI95
        self.rhoInCorpusCI95 = rhoInCorpusCI95
    }
}

/// How a table moves during training, from its snapshots (step 0 = init, last = final).
///
/// Per snapshot t (E_t the table, E_0 the init, E_T the final table, norms Frobenius over the flattened table):
/// - relative change from init   ‖E_t − E_0‖ / ‖E_0‖
/// - cosine to final             ⟨E_t, E_T⟩ / (‖E_t‖·‖E_T‖)
/// - relative distance to final  ‖E_t − E_T‖ / ‖E_T‖
/// - remaining drift             ‖E_t − E_T‖ / ‖E_0 − E_T‖   (1 at init, 0 at the end)
///
/// Stabilisation point: the training fraction of the earliest snapshot from which on **every** later snapshot
/// has remaining drift ≤ 10 % (`driftThreshold`): the table has covered 90 % of its total journey and never moves
/// away again. A second, scale-free reading: the earliest snapshot from which on the cosine to the final table
/// stays ≥ 0.99 (`cosineThreshold`). Both are upper bounds at the resolution of the snapshot grid (the true point
/// lies between the previous snapshot and this one); 1 means "not before the end". Undefined (nil) for a table
/// that does not move (frozen).
public struct Drift: Codable, Sendable, Equatable {
    public static let driftThreshold = 0.1
    public static let cosineThreshold = 0.99

    public var steps: [Int]
    public var fractions: [Double]
    public var relativeChangeFromInit: [Double]
    public var cosineToFinal: [Double?]
    public var relativeDistanceToFinal: [Double]
    public var remainingDrift: [Double?]
    /// ‖E_T − E_0‖ / ‖E_0‖.
    public var totalDrift: Double
    /// True when the table did not change at all (frozen strategies).
    public var frozen: Bool
    public var stabilisedAt: Double?
    public var stabilisedAtCosine: Double?

    enum CodingKeys: String, CodingKey {
        case steps, fractions, relativeChangeFromInit = "relative_change_from_init", cosineToFinal = "cosine_to_final"
        case relativeDistanceToFinal = "relative_distance_to_final", remainingDrift = "remaining_drift"
        case totalDrift = "total_drift", frozen, stabilisedAt = "stabilised_at", stabilisedAtCosine = "stabilised_at_cosine"
    }

    public init(
        steps: [Int], fractions: [Double], relativeChangeFromInit: [Double], cosineToFinal: [Double?],
        relativeDistanceToFinal: [Double], remainingDrift: [Double?], totalDrift: Double, frozen: Bool,
        stabilisedAt: Double?, stabilisedAtCosine: Double?
    ) {
        self.steps = steps; self.fractions = fractions; self.relativeChangeFromInit = relativeChangeFromInit
        self.cosineToFinal = cosineToFinal; self.relativeDistanceToFinal = relativeDistanceToFinal
        self.remainingDrift = remainingDrift; self.totalDrift = totalDrift; self.frozen = frozen
        self.stabilisedAt = stabilisedAt; self.stabilisedAtCosine = stabilisedAtCosine
    }
}
