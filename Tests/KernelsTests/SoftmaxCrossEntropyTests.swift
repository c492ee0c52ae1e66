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

    func testForwardMatchesReference() {
        let (logits, targets) = data(seed: 41)
        let losses = zeros(rows), probs = zeros(rows * vocab)
        let mean = SoftmaxCrossEntropy.forward(
            losses: losses.p, probs: probs.p, logits: buffer(logits).p, targets: targets,
            rows: rows, vocab: vocab)
        let ref = crossEntropyReference(logits, targets, rows: rows, vocab: vocab)
        assertClose(losses.doubles, ref.losses, rtol: forwardRtol, atol: forwardAtol, "per-row losses")
        assertClose(probs.doubles, ref.probs, rtol: forwardRtol, atol: forwardAtol, "probabilities")
        XCTAssertEqual(mean, ref.losses.reduce(0, +) / Double(rows), accuracy: 1e-5 * mean)
    }

    /// Logits offset by +1000 (exp would overflow without max-subtraction) give the same, finite, result.
    func testForwardIsStableForLargeLogits() {
        let (logits, targets) = data(seed: 42)
        let shifted = logits.map { $0 + 1000 }
        let l1 = zeros(rows), p1 = zeros(rows * vocab), l2 = zeros(rows), p2 = zeros(rows * vocab)
        let m1 = SoftmaxCrossEntropy.forward(losses: l1.p, probs: p1.p, logits: buffer(logits).p, targets: targets, rows: rows, vocab: vocab)
        let m2 = SoftmaxCrossEntropy.forward(losses: l2.p, probs: p2.p, logits: buffer(shifted).p, targets: targets, rows: rows, vocab: vocab)
        XCTAssertTrue(m2.isFinite)
        // Float logits near 1000 carry ulp 6e-5, so the shifted problem itself differs by ~1e-4.
        XCTAssertEqual(m1, m2, accuracy: 1e-3)
        assertClose(p2.doubles, p1.doubles, rtol: 1e-3, atol: 1e-6, "shifted probabilities")
    }

    /// With scale = 1/N the backward is the gradient of the mean loss.
    func testBackwardMatchesFiniteDifferences() {
        let (logits, targets) = data(seed: 43)
        let losses = zeros(rows), probs = zeros(rows * vocab), dlogits = zeros(rows * vocab)
        SoftmaxCrossEntropy.forward(losses: losses.p, probs: probs.p, logits: buffer(logits).p, targets: targets, rows: rows, vocab: vocab)
        SoftmaxCrossEntropy.backward(dlogits: dlogits.p, probs: probs.p, targets: targets, rows: rows, vocab: vocab, scale: 1 / Float(rows))
        let fd = numericalGradient([logits], wrt: 0, weights: [1]) {
            [crossEntropyReference($0[0], targets, rows: self.rows, vocab: self.vocab).losses.reduce(0, +) / Double(self.rows)]
        }
        assertClose(dlogits.doubles, fd, rtol: gradRtol, atol: gradAtol, "dlogits")
    }

    /// dlogits = scale · (probs − onehot), overwriting whatever the buffer held: bit for bit the former
    /// zero-filled-then-accumulated result 0 + scale·p (then − scale at the target), and the same in place over probs.
    func testBackwardOverwritesAsZeroFillAndAccumulateDid() {
        for (rows, vocab) in [(6, 37), (1, 37), (5, 15), (3, 48), (1, 1)] {
            var rng = Xoshiro256(seed: UInt64(44 + vocab))
            let logits = buffer(randomValues(rows * vocab, &rng, scale: 3))
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let losses = zeros(rows), probs = zeros(rows * vocab)
            SoftmaxCrossEntropy.forward(losses: losses.p, probs: probs.p, logits: logits.p, targets: targets, rows: rows, vocab: vocab)
            let scale: Float = 0.37
            var expected = [Float](repeating: 0, count: rows * vocab)
            for i in expected.indices { expected[i] = Float(0) + scale * probs.p[i] }
            for r in 0..<rows { expected[r * vocab + Int(targets[r])] -= scale }

            let dlogits = filled(.nan, rows * vocab)
            SoftmaxCrossEntropy.backward(dlogits: dlogits.p, probs: probs.p, targets: targets, rows: rows, vocab: vocab, scale: scale)
            XCTAssertEqual(dlogits.floats.map(\.bitPattern), expected.map(\.bitPattern), "rows \(rows), vocab \(vocab)")

            SoftmaxCrossEntropy.backward(dlogits: probs.p, probs: probs.p, targets: targets, rows: rows, vocab: vocab, scale: scale)
            XCTAssertEqual(probs.floats.map(\.bitPattern), expected.map(\.bitPattern), "in place, rows \(rows), vocab \(vocab)")
        }
    }

    /// The loss alone (no probabilities stored, as in evaluation) is bit-identical to the loss with them: the sum of
    /// exponentials is the same loop. Vocabularies below, at and off a multiple of the 16 lanes; one row; odd rows.
    func testLossWithoutProbabilitiesIsBitIdentical() {
        for (rows, vocab) in [(6, 37), (1, 37), (7, 16), (3, 15), (5, 2051), (2, 1)] {
            var rng = Xoshiro256(seed: UInt64(50 + vocab))
            let logits = buffer(randomValues(rows * vocab, &rng, scale: 4, offset: 1))
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let withProbs = zeros(rows), alone = filled(.nan, rows)
            let m1 = SoftmaxCrossEntropy.forward(
                losses: withProbs.p, probs: zeros(rows * vocab).p, logits: logits.p, targets: targets, rows: rows, vocab: vocab)
            let m2 = SoftmaxCrossEntropy.forward(losses: alone.p, probs: nil, logits: logits.p, targets: targets, rows: rows, vocab: vocab)
            XCTAssertEqual(alone.floats.map(\.bitPattern), withProbs.floats.map(\.bitPattern), "rows \(rows), vocab \(vocab)")
            XCTAssertEqual(m2.bitPattern, m1.bitPattern, "mean, rows \(rows), vocab \(vocab)")
        }
    }

    /// A logit multiplier ≠ 1 (μP) scales the logits in place in the maximum's pass: logits, probabilities and losses
    /// are bit-identical to scaling the whole buffer first (`Elementwise.scale`) and running the loss at multiplier 1.
    /// A negative multiplier checks that the scaled tail's padding cannot win the maximum.
    func testMultiplierEqualsScalingFirst() {
        for (rows, vocab, multiplier) in [(6, 37, Float(0.37)), (1, 37, 2.5), (3, 15, -1.5), (5, 48, 0.125), (4, 21, -0.3)] {
            var rng = Xoshiro256(seed: UInt64(60 + vocab))
            let values = randomValues(rows * vocab, &rng, scale: 3)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            let scaledFirst = buffer(values), fused = buffer(values)
            let l1 = zeros(rows), p1 = zeros(rows * vocab), l2 = zeros(rows), p2 = zeros(rows * vocab)
            Elementwise.scale(scaledFirst.p, by: multiplier, count: rows * vocab)
            let m1 = SoftmaxCrossEntropy.forward(
                losses: l1.p, probs: p1.p, logits: scaledFirst.p, targets: targets, rows: rows, vocab: vocab)
            let m2 = SoftmaxCrossEntropy.forward(
                losses: l2.p, probs: p2.p, logits: fused.p, multiplier: multiplier, targets: targets, rows: rows, vocab: vocab)
            let shape = "rows \(rows), vocab \(vocab), multiplier \(multiplier)"
            XCTAssertEqual(fused.floats.map(\.bitPattern), scaledFirst.floats.map(\.bitPattern), "logits, " + shape)
            XCTAssertEqual(p2.floats.map(\.bitPattern), p1.floats.map(\.bitPattern), "probabilities, " + shape)
            XCTAssertEqual(l2.floats.map(\.bitPattern), l1.floats.map(\.bitPattern), "losses, " + shape)
            XCTAssertEqual(m2.bitPattern, m1.bitPattern, "mean, " + shape)
            // And against the Double reference of the scaled problem (a wrong maximum would still give a valid
            // softmax, so this checks the loss formula's max term too).
            let ref = crossEntropyReference(values.map { $0 * Double(multiplier) }, targets, rows: rows, vocab: vocab)
            assertClose(l2.doubles, ref.losses, rtol: forwardRtol, atol: forwardAtol, "losses vs reference, " + shape)
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
        let losses = zeros(n), probs = zeros(2 * n)
        SoftmaxCrossEntropy.forward(losses: losses.p, probs: probs.p, logits: buffer(logits).p, targets: targets, rows: n, vocab: 2)
        let expected = ts.map { exp(-$0) / (1 + exp(-$0)) }
        let got = (0..<n).map { Double(probs.p[2 * $0 + 1]) }
        assertClose(got, expected, rtol: 1e-6, atol: 0, "e^(−t)/(1 + e^(−t))")
    }
}
