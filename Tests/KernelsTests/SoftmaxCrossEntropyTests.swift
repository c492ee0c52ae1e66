import Foundation
import Kernels
import XCTest

/// Stable softmax and per-row negative log-likelihood in Double.
func crossEntropyReference(_ logits: [Double], _ targets: [Int32], rows: Int, vocab: Int) -> (losses: [Double], probs: [Double]) {
    var losses = [Double](), probs = [Double]()
    for n in 0..<rows {
        let row = Array(logits[(n * vocab)..<(n * vocab + vocab)])
        let m = row.max()!
        let lse = m + log(row.map { exp($0 - m) }.reduce(0, +))
        probs += row.map { exp($0 - lse) }
        losses.append(lse - row[Int(targets[n])])
    }
    return (losses, probs)
}

final class SoftmaxCrossEntropyTests: XCTestCase {
    // vocab = 37: two vector blocks and a tail.
    let rows = 6, vocab = 37

    func data(seed: UInt64, offset: Double = 0) -> (logits: [Double], targets: [Int32]) {
        var rng = Xoshiro256(seed: seed)
        let logits = randomValues(rows * vocab, &rng, scale: 3, offset: offset)
        let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
        return (logits, targets)
    }

    /// What a training forward leaves, over a copy of `logits`: the mean and per-row losses, and the gradient
    /// scale · (softmax − onehot(target)) in place of the logits.
    func trainingForward(
        _ logits: [Double], _ targets: [Int32], rows: Int, vocab: Int, multiplier: Float = 1, scale: Float = 1
    ) -> (mean: Double, losses: Buf, gradient: Buf) {
        let losses = zeros(rows), gradient = buffer(logits)
        let mean = SoftmaxCrossEntropy.forward(
            losses: losses.p, logits: gradient.p, multiplier: multiplier, targets: targets, rows: rows, vocab: vocab,
            gradientScale: scale)
        return (mean, losses, gradient)
    }

    /// softmax − onehot(target) from the Double reference's probabilities.
    func referenceGradient(_ probs: [Double], _ targets: [Int32], vocab: Int) -> [Double] {
        var gradient = probs
        for (r, t) in targets.enumerated() { gradient[r * vocab + Int(t)] -= 1 }
        return gradient
    }

    func testForwardMatchesReference() {
        let (logits, targets) = data(seed: 41)
        let training = trainingForward(logits, targets, rows: rows, vocab: vocab)
        let ref = crossEntropyReference(logits, targets, rows: rows, vocab: vocab)
        assertClose(training.losses.doubles, ref.losses, rtol: forwardRtol, atol: forwardAtol, "per-row losses")
        assertClose(
            training.gradient.doubles, referenceGradient(ref.probs, targets, vocab: vocab), rtol: forwardRtol, atol: forwardAtol,
            "probabilities − onehot")
        XCTAssertEqual(training.mean, ref.losses.reduce(0, +) / Double(rows), accuracy: 1e-5 * training.mean)
    }

    /// Logits offset by +1000 (exp would overflow without max-subtraction) give the same, finite, result.
    func testForwardIsStableForLargeLogits() {
        let (logits, targets) = data(seed: 42)
        let shifted = logits.map { $0 + 1000 }
        let plain = trainingForward(logits, targets, rows: rows, vocab: vocab)
        let large = trainingForward(shifted, targets, rows: rows, vocab: vocab)
        XCTAssertTrue(large.mean.isFinite)
        // Float logits near 1000 carry ulp 6e-5, so the shifted problem itself differs by ~1e-4.
        XCTAssertEqual(plain.mean, large.mean, accuracy: 1e-3)
        assertClose(large.gradient.doubles, plain.gradient.doubles, rtol: 1e-3, atol: 1e-6, "shifted gradient")
    }

    /// With scale = 1/N the gradient the training forward leaves is that of the mean loss.
    func testGradientMatchesFiniteDifferences() {
        let (logits, targets) = data(seed: 43)
        let training = trainingForward(logits, targets, rows: rows, vocab: vocab, scale: 1 / Float(rows))
        let fd = numericalGradient([logits], wrt: 0, weights: [1]) {
            [crossEntropyReference($0[0], targets, rows: self.rows, vocab: self.vocab).losses.reduce(0, +) / Double(self.rows)]
        }
        assertClose(training.gradient.doubles, fd, rtol: gradRtol, atol: gradAtol, "dlogits")
    }

    /// The gradient is scale · (e · (1/Σ)) off the target and that minus scale at it, to the bit (the former backward's
    /// formula, over stored probabilities before that). At scale 1 each entry off the target is p = e · (1/Σ) itself
    /// (1 · x is exact), and a second pass with another target gives p at the first one. Vocabularies below, at and
    /// off a multiple of the 16 lanes (the scalar tail), one row, two classes.
    func testGradientIsScaledProbabilitiesToTheBit() {
        for (rows, vocab) in [(6, 37), (1, 37), (5, 15), (3, 48), (4, 2)] {
            var rng = Xoshiro256(seed: UInt64(44 + vocab))
            let logits = randomValues(rows * vocab, &rng, scale: 3)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let others = targets.map { ($0 + 1) % Int32(vocab) }
            var probabilities = trainingForward(logits, targets, rows: rows, vocab: vocab).gradient.floats
            let second = trainingForward(logits, others, rows: rows, vocab: vocab).gradient.floats
            for r in 0..<rows { probabilities[r * vocab + Int(targets[r])] = second[r * vocab + Int(targets[r])] }
            let scale: Float = 0.37
            var expected = probabilities.map { scale * $0 }
            for r in 0..<rows { expected[r * vocab + Int(targets[r])] -= scale }
            let gradient = trainingForward(logits, targets, rows: rows, vocab: vocab, scale: scale).gradient.floats
            XCTAssertEqual(gradient.map(\.bitPattern), expected.map(\.bitPattern), "rows \(rows), vocab \(vocab)")
        }
    }

    /// The evaluation forward (no gradient scale: the logits stay, as sampling and the logit dump read them) gives the
    /// training forward's losses to the bit: the sum of exponentials is the same loop. The training forward leaves
    /// scale · (p − onehot): in [0, scale] off the target, in [−scale, 0] at it.
    /// Vocabularies below, at and off a multiple of the 16 lanes; one row; odd rows.
    func testEvaluationLossIsBitIdentical() {
        let scale: Float = 0.25
        for (rows, vocab) in [(6, 37), (1, 37), (7, 16), (3, 15), (5, 2051), (2, 1)] {
            var rng = Xoshiro256(seed: UInt64(50 + vocab))
            let values = randomValues(rows * vocab, &rng, scale: 4, offset: 1)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let training = trainingForward(values, targets, rows: rows, vocab: vocab, scale: scale)
            let logits = buffer(values), alone = filled(.nan, rows)
            let mean = SoftmaxCrossEntropy.forward(losses: alone.p, logits: logits.p, targets: targets, rows: rows, vocab: vocab)
            let shape = "rows \(rows), vocab \(vocab)"
            XCTAssertEqual(alone.floats.map(\.bitPattern), training.losses.floats.map(\.bitPattern), shape)
            XCTAssertEqual(mean.bitPattern, training.mean.bitPattern, "mean, " + shape)
            XCTAssertEqual(logits.floats, values.map { Float($0) }, "evaluation keeps the logits, " + shape)
            for r in 0..<rows {
                for (j, d) in training.gradient.floats[(r * vocab)..<((r + 1) * vocab)].enumerated() {
                    let bounds: ClosedRange<Float> = j == Int(targets[r]) ? -scale...0 : 0...scale
                    XCTAssertTrue(bounds.contains(d), "gradient \(d) at \(j), target \(targets[r]), " + shape)
                }
            }
        }
    }

    /// A logit multiplier ≠ 1 (μP) scales the logits in place in the maximum's pass: logits (evaluation), gradient
    /// (training) and losses are bit-identical to scaling the whole buffer first (`Elementwise.scale`) and running the
    /// loss at multiplier 1. A negative multiplier checks that the scaled tail's padding cannot win the maximum.
    func testMultiplierEqualsScalingFirst() {
        for (rows, vocab, multiplier) in [(6, 37, Float(0.37)), (1, 37, 2.5), (3, 15, -1.5), (5, 48, 0.125), (4, 21, -0.3)] {
            var rng = Xoshiro256(seed: UInt64(60 + vocab))
            let values = randomValues(rows * vocab, &rng, scale: 3)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let shape = "rows \(rows), vocab \(vocab), multiplier \(multiplier)"
            for gradientScale in [nil, multiplier / Float(rows)] {
                let scaledFirst = buffer(values), fused = buffer(values)
                let l1 = zeros(rows), l2 = zeros(rows)
                Elementwise.scale(scaledFirst.p, by: multiplier, count: rows * vocab)
                let m1 = SoftmaxCrossEntropy.forward(
                    losses: l1.p, logits: scaledFirst.p, targets: targets, rows: rows, vocab: vocab, gradientScale: gradientScale)
                let m2 = SoftmaxCrossEntropy.forward(
                    losses: l2.p, logits: fused.p, multiplier: multiplier, targets: targets, rows: rows, vocab: vocab,
                    gradientScale: gradientScale)
                let what = (gradientScale == nil ? "logits, " : "gradient, ") + shape
                XCTAssertEqual(fused.floats.map(\.bitPattern), scaledFirst.floats.map(\.bitPattern), what)
                XCTAssertEqual(l2.floats.map(\.bitPattern), l1.floats.map(\.bitPattern), "losses, " + what)
                XCTAssertEqual(m2.bitPattern, m1.bitPattern, "mean, " + what)
                // And against the Double reference of the scaled problem (a wrong maximum would still give a valid
                // softmax, so this checks the loss formula's max term too).
                let ref = crossEntropyReference(values.map { $0 * Double(multiplier) }, targets, rows: rows, vocab: vocab)
                assertClose(l2.doubles, ref.losses, rtol: forwardRtol, atol: forwardAtol, "losses vs reference, " + what)
            }
        }
    }

    /// The vectorised exp behind every softmax (and GELU), checked tightly on its own: rows [0, −t] for t across
    /// [0, 86] give probs[1] = e^(−t)/(1 + e^(−t)). Expected error ≈ 2 ulp (exp) + 2 ulp (sum, reciprocal, product)
    /// ≈ 2.4e-7 relative, so rtol 1e-6 (no absolute slack) catches a polynomial or range-reduction error well below
    /// what the 1e-5 forward tolerance would notice.
    func testExpAccuracy() {
        let n = 2000
        let ts = (0..<n).map { Double(Float(86.0 * Double($0) / Double(n - 1))) }
        let logits = ts.flatMap { t -> [Double] in [0, -t] }
        let targets = [Int32](repeating: 0, count: n)
        // Target 0, scale 1: the second column of the gradient is probs[1] itself.
        let gradient = trainingForward(logits, targets, rows: n, vocab: 2).gradient.floats
        let expected = ts.map { exp(-$0) / (1 + exp(-$0)) }
        let got = (0..<n).map { Double(gradient[2 * $0 + 1]) }
        assertClose(got, expected, rtol: 1e-6, atol: 0, "e^(−t)/(1 + e^(−t))")
    }
}
