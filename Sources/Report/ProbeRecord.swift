import Foundation
import RunFormat

/// A run's `probes.json` (written by `ablate probe`, format in `Sources/Probes/README.md`) as the report sees it.
/// The report does not import Probes: these structs decode only the keys it uses, every one optional, so a
/// probes.json with missing or extra keys still reads (an absent number is an undefined one, e.g. ρ of constant
/// data).
public struct ProbeRecord: Sendable, Decodable {
    public struct Run: Sendable, Decodable {
        public var strategy: String?
        public var dModel: Int?
        public var nonEmbeddingParameters: Int?
        public var seed: UInt64?
        public var tieEmbeddings: Bool?
        public var totalSteps: Int?
        public var step: Int?
        public var status: String?
        enum CodingKeys: String, CodingKey {
            case strategy, dModel = "d_model", nonEmbeddingParameters = "non_embedding_parameters", seed
            case tieEmbeddings = "tie_embeddings", totalSteps = "total_steps", step, status
        }
    }

    /// One word-similarity set's result on one table.
    public struct WordSimilarity: Sendable, Decodable {
        public var rho: Double?
        public var pairs: Int?
        public var rhoInCorpus: Double?
        public var pairsInCorpus: Int?
        public var totalPairs: Int?
        public var coverageInCorpus: Double?
        public var rhoCI95: [Double]?
        public var rhoInCorpusCI95: [Double]?
        enum CodingKeys: String, CodingKey {
            case rho, pairs, rhoInCorpus = "rho_in_corpus", pairsInCorpus = "pairs_in_corpus"
            case totalPairs = "total_pairs", coverageInCorpus = "coverage_in_corpus"
            case rhoCI95 = "rho_ci95", rhoInCorpusCI95 = "rho_in_corpus_ci95"
        }
    }

    public struct Metrics: Sendable, Decodable {
        public var rows: Int?
        public var effectiveRank: Double?
        public var effectiveRankRatio: Double?
        public var isotropy: Double?
        public var meanRowNorm: Double?
        public var normFrequencySpearman: Double?
        public var wordSimilarity: [String: WordSimilarity]?
        enum CodingKeys: String, CodingKey {
            case rows, effectiveRank = "effective_rank", effectiveRankRatio = "effective_rank_ratio", isotropy
            case meanRowNorm = "mean_row_norm", normFrequencySpearman = "norm_frequency_spearman"
            case wordSimilarity = "word_similarity"
        }
    }

    public struct Table: Sendable, Decodable {
        public var tensor: String?
        public var shape: [Int]?
        public var final: Metrics?
        public var initial: Metrics?
        enum CodingKeys: String, CodingKey { case tensor, shape, final, initial = "init" }
    }

    public struct Tables: Sendable, Decodable {
        public var input: Table?
        public var output: Table?
    }

    public struct Drift: Sendable, Decodable {
        public var steps: [Int]?
        public var fractions: [Double]?
        public var cosineToFinal: [Double?]?
        public var relativeDistanceToFinal: [Double?]?
        public var remainingDrift: [Double?]?
        public var totalDrift: Double?
        public var frozen: Bool?
        public var stabilisedAt: Double?
        public var stabilisedAtCosine: Double?
        enum CodingKeys: String, CodingKey {
            case steps, fractions, cosineToFinal = "cosine_to_final", relativeDistanceToFinal = "relative_distance_to_final"
            case remainingDrift = "remaining_drift", totalDrift = "total_drift", frozen
            case stabilisedAt = "stabilised_at", stabilisedAtCosine = "stabilised_at_cosine"
        }
    }

    public struct DriftPair: Sendable, Decodable {
        public var input: Drift?
        public var output: Drift?
    }

    public struct Settings: Sendable, Decodable {
        public var driftThreshold: Double?
        public var cosineThreshold: Double?
        enum CodingKeys: String, CodingKey { case driftThreshold = "drift_threshold", cosineThreshold = "cosine_threshold" }
    }

    public enum Kind: String, Sendable, CaseIterable {
        case input, output
        public var title: String { self == .input ? "input embedding" : "output head" }
    }

    public var format: String?
    public var run: Run?
    public var settings: Settings?
    public var tables: Tables?
    public var drift: DriftPair?
    public var notes: [String]?

    public func table(_ kind: Kind) -> Table? { kind == .input ? tables?.input : tables?.output }
    public func drift(_ kind: Kind) -> Drift? { kind == .input ? drift?.input : drift?.output }

    /// Reads `folder/probes.json`: nil when there is none; a `ReportError` when it exists but cannot be read.
    static func read(_ folder: URL) throws -> ProbeRecord? {
        let url = folder.appendingPathComponent(RunFiles.probes)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let record: ProbeRecord
        do {
            record = try RunJSON.decode(ProbeRecord.self, from: data, file: url.path, supported: 1)
        } catch let error as RunFormatError {
            throw ReportError("probes.json \(error.message)")
        }
        if let f = record.format, !f.hasPrefix("ablate-probes-") {
            throw ReportError("probes.json has format '\(f)', expected ablate-probes-1")
        }
        guard record.tables?.input?.final != nil else {
            throw ReportError("probes.json has no tables.input.final")
        }
        return record
    }
}
