import Foundation
import RunFormat
import Trainer

/// Progress of one run: redrawn in place on a terminal, plain periodic lines otherwise (logs, CI).
final class TerminalProgress: TrainingObserver {
    let isTerminal = isatty(STDOUT_FILENO) != 0
    private var lastPlain = Date.distantPast
    let label: String

    init(label: String) { self.label = label }

    func trainer(didLog r: MetricsRecord, totalSteps: Int) {
        let pct = 100 * Double(r.step) / Double(max(totalSteps, 1))
        let eta = r.tokensPerSecond > 0 ? Double(totalSteps - r.step) * (Double(r.tokens) / Double(max(r.step, 1))) / r.tokensPerSecond : 0
        var line = String(format: "%@ %5.1f%%  step %d/%d  loss %.4f", label, pct, r.step, totalSteps, r.trainLoss ?? .nan)
        if let v = r.valLoss { line += String(format: "  val %.4f", v) }
        line += String(format: "  %.0f tok/s  ETA %@", r.tokensPerSecond, Self.duration(eta))
        if isTerminal {
            print("\r\u{1B}[2K" + line, terminator: r.step == totalSteps ? "\n" : "")
            fflush(stdout)
        } else if r.valLoss != nil || r.step == totalSteps || Date().timeIntervalSince(lastPlain) > 10 {
            print(line)
            fflush(stdout)
            lastPlain = Date()
        }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }
}
