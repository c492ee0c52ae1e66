import Foundation
import Stats

/// The best learning rate of every (arm, size) cell of a grid that sweeps `learning_rate`, chosen on the training
/// loss, never on the validation loss the report compares: choosing on the reported numbers would pick each arm's
/// luckiest evaluation and bias its loss downwards (the winner's curse), more for arms with more LRs or more noise.
/// Training batches are drawn from the training split, disjoint from the validation batches, so the evaluation
/// set's noise stays out of the choice. Seed noise does not: a run's training and validation loss share its
/// initialisation and data order, so the chosen rate's validation loss is still biased slightly downwards.
public struct LearningRateSelection: Sendable {
    /// One learning rate of one cell.
    public struct Candidate: Sendable {
        public let learningRate: Double
        /// Mean over the finished runs' selection losses; nil when no finished run has one.
        public let selectionLoss: Double?
        /// Final validation loss over the same finished runs (for the μTransfer figure only, never for the choice).
        public let finalValLoss: MeanSummary?
        public let finished: Int
        /// Runs at this LR that diverged or failed: such an LR is not eligible.
        public let failed: Int
        /// Runs at this LR that have not finished (still running, or stopped without a final state).
        public let unfinished: Int
        /// Set when this LR has unfinished runs while another LR of the cell has all its runs finished: its mean
        /// would rest on fewer seeds than the complete LR's, so the two are not compared.
        public internal(set) var waitsForRuns = false
        public var eligible: Bool { selectionLoss != nil && failed == 0 && !waitsForRuns }
    }

    /// The learning rates of one (arm, size) cell, ascending, and the chosen one.
    public struct Choice: Sendable {
        public let arm: String
        public let size: ModelShape
        public let candidates: [Candidate]
        /// nil when no learning rate is eligible.
        public let best: Double?
        /// The best LR is the smallest or largest tried in a cell that tried at least two: the optimum may lie outside.
        public var atEdge: Bool {
            guard let best, candidates.count >= 2 else { return false }
            return best == candidates.first!.learningRate || best == candidates.last!.learningRate
        }
    }

    /// Every learning rate in the grid, ascending.
    public let learningRates: [Double]
    public let choices: [GridAnalysis.CellKey: Choice]
    /// Runs left out because config.json does not record their learning rate.
    public let withoutLearningRate: [String]

    /// The share of the logged steps (the last ones) whose training loss is averaged.
    public static let selectionWindow = 0.1

    /// Mean of the finite training losses of the last 10 % of the logged steps (at least one): late enough to
    /// reflect the final model, long enough to average out batch-to-batch noise. nil when there is none.
    public static func selectionLoss(trainLosses: [Double]) -> Double? {
        let finite = trainLosses.filter(\.isFinite)
        guard !finite.isEmpty else { return nil }
        let k = max(1, Int((Double(finite.count) * selectionWindow).rounded(.up)))
        let tail = finite.suffix(k)
        return tail.reduce(0, +) / Double(tail.count)
    }

    init(runs: [RunRecord], armName: (RunRecord) -> String, level: Double) {
        let readable = runs.filter { $0.state != .unreadable }
        withoutLearningRate = readable.filter { $0.learningRate == nil }.map(\.id).sorted()
        let swept = readable.filter { $0.learningRate != nil }
        learningRates = Set(swept.map { $0.learningRate! }).sorted()
        var grouped = [GridAnalysis.CellKey: [Double: [RunRecord]]]()
        for r in swept {
            grouped[GridAnalysis.CellKey(arm: armName(r), size: r.shape), default: [:]][r.learningRate!, default: []].append(r)
        }
        var choices = [GridAnalysis.CellKey: Choice]()
        for (key, byRate) in grouped {
            var candidates = byRate.keys.sorted().map { lr -> Candidate in
                let rs = byRate[lr]!
                let finished = rs.filter { $0.state == .finished }
                let losses = finished.compactMap(\.selectionLoss)
                return Candidate(
                    learningRate: lr,
                    selectionLoss: losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count),
                    finalValLoss: finished.isEmpty ? nil : MeanSummary(finished.map { $0.finalValLoss! }, level: level),
                    finished: finished.count, failed: rs.filter { $0.state == .diverged || $0.state == .failed }.count,
                    unfinished: rs.filter { $0.state == .running }.count)
            }
            // While some rates of the cell are complete, a rate still waiting for runs is compared over fewer seeds:
            // leave it out until it completes. When every rate still waits, all are compared on what finished.
            if candidates.contains(where: { $0.eligible && $0.unfinished == 0 }) {
                for i in candidates.indices where candidates[i].unfinished > 0 { candidates[i].waitsForRuns = true }
            }
            // Lowest selection loss; a tie goes to the smaller learning rate (candidates are ascending).
            let best = candidates.filter(\.eligible).min { $0.selectionLoss! < $1.selectionLoss! }?.learningRate
            choices[key] = Choice(arm: key.arm, size: key.size, candidates: candidates, best: best)
        }
        self.choices = choices
    }

    /// The runs at their cell's best learning rate (all states, so the slice still sees what did not finish there).
    func tunedRuns(_ runs: [RunRecord], armName: (RunRecord) -> String) -> [RunRecord] {
        runs.filter { r in
            guard let lr = r.learningRate else { return false }
            return choices[GridAnalysis.CellKey(arm: armName(r), size: r.shape)]?.best == lr
        }
    }

    /// Every arm's runs at the baseline's best learning rate of the same size: the comparison a study with one LR,
    /// tuned for the baseline, would report.
    func sharedRuns(_ runs: [RunRecord], baseline: String, armName: (RunRecord) -> String) -> [RunRecord] {
        runs.filter { r in
            guard let lr = r.learningRate else { return false }
            return choices[GridAnalysis.CellKey(arm: baseline, size: r.shape)]?.best == lr
        }
    }

    /// The best learning rate of `arm` at each size that has one, sizes ascending.
    func bestByWidth(_ arm: String, sizes: [ModelShape]) -> [(size: ModelShape, lr: Double)] {
        sizes.compactMap { s in choices[GridAnalysis.CellKey(arm: arm, size: s)]?.best.map { (s, $0) } }
    }

    /// The finest spacing of the swept learning rates in decades (the resolution of any statement about the optimum).
    var resolutionDecades: Double? {
        let logs = learningRates.map(log10)
        return zip(logs.dropFirst(), logs).map { $0 - $1 }.min()
    }
}
