import Foundation
import RunFormat
import Stats

/// The number every comparison, figure and fit of a report is about. Nats per token, unless the grid varies the
/// vocabulary or the corpus: a token then holds a different amount of text from run to run (about one byte at
/// V = 256, three at V = 8192), and only bits per UTF-8 byte of the predicted text are comparable.
public struct PrimaryMetric: Sendable, Equatable {
    public enum Kind: Sendable { case natsPerToken, bitsPerByte }
    public let kind: Kind
    /// Vocabulary sizes and corpora among the readable runs, ascending.
    public let vocabularies: [Int]
    public let corpora: [String]

    /// Bits per byte as soon as the readable runs span several vocabularies or corpora.
    public init(_ runs: [RunRecord]) {
        let readable = runs.filter { $0.state != .unreadable }
        vocabularies = Set(readable.map(\.shape.vocabSize)).sorted()
        corpora = Set(readable.compactMap { $0.provenance?.corpusSHA256 ?? $0.provenance?.corpus }).sorted()
        kind = vocabularies.count > 1 || corpora.count > 1 ? .bitsPerByte : .natsPerToken
    }

    /// Several vocabularies: vocabulary is then an axis of its own, never a model size.
    public var acrossVocabularies: Bool { vocabularies.count > 1 }
    /// The unit of every loss, difference and slope the report prints.
    public var unit: String { kind == .natsPerToken ? "nats" : "bits/byte" }

    /// The one sentence that says why the report is in bits per byte (nil when it is in nats).
    public var reason: String? {
        guard kind == .bitsPerByte else { return nil }
        let what = vocabularies.count > 1 ? "vocabulary sizes (\(vocabularies.map(String.init).joined(separator: ", ")))" : "corpora"
        return "This grid varies the \(what), so a token holds a different amount of text from run to run and losses "
            + "per token are not comparable: every loss, difference, figure and fit below is in bits per UTF-8 byte of "
            + "the predicted text (val_bpb = Σ NLL / (ln 2 · Σ bytes), recorded by the trainer)"
    }

    static let noFitAcrossVocabularies = "not fitted: the grid varies the vocabulary, which is not a model size"

    /// The runs as the analysis sees them: with bits per byte, each run's final value and curve are its bpb, and
    /// N leaves out the output head's V·d (else a larger vocabulary would look like a larger model). A finished run
    /// without bpb (trained before the trainer recorded it) cannot be compared and is set aside with the reason.
    func primary(_ runs: [RunRecord]) -> [RunRecord] {
        guard kind == .bitsPerByte else { return runs }
        return runs.map { r in
            var r = r
            if r.state == .finished {
                guard let bpb = r.finalValBpb else {
                    r.state = .unreadable
                    r.reason =
                        "finished, but has no val_bpb (trained before bits per byte were recorded): not comparable across vocabularies or corpora; retrain it"
                    return r
                }
                r.finalValLoss = bpb
            }
            r.curve = r.bpbCurve
            if acrossVocabularies && r.shape.nonEmbedding > 0 { r.shape.nonEmbedding -= r.headParameters }
            return r
        }
    }
}

/// Final bits per byte against vocabulary size per strategy, and the gap `arm − baseline` per vocabulary (the
/// analysis' own comparisons: same test, same sign, same Holm family as the Δ table), next to each cell's training
/// FLOPs and bytes. Built from a `GridAnalysis` whose primary metric is bits per byte (its cells already hold bpb).
public struct VocabularyAnalysis: Sendable {
    /// A model shape without its vocabulary: what a "size" is in a vocabulary grid.
    public struct Shape: Hashable, Sendable, Comparable {
        public let dModel: Int, nLayer: Int, nHead: Int, contextLength: Int
        public var label: String { "d\(dModel)-L\(nLayer)" + (nHead > 0 ? "-H\(nHead)" : "") }
        public static func < (a: Shape, b: Shape) -> Bool {
            (a.dModel, a.nLayer, a.nHead, a.contextLength) < (b.dModel, b.nLayer, b.nHead, b.contextLength)
        }
        init(_ s: ModelShape) { dModel = s.dModel; nLayer = s.nLayer; nHead = s.nHead; contextLength = s.contextLength }
    }

    public struct Key: Hashable, Sendable {
        public let arm: String, shape: Shape, vocabSize: Int
    }

    /// One strategy at one vocabulary: its final bpb over seeds, and mean cost per run.
    public struct Cell: Sendable {
        public let final: MeanSummary
        /// Mean over the cell's runs; nil when a run lacks it (older run folders).
        public let trainBytes: Double?
        public let trainFlops: Double?
        public let tokens: Double?
    }

    public let baseline: String
    public let level: Double
    public let arms: [String]
    public let shapes: [Shape]
    public let vocabularies: [Int]
    public let cells: [Key: Cell]
    /// `a.comparisons`: Δ = arm − baseline in final bits per byte (positive: the arm is worse), Holm-adjusted over
    /// the report's one family of comparisons.
    public let gaps: [Comparison]

    /// nil unless the analysis spans several vocabularies.
    public init?(_ a: GridAnalysis) {
        guard a.metric.acrossVocabularies else { return nil }
        baseline = a.baseline
        level = a.level
        arms = a.arms
        shapes = Set(a.sizes.map(Shape.init)).sorted()
        vocabularies = Set(a.sizes.map(\.vocabSize)).sorted()
        var cells = [Key: Cell]()
        for (key, c) in a.cells {
            func mean(_ f: (RunRecord) -> Double?) -> Double? {
                let v = c.runs.compactMap(f)
                return v.count == c.runs.count && !v.isEmpty ? v.reduce(0, +) / Double(v.count) : nil
            }
            cells[Key(arm: key.arm, shape: Shape(key.size), vocabSize: key.size.vocabSize)] = Cell(
                final: c.final, trainBytes: mean { $0.trainBytes.map(Double.init) }, trainFlops: mean(\.trainFlops),
                tokens: mean { $0.tokens.map(Double.init) })
        }
        self.cells = cells
        gaps = a.comparisons
    }

    public func cell(_ arm: String, _ shape: Shape, _ vocabSize: Int) -> Cell? {
        cells[Key(arm: arm, shape: shape, vocabSize: vocabSize)]
    }

    /// The gaps of one model shape, in the analysis' order (arm, then vocabulary).
    public func gaps(_ shape: Shape) -> [Comparison] { gaps.filter { Shape($0.size) == shape } }
}
