import Foundation
import Kernels

/// Times every kernel on the shapes of the reference model (d = 256, T = 128, B = 16, 4 heads, V = 2048; N = B·T =
/// 2048 rows) and returns a table: ms per call (best of several), and GFLOP/s for matrix work or GB/s of compulsory
/// memory traffic for the rest. Each kernel is timed with 1 thread and, if more are set, with the current
/// `BLAS.threads` (sgemm and the row-parallel kernels both follow it); the setting is restored afterwards.
/// Run it from a release build; the header names the OpenBLAS kernel family in use.
public enum KernelBench {
    public static func run() -> String {
        let B = 16, T = 128, C = 256, H = 4, V = 2048, N = B * T
        var rng = Xoshiro256(seed: 7)
        var owned: [UnsafeMutablePointer<Float>] = []
        defer { owned.forEach { $0.deallocate() } }
        func buffer(_ n: Int, scale: Float = 1) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            for i in 0..<n { p[i] = scale * Float(rng.nextNormal()) }
            owned.append(p)
            return p
        }
        let x = buffer(N * C), y = buffer(N * C), dy = buffer(N * C), dx = buffer(N * C)
        let w = buffer(4 * C * C, scale: 0.02), dw = buffer(4 * C * C), bias = buffer(4 * C), dbias = buffer(4 * C)
        let lnw = buffer(C), lnb = buffer(C), dlnw = buffer(C), dlnb = buffer(C), mean = buffer(N), rstd = buffer(N)
        let h4 = buffer(N * 4 * C), g4 = buffer(N * 4 * C), dh4 = buffer(N * 4 * C), dg4 = buffer(N * 4 * C)
        let qkv = buffer(N * 3 * C), dqkv = buffer(N * 3 * C), att = buffer(B * H * T * T), datt = buffer(B * H * T * T)
        let headW = buffer(V * C, scale: 0.02), logits = buffer(N * V, scale: 2), dlogits = buffer(N * V)
        let losses = buffer(N)
        let targets = UnsafeMutablePointer<Int32>.allocate(capacity: N)
        defer { targets.deallocate() }
        for i in 0..<N { targets[i] = Int32(rng.nextInt(below: V)) }

        let maxThreads = BLAS.threads
        defer { BLAS.setThreads(maxThreads) }
        let settings = maxThreads > 1 ? [1, maxThreads] : [1]
        var lines = [
            "kernel timings, N = B·T = \(N) rows, d = \(C), T = \(T), \(H) heads, V = \(V); OpenBLAS core \(BLAS.coreName); best of several calls",
            "kernel".padding(toLength: 36, withPad: " ", startingAt: 0)
                + settings.map { "  ms (\($0) thr)         rate" }.joined(),
        ]
        /// Times `body` only; `before` runs untimed ahead of every call (e.g. an sgemm, to measure a kernel while
        /// OpenBLAS's worker threads are still spinning after a product, as in a training step).
        func time(_ name: String, flops: Double = 0, bytes: Double = 0, repeats: Int = 10, before: () -> Void = {}, _ body: () -> Void) {
            var line = name.padding(toLength: 36, withPad: " ", startingAt: 0)
            for threads in settings {
                BLAS.setThreads(threads)
                body()  // warm-up: page faults, OpenBLAS thread start-up
                var best = Double.infinity
                for _ in 0..<repeats {
                    before()
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    body()
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                let rate =
                    flops > 0
                    ? String(format: "%7.1f GFLOP/s", flops / best / 1e9)
                    : String(format: "%7.1f GB/s   ", bytes / best / 1e9)
                line += String(format: "%12.3f", best * 1e3) + "  " + rate
            }
            lines.append(line)
        }
        let f = Double(MemoryLayout<Float>.size)
        let nd = Double(N)

        // Matrix products, for scale.
        time("Linear.forward qkv 256→768", flops: 2 * nd * Double(C * 3 * C)) {
            Linear.forward(out: qkv, inp: x, weight: w, bias: bias, rows: N, inFeatures: C, outFeatures: 3 * C)
        }
        time("Linear.backward qkv (dinp, dW, db)", flops: 4 * nd * Double(C * 3 * C)) {
            Linear.backward(dinp: dx, dweight: dw, dbias: dbias, dout: qkv, inp: x, weight: w, rows: N, inFeatures: C, outFeatures: 3 * C)
        }
        time("Linear.forward LM head 256→2048", flops: 2 * nd * Double(C * V), repeats: 5) {
            Linear.forward(out: logits, inp: x, weight: headW, bias: nil, rows: N, inFeatures: C, outFeatures: V)
        }
        // Attention: 2 (forward) / 4 (backward) products of T·T·hs per head, computed over the full square.
        let attFlops = 2 * Double(B * H * T * T * (C / H))
        time("Attention.forward", flops: 2 * attFlops) {
            CausalSelfAttention.forward(out: y, att: att, qkv: qkv, batch: B, seq: T, channels: C, heads: H, scale: 0.125)
        }
        time("Attention.backward", flops: 4 * attFlops) {
            CausalSelfAttention.backward(dqkv: dqkv, datt: datt, dout: dy, qkv: qkv, att: att, batch: B, seq: T, channels: C, heads: H, scale: 0.125)
        }
        // Non-matrix work.
        let attBytes = Double(B * H * T * T) * f
        time("  of which causal softmax (fwd, 1 thread)", bytes: 2 * attBytes) {
            CausalSelfAttention.causalSoftmax(datt, seq: T, rows: 0..<(B * H * T))
        }
        time("  of which causal softmax (bwd, 1 thread)", bytes: 3 * attBytes) {
            CausalSelfAttention.causalSoftmaxBackward(datt, probs: att, seq: T, rows: 0..<(B * H * T))
        }
        time("LayerNorm.forward", bytes: 2 * nd * Double(C) * f) {
            LayerNorm.forward(out: y, mean: mean, rstd: rstd, inp: x, weight: lnw, bias: lnb, rows: N, features: C)
        }
        time("LayerNorm.backward", bytes: 4 * nd * Double(C) * f) {
            LayerNorm.backward(dinp: dx, dweight: dlnw, dbias: dlnb, dout: dy, inp: x, weight: lnw, mean: mean, rstd: rstd, rows: N, features: C)
        }
        time("GELU.forward (N×4d)", bytes: 2 * nd * Double(4 * C) * f) {
            GELU.forward(out: g4, inp: h4, count: N * 4 * C)
        }
        time(
            "GELU.forward right after an sgemm", bytes: 2 * nd * Double(4 * C) * f,
            before: {
                Linear.forward(out: qkv, inp: x, weight: w, bias: nil, rows: N, inFeatures: C, outFeatures: 3 * C)
            }
        ) {
            GELU.forward(out: g4, inp: h4, count: N * 4 * C)
        }
        time("GELU.backward (N×4d)", bytes: 4 * nd * Double(4 * C) * f) {
            GELU.backward(dinp: dh4, inp: h4, dout: dg4, count: N * 4 * C)
        }
        // The training forward works in place (logits → dlogits): each timed call gets a fresh copy, as the model's
        // buffer is fresh from the head product.
        time(
            "SoftmaxCrossEntropy.forward, with gradient", bytes: 2 * nd * Double(V) * f, repeats: 5,
            before: { dlogits.update(from: logits, count: N * V) }
        ) {
            SoftmaxCrossEntropy.forward(losses: losses, logits: dlogits, targets: targets, rows: N, vocab: V, gradientScale: 1 / Float(N))
        }
        time("SoftmaxCrossEntropy, loss only", bytes: nd * Double(V) * f, repeats: 5) {
            SoftmaxCrossEntropy.forward(losses: losses, logits: logits, targets: targets, rows: N, vocab: V)
        }
        time("Elementwise.add (N×d)", bytes: 3 * nd * Double(C) * f) { Elementwise.add(out: y, x, dy, count: N * C) }
        time("Elementwise.accumulate (N×d)", bytes: 3 * nd * Double(C) * f) { Elementwise.accumulate(into: dx, dy, count: N * C) }
        time("Elementwise.sumOfSquares (N×d)", bytes: nd * Double(C) * f) { _ = Elementwise.sumOfSquares(x, count: N * C) }
        time("Elementwise.allFinite (N×d)", bytes: nd * Double(C) * f) { _ = Elementwise.allFinite(x, count: N * C) }
        return lines.joined(separator: "\n")
    }
}
