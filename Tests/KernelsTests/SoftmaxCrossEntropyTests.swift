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

    /// What a training forward (`sums` given) leaves, over a copy of `logits`: the mean and per-row losses, the
    /// exponentials e = exp(logit − max) in place of the logits with their row sums, and the probabilities
    /// e · (1/Σ) formed from them as `backward` forms them.
    func trainingForward(
        _ logits: [Double], _ targets: [Int32], rows: Int, vocab: Int, multiplier: Float = 1
    ) -> (mean: Double, losses: Buf, exps: Buf, sums: Buf, probs: [Double]) {
        let losses = zeros(rows), exps = buffer(logits), sums = filled(.nan, rows)
        let mean = SoftmaxCrossEntropy.forward(
            losses: losses.p, sums: sums.p, logits: exps.p, multiplier: multiplier, targets: targets, rows: rows, vocab: vocab)
        let probs = (0..<(rows * vocab)).map { Double(exps.p[$0] * (1 / sums.p[$0 / vocab])) }
        return (mean, losses, exps, sums, probs)
    }

    func testForwardMatchesReference() {
        let (logits, targets) = data(seed: 41)
        let training = trainingForward(logits, targets, rows: rows, vocab: vocab)
        let ref = crossEntropyReference(logits, targets, rows: rows, vocab: vocab)
        assertClose(training.losses.doubles, ref.losses, rtol: forwardRtol, atol: forwardAtol, "per-row losses")
        assertClose(training.probs, ref.probs, rtol: forwardRtol, atol: forwardAtol, "probabilities")
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
        assertClose(large.probs, plain.probs, rtol: 1e-3, atol: 1e-6, "shifted probabilities")
    }

    /// With scale = 1/N the backward, in place over the forward's exponentials, is the gradient of the mean loss.
    func testBackwardMatchesFiniteDifferences() {
        let (logits, targets) = data(seed: 43)
        let training = trainingForward(logits, targets, rows: rows, vocab: vocab)
        SoftmaxCrossEntropy.backward(
            exponentials: training.exps.p, sums: training.sums.p, targets: targets, rows: rows, vocab: vocab, scale: 1 / Float(rows))
        let fd = numericalGradient([logits], wrt: 0, weights: [1]) {
            [crossEntropyReference($0[0], targets, rows: self.rows, vocab: self.vocab).losses.reduce(0, +) / Double(self.rows)]
        }
        assertClose(training.exps.doubles, fd, rtol: gradRtol, atol: gradAtol, "dlogits")
    }

    /// dlogits = scale · (e · (1/Σ)), then − scale at the target: bit for bit the gradient from stored probabilities
    /// p = e · (1/Σ) (what the loss wrote before it kept the exponentials instead), formed in place.
    func testBackwardIsScaledStoredProbabilities() {
        for (rows, vocab) in [(6, 37), (1, 37), (5, 15), (3, 48), (1, 1)] {
            var rng = Xoshiro256(seed: UInt64(44 + vocab))
            let logits = randomValues(rows * vocab, &rng, scale: 3)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let training = trainingForward(logits, targets, rows: rows, vocab: vocab)
            let scale: Float = 0.37
            var expected = [Float](repeating: 0, count: rows * vocab)
            for i in expected.indices {
                let p = training.exps.p[i] * (1 / training.sums.p[i / vocab])
                expected[i] = scale * p
            }
            for r in 0..<rows { expected[r * vocab + Int(targets[r])] -= scale }
            SoftmaxCrossEntropy.backward(
                exponentials: training.exps.p, sums: training.sums.p, targets: targets, rows: rows, vocab: vocab, scale: scale)
            XCTAssertEqual(training.exps.floats.map(\.bitPattern), expected.map(\.bitPattern), "rows \(rows), vocab \(vocab)")
        }
    }

    /// The evaluation forward (no sums: the logits stay, as sampling and the logit dump read them) gives the training
    /// forward's losses to the bit: the sum of exponentials is the same loop. The training forward leaves
    /// exp(logit − max): 1 exactly at each row's maximum, in (0, 1] elsewhere but for exp's underflow to 0.
    /// Vocabularies below, at and off a multiple of the 16 lanes; one row; odd rows.
    func testEvaluationLossIsBitIdentical() {
        for (rows, vocab) in [(6, 37), (1, 37), (7, 16), (3, 15), (5, 2051), (2, 1)] {
            var rng = Xoshiro256(seed: UInt64(50 + vocab))
            let values = randomValues(rows * vocab, &rng, scale: 4, offset: 1)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let training = trainingForward(values, targets, rows: rows, vocab: vocab)
            let logits = buffer(values), alone = filled(.nan, rows)
            let mean = SoftmaxCrossEntropy.forward(losses: alone.p, sums: nil, logits: logits.p, targets: targets, rows: rows, vocab: vocab)
            let shape = "rows \(rows), vocab \(vocab)"
            XCTAssertEqual(alone.floats.map(\.bitPattern), training.losses.floats.map(\.bitPattern), shape)
            XCTAssertEqual(mean.bitPattern, training.mean.bitPattern, "mean, " + shape)
            XCTAssertEqual(logits.floats, values.map { Float($0) }, "evaluation keeps the logits, " + shape)
            for r in 0..<rows {
                let row = Array(training.exps.floats[(r * vocab)..<((r + 1) * vocab)])
                let argmax = values[(r * vocab)..<((r + 1) * vocab)].indices.max { values[$0] < values[$1] }! - r * vocab
                XCTAssertEqual(row[argmax], 1, "exp(0) at the maximum, " + shape)
                XCTAssertTrue(row.allSatisfy { $0 >= 0 && $0 <= 1 }, "exponentials in [0, 1], " + shape)
            }
        }
    }

    /// A logit multiplier ≠ 1 (μP) scales the logits in place in the maximum's pass: logits (evaluation), exponentials
    /// (training) and losses are bit-identical to scaling the whole buffer first (`Elementwise.scale`) and running the
    /// loss at multiplier 1. A negative multiplier checks that the scaled tail's padding cannot win the maximum.
    func testMultiplierEqualsScalingFirst() {
        for (rows, vocab, multiplier) in [(6, 37, Float(0.37)), (1, 37, 2.5), (3, 15, -1.5), (5, 48, 0.125), (4, 21, -0.3)] {
            var rng = Xoshiro256(seed: UInt64(60 + vocab))
            let values = randomValues(rows * vocab, &rng, scale: 3)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let shape = "rows \(rows), vocab \(vocab), multiplier \(multiplier)"
            for training in [false, true] {
                let scaledFirst = buffer(values), fused = buffer(values)
                let l1 = zeros(rows), s1 = zeros(rows), l2 = zeros(rows), s2 = zeros(rows)
                Elementwise.scale(scaledFirst.p, by: multiplier, count: rows * vocab)
                let m1 = SoftmaxCrossEntropy.forward(
                    losses: l1.p, sums: training ? s1.p : nil, logits: scaledFirst.p, targets: targets, rows: rows, vocab: vocab)
                let m2 = SoftmaxCrossEntropy.forward(
                    losses: l2.p, sums: training ? s2.p : nil, logits: fused.p, multiplier: multiplier, targets: targets,
                    rows: rows, vocab: vocab)
                let what = (training ? "exponentials, " : "logits, ") + shape
                XCTAssertEqual(fused.floats.map(\.bitPattern), scaledFirst.floats.map(\.bitPattern), what)
                XCTAssertEqual(s2.floats.map(\.bitPattern), s1.floats.map(\.bitPattern), "sums, " + what)
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
        let probs = trainingForward(logits, targets, rows: n, vocab: 2).probs
        let expected = ts.map { exp(-$0) / (1 + exp(-$0)) }
        let got = (0..<n).map { probs[2 * $0 + 1] }
        assertClose(got, expected, rtol: 1e-6, atol: 0, "e^(−t)/(1 + e^(−t))")
    }
}
