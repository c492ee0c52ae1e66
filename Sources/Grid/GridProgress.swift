import Foundation
import RunFormat
import Trainer

/// Progress of a grid: one overall line (runs done/total, tokens, ETA) and one line per active run (step, loss,
/// tokens/s). On a terminal the block is redrawn in place; otherwise (logs, CI) events are printed as they happen
/// and the block every `plainInterval` seconds.
final class GridProgress {
    let gridName: String, total: Int, totalTokens: Int, isTerminal: Bool, plainInterval: Double
    let output: (String) -> Void
    private var drawnLines = 0
    private var lastPlain = Date()
    private var lastBlock: [String] = []

    init(gridName: String, total: Int, totalTokens: Int, isTerminal: Bool, plainInterval: Double, output: @escaping (String) -> Void) {
        self.gridName = gridName; self.total = total; self.totalTokens = totalTokens; self.isTerminal = isTerminal
        self.plainInterval = plainInterval; self.output = output
    }

    /// A one-off line (started, finished, failed): above the live block on a terminal.
    func event(_ line: String) {
        if isTerminal {
            erase()
            output(line)
            redraw()
        } else {
            output("[\(gridName)] \(line)")
        }
    }

    func update(done: Int, failed: Int, tokens: Int, elapsed: Double, eta: Double, active: [(id: String, steps: Int, last: MetricsRecord?)]) {
        var lines = [
            String(
                format: "grid %@: %d/%d runs done%@, %@/%@ tokens, %@ elapsed, ETA %@",
                gridName, done, total, failed > 0 ? ", \(failed) failed" : "",
                GridPlan.count(Double(tokens)), GridPlan.count(Double(totalTokens)),
                GridPlan.duration(elapsed), GridPlan.duration(eta))
        ]
        for a in active {
            if let r = a.last {
                lines.append(
                    String(
                        format: "  %@  step %d/%d  loss %.4f%@  %.0f tok/s", a.id, r.step, a.steps, r.trainLoss ?? .nan,
                        r.valLoss.map { String(format: "  val %.4f", $0) } ?? "", r.tokensPerSecond))
            } else {
                lines.append("  \(a.id)  starting")
            }
        }
        lastBlock = lines
        if isTerminal {
            erase(); redraw()
        } else if Date().timeIntervalSince(lastPlain) >= plainInterval {
            lastPlain = Date()
            for l in lines { output("[\(gridName)] " + l.trimmingCharacters(in: .whitespaces)) }
        }
    }

    func finish() {
        if isTerminal { erase(); for l in lastBlock.prefix(1) { output(l) } } else if let first = lastBlock.first { output("[\(gridName)] " + first) }
    }

    private func erase() {
        guard drawnLines > 0 else { return }
        var s = ""
        for _ in 0..<drawnLines { s += "\u{1B}[1A\u{1B}[2K" }
        FileHandle.standardOutput.write(Data(s.utf8))
        drawnLines = 0
    }

    private func redraw() {
        for l in lastBlock { output(l) }
        drawnLines = lastBlock.count
    }
}
