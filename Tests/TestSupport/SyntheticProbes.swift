import Embeddings
import Foundation
import RunFormat

/// Synthetic `probes.json` files for `SyntheticGrid` runs (fixtures and tests of the report's probe section), written
/// with RunFormat's `ProbeReport`, with an empty per-snapshot metrics array (`snapshots`), which the report does not
/// read, and only the numeric settings.
///
/// The model, calibrated on real `ablate probe` output of tiny 200-step runs: the init table of a seed is the same
/// for every strategy that draws a Gaussian table (same seed → same table), with effective rank ≈ 0.98·D, isotropy
/// ≈ 0 and word-similarity ρ ≈ 0; `hashed` starts from its own n-gram table, `lowrank` from a rank-16 product. Frozen input tables (frozen-random,
/// hashed) end where they start. Trained tables lose effective rank, gain isotropy and a norm–frequency
/// correlation, and gain a small word-similarity ρ that grows with D (`wordSimilaritySignal` scales it). Remaining
/// drift is the share of the path still ahead when the table moves at speed min(1, f / 0.1)·e^(−f/τ) (warmup,
/// then decay) with τ growing with D (larger models settle later),
/// so some runs do not stabilise before the end.
enum SyntheticProbes {
    static let sets: [(name: String, inCorpus: Int, total: Int)] = [
        ("men", 1507, 3000), ("simlex999", 689, 999),
        ("wordsim353", 155, 353),
    ]

    /// The trainer's snapshot steps (declared once, in RunFormat).
    static func snapshotSteps(_ total: Int, count: Int = 12) -> [Int] { SnapshotFiles.plannedSteps(total: total, count: count) }

    static func frozenInput(_ strategy: String) -> Bool { strategy == "frozen-random" || strategy == "hashed" }

    static func write(
        strategy: String, dModel d: Int, nLayer: Int, nHead: Int, vocab v: Int, nonEmbedding: Int,
        seed: UInt64, steps total: Int, signal: Double, retrieval: Bool = false, id: String, to url: URL
    ) throws {
        let depth = log2(Double(d) / 64)
        // The init tables: shared by the strategies of one seed (hashed has its own).
        func initMetrics(_ kind: String) -> TableMetrics {
            let own = (strategy == "hashed" || strategy == "lowrank") && kind == "input"
            let tag = strategy == "lowrank" && own ? "lowrank-" : ""
            var rng = SplitMix64(SyntheticGrid.stableHash("init-\(tag)\(kind)-\(own)-\(d)-\(nLayer)-\(seed)"))
            let erank =
                strategy == "lowrank" && kind == "input"
                ? 15.2 + 0.1 * rng.normal()  // rank-16 product A·P
                : (own ? 0.80 : 0.983) * Double(d) + 0.002 * Double(d) * rng.normal()
            return metrics(
                rows: v, d: d, erank: erank,
                isotropy: (own ? 0.05 : 0) + 0.002 * rng.normal(), norm: 0.02 * Double(d).squareRoot(),
                normFreq: (own ? nil : 0.03 * rng.normal()),
                rho: { _ in (own ? 0.08 : 0.01) + 0.03 * rng.normal() })
        }
        var rng = SplitMix64(SyntheticGrid.stableHash("probe-\(id)"))
        func trainedMetrics(_ kind: String) -> TableMetrics {
            let out = kind == "output"
            let erank =
                !out && strategy == "lowrank"
                ? 13.5 + 0.3 * rng.normal()
                : Double(d) * (out ? 0.66 - 0.04 * depth : 0.93 - 0.05 * depth) + 0.01 * Double(d) * rng.normal()
            return metrics(
                rows: v, d: d, erank: erank, isotropy: (out ? 0.2 : 0.01) + 0.01 * rng.normal(),
                norm: out ? 0.45 : 0.19, normFreq: (out ? 0.1 : 0.3 + 0.05 * depth) + 0.05 * rng.normal(),
                rho: { _ in 0.01 + signal * 0.015 * (depth + 1) + 0.03 * rng.normal() })
        }
        func drift(_ kind: String, frozen: Bool) -> Drift {
            let steps = snapshotSteps(total)
            let f = steps.map { g(Double($0) / Double(total)) }
            if frozen {
                return Drift(
                    steps: steps, fractions: f, relativeChangeFromInit: f.map { _ in 0 }, cosineToFinal: f.map { _ in 1 },
                    relativeDistanceToFinal: f.map { _ in 0 }, remainingDrift: f.map { _ in nil }, totalDrift: 0,
                    frozen: true, stabilisedAt: nil, stabilisedAtCosine: nil)
            }
            let tau = (kind == "output" ? 1.2 : 1) * 0.15 * pow(1.8, depth) * exp(0.2 * rng.normal())
            let t = (kind == "output" ? 2.6 : 0.75) * exp(0.1 * rng.normal())
            // Speed of movement: the learning-rate warmup (first 10 % of training) times a decay with time constant
            // τ; the remaining drift is the share of the total path still ahead.
            let grid = 4000
            var progress = [Double](repeating: 0, count: grid + 1)
            for i in 1...grid {
                let x = (Double(i) - 0.5) / Double(grid)
                progress[i] = progress[i - 1] + min(1, x / 0.1) * exp(-x / tau) / Double(grid)
            }
            let r = f.map { x in max(0, 1 - progress[Int((x * Double(grid)).rounded())] / progress[grid]) }
            // A straight path from E_0 to E_T = E_0 + Δ with Δ ⟂ E_0, ‖E_0‖ = 1, ‖Δ‖ = t.
            let cos = r.map { r in (1 + (1 - r) * t * t) / ((1 + (1 - r) * (1 - r) * t * t) * (1 + t * t)).squareRoot() }
            func firstStable(_ ok: (Int) -> Bool) -> Double {
                var first = f.count - 1
                for i in f.indices.reversed() { if ok(i) { first = i } else { break } }
                return f[first]
            }
            return Drift(
                steps: steps, fractions: f, relativeChangeFromInit: r.map { g((1 - $0) * t) }, cosineToFinal: cos.map { g($0) },
                relativeDistanceToFinal: r.map { g($0 * t / (1 + t * t).squareRoot()) }, remainingDrift: r.map { g($0) },
                totalDrift: g(t), frozen: false, stabilisedAt: g(firstStable { r[$0] <= 0.1 }),
                stabilisedAtCosine: g(firstStable { cos[$0] >= 0.99 }))
        }
        let inInit = initMetrics("input"), outInit = initMetrics("output")
        let inFinal = frozenInput(strategy) ? inInit : trainedMetrics("input")
        let outFinal = trainedMetrics("output")
        let tensor = ((try? StrategyRegistry.type(named: strategy)) ?? LearnedEmbedding.self).checkpointNames.joined(separator: "·")
        let report = ProbeReport(
            format: ProbeReport.formatName, createdAt: "2026-11-25T09:00:00Z",
            run: .init(
                folder: id, strategy: strategy, corpus: "shakespeare", dModel: d, nLayer: nLayer, nHead: nHead, vocabSize: v,
                nonEmbeddingParameters: nonEmbedding, seed: Int(seed), tieEmbeddings: false, configHash: nil,
                status: "finished", totalSteps: total, step: total, finalValLoss: nil),
            settings: .init(
                isotropyPairs: 10000, isotropySeed: 0x150, driftThreshold: 0.1, cosineThreshold: 0.99,
                wordVector: nil, inCorpus: nil, effectiveRank: nil, seenTokens: nil, wordSets: nil),
            tables: .init(
                input: .init(tensor: tensor, shape: [v, d], final: inFinal, initial: inInit),
                output: .init(tensor: "lm_head.weight", shape: [v, d], final: outFinal, initial: outInit)),
            drift: .init(input: drift("input", frozen: frozenInput(strategy)), output: drift("output", frozen: false)),
            snapshots: [], notes: ["synthetic (TestSupport/SyntheticProbes.swift); per-snapshot metrics omitted"])
        var withRetrieval = report
        if retrieval { addRetrieval(&withRetrieval, strategy: strategy, d: d, seed: seed, total: total, rng: &rng) }
        try RunJSON.write(withRetrieval, to: url.appendingPathComponent(RunFiles.probes))
    }

    /// Retrieval MAPs shaped like the study's: the random table's MAP depends on the width only (shared seed), a trained
    /// table gains over it with D, frozen tables stay at their init; MAP over training rises like √fraction; the
    /// snapshots carry the final input metrics (the report reads only their MAP).
    static func addRetrieval(_ r: inout ProbeReport, strategy: String, d: Int, seed: UInt64, total: Int, rng: inout SplitMix64) {
        let depth = log2(Double(d) / 64)
        let random = g(0.040 + 0.002 * depth)
        var initRNG = SplitMix64(SyntheticGrid.stableHash("retrieval-init-\(d)-\(seed)"))
        let initial = g(random + 0.002 * initRNG.normal())
        let trained = frozenInput(strategy) ? initial : g(0.045 + 0.012 * (depth + 1) + 0.003 * rng.normal())
        r.retrieval = .init(
            passages: 1261, works: 42, passageLength: 64, perWork: 32, seed: 0x5E7, trained: trained, initial: initial,
            random: random, randomSeed: 0xB45E, cropped: d > 64 ? g(trained * 0.9) : nil, croppedWidth: d > 64 ? 64 : nil,
            padded: d < 256 ? g(trained + 0.002) : nil, paddedWidth: d < 256 ? 256 : nil, tfidf: 0.148, chance: 0.0312)
        r.snapshots = snapshotSteps(total).map { step in
            let f = Double(step) / Double(total)
            return .init(
                step: step, fraction: f, input: r.tables.input.final, output: nil,
                retrievalMAP: g(initial + (trained - initial) * f.squareRoot()))
        }
        let words = [" king", " love", " lord"]
        r.neighbours = words.enumerated().map { i, w in
            .init(
                word: w, token: 300 + i,
                nearest: (0..<8).map { k in .init(token: 400 + k, text: "\(strategy.prefix(2))\(w)\(k)", cosine: g(0.9 - 0.05 * Double(k))) })
        }
        r.neighboursSkipped = [" heaven"]
    }

    static func metrics(
        rows v: Int, d: Int, erank: Double, isotropy: Double, norm: Double, normFreq: Double?,
        rho: (String) -> Double
    ) -> TableMetrics {
        var ws = [String: WordSimilarityResult]()
        for s in sets {
            let r = max(-0.95, min(0.95, rho(s.name)))
            let all = r * 0.9
            func ci(_ r: Double, _ n: Int) -> [Double] {
                let z = atanh(r), se = (1.06 / Double(n - 3)).squareRoot()
                return [g(tanh(z - 1.959964 * se)), g(tanh(z + 1.959964 * se))]
            }
            ws[s.name] = WordSimilarityResult(
                rho: g(all), pairs: s.total, rhoInCorpus: g(r), pairsInCorpus: s.inCorpus,
                totalPairs: s.total, coverageInCorpus: g(Double(s.inCorpus) / Double(s.total)),
                rhoCI95: ci(all, s.total), rhoInCorpusCI95: ci(r, s.inCorpus))
        }
        return TableMetrics(
            rows: v, rowsSeen: Int(0.7 * Double(v)), effectiveRank: g(erank), effectiveRankSeen: g(erank * 0.99),
            effectiveRankRatio: g(erank / Double(d)), isotropy: g(isotropy), isotropySeen: g(isotropy * 1.1),
            meanRowNorm: g(norm), normFrequencySpearman: normFreq.map(g), wordSimilarity: ws)
    }

    /// `x` to 6 significant digits, as the synthetic files always stored it (stable, small files).
    static func g(_ x: Double) -> Double { Double(String(format: "%.6g", x))! }
}
