import Embeddings
import Foundation
import RunFormat

/// Synthetic `probes.json` files for `SyntheticGrid` runs (fixtures and tests of the report's probe section), in
/// the format of `Sources/Probes/README.md` minus the per-snapshot metrics array (`snapshots`), which the report
/// does not read (keeps the committed fixtures small).
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
    static let sets: [(name: String, inCorpus: Int, total: Int)] = [("men", 1507, 3000), ("simlex999", 689, 999),
                                                                     ("wordsim353", 155, 353)]

    /// The trainer's snapshot steps (declared once, in RunFormat).
    static func snapshotSteps(_ total: Int, count: Int = 12) -> [Int] { SnapshotFiles.plannedSteps(total: total, count: count) }

    static func frozenInput(_ strategy: String) -> Bool { strategy == "frozen-random" || strategy == "hashed" }

    static func write(strategy: String, dModel d: Int, nLayer: Int, nHead: Int, vocab v: Int, nonEmbedding: Int,
                      seed: UInt64, steps total: Int, signal: Double, id: String, to url: URL) throws {
        let depth = log2(Double(d) / 64)
        // The init tables: shared by the strategies of one seed (hashed has its own).
        func initMetrics(_ kind: String) -> J {
            let own = (strategy == "hashed" || strategy == "lowrank") && kind == "input"
            let tag = strategy == "lowrank" && own ? "lowrank-" : ""
            var rng = SplitMix64(SyntheticGrid.stableHash("init-\(tag)\(kind)-\(own)-\(d)-\(nLayer)-\(seed)"))
            let erank = strategy == "lowrank" && kind == "input" ? 15.2 + 0.1 * rng.normal()  // rank-16 product A·P
                : (own ? 0.80 : 0.983) * Double(d) + 0.002 * Double(d) * rng.normal()
            return metrics(rows: v, d: d, erank: erank,
                           isotropy: (own ? 0.05 : 0) + 0.002 * rng.normal(), norm: 0.02 * Double(d).squareRoot(),
                           normFreq: (own ? nil : 0.03 * rng.normal()),
                           rho: { _ in (own ? 0.08 : 0.01) + 0.03 * rng.normal() })
        }
        var rng = SplitMix64(SyntheticGrid.stableHash("probe-\(id)"))
        func trainedMetrics(_ kind: String) -> J {
            let out = kind == "output"
            let erank = !out && strategy == "lowrank" ? 13.5 + 0.3 * rng.normal()
                : Double(d) * (out ? 0.66 - 0.04 * depth : 0.93 - 0.05 * depth) + 0.01 * Double(d) * rng.normal()
            return metrics(rows: v, d: d, erank: erank, isotropy: (out ? 0.2 : 0.01) + 0.01 * rng.normal(),
                           norm: out ? 0.45 : 0.19, normFreq: (out ? 0.1 : 0.3 + 0.05 * depth) + 0.05 * rng.normal(),
                           rho: { _ in 0.01 + signal * 0.015 * (depth + 1) + 0.03 * rng.normal() })
        }
        func drift(_ kind: String, frozen: Bool) -> J {
            let steps = snapshotSteps(total)
            let f = steps.map { Double($0) / Double(total) }
            if frozen {
                return .obj(["cosine_to_final": .arr(f.map { _ in .num(1) }), "fractions": .arr(f.map { .num($0) }),
                             "frozen": .bool(true), "relative_change_from_init": .arr(f.map { _ in .num(0) }),
                             "relative_distance_to_final": .arr(f.map { _ in .num(0) }),
                             "remaining_drift": .arr(f.map { _ in .null }), "steps": .arr(steps.map { .int($0) }),
                             "total_drift": .num(0)])
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
            return .obj(["cosine_to_final": .arr(cos.map { .num($0) }), "fractions": .arr(f.map { .num($0) }),
                         "frozen": .bool(false), "relative_change_from_init": .arr(r.map { .num((1 - $0) * t) }),
                         "relative_distance_to_final": .arr(r.map { .num($0 * t / (1 + t * t).squareRoot()) }),
                         "remaining_drift": .arr(r.map { .num($0) }),
                         "stabilised_at": .num(firstStable { r[$0] <= 0.1 }),
                         "stabilised_at_cosine": .num(firstStable { cos[$0] >= 0.99 }),
                         "steps": .arr(steps.map { .int($0) }), "total_drift": .num(t)])
        }
        let inInit = initMetrics("input"), outInit = initMetrics("output")
        let inFinal = frozenInput(strategy) ? inInit : trainedMetrics("input")
        let outFinal = trainedMetrics("output")
        let tensor = ((try? StrategyRegistry.type(named: strategy)) ?? LearnedEmbedding.self).checkpointNames.joined(separator: "·")
        let json: J = .obj([
            "created_at": .str("2026-11-25T09:00:00Z"),
            "drift": .obj(["input": drift("input", frozen: frozenInput(strategy)), "output": drift("output", frozen: false)]),
            "format": .str("ablate-probes-1"),
            "notes": .arr([.str("synthetic (Report/SyntheticProbes.swift); per-snapshot metrics omitted")]),
            "run": .obj(["corpus": .str("shakespeare"), "d_model": .int(d), "folder": .str(id), "n_head": .int(nHead),
                         "n_layer": .int(nLayer), "non_embedding_parameters": .int(nonEmbedding), "seed": .int(Int(seed)),
                         "status": .str("finished"), "step": .int(total), "strategy": .str(strategy),
                         "tie_embeddings": .bool(false), "total_steps": .int(total), "vocab_size": .int(v)]),
            "settings": .obj(["cosine_threshold": .num(0.99), "drift_threshold": .num(0.1),
                              "isotropy_pairs": .int(10000), "isotropy_seed": .int(0x150)]),
            "tables": .obj(["input": .obj(["final": inFinal, "init": inInit, "shape": .arr([.int(v), .int(d)]),
                                           "tensor": .str(tensor)]),
                            "output": .obj(["final": outFinal, "init": outInit, "shape": .arr([.int(v), .int(d)]),
                                            "tensor": .str("lm_head.weight")])]),
        ])
        try (json.text(indent: "") + "\n").write(to: url.appendingPathComponent("probes.json"), atomically: true,
                                                 encoding: .utf8)
    }

    static func metrics(rows v: Int, d: Int, erank: Double, isotropy: Double, norm: Double, normFreq: Double?,
                        rho: (String) -> Double) -> J {
        var ws = [String: J]()
        for s in sets {
            let r = max(-0.95, min(0.95, rho(s.name)))
            let all = r * 0.9
            func ci(_ r: Double, _ n: Int) -> J {
                let z = atanh(r), se = (1.06 / Double(n - 3)).squareRoot()
                return .arr([.num(tanh(z - 1.959964 * se)), .num(tanh(z + 1.959964 * se))])
            }
            ws[s.name] = .obj(["coverage_in_corpus": .num(Double(s.inCorpus) / Double(s.total)), "pairs": .int(s.total),
                               "pairs_in_corpus": .int(s.inCorpus), "rho": .num(all), "rho_ci95": ci(all, s.total),
                               "rho_in_corpus": .num(r), "rho_in_corpus_ci95": ci(r, s.inCorpus),
                               "total_pairs": .int(s.total)])
        }
        var m: [String: J] = ["effective_rank": .num(erank), "effective_rank_ratio": .num(erank / Double(d)),
                              "effective_rank_seen": .num(erank * 0.99), "isotropy": .num(isotropy),
                              "isotropy_seen": .num(isotropy * 1.1), "mean_row_norm": .num(norm),
                              "rows": .int(v), "rows_seen": .int(Int(0.7 * Double(v))), "word_similarity": .obj(ws)]
        if let normFreq { m["norm_frequency_spearman"] = .num(normFreq) }
        return .obj(m)
    }

    /// A minimal JSON writer: sorted keys, numbers with 6 significant digits (stable, small files).
    indirect enum J {
        case num(Double), int(Int), str(String), bool(Bool), null, arr([J]), obj([String: J])
        func text(indent: String) -> String {
            switch self {
            case .num(let x): return String(format: "%.6g", x)
            case .int(let i): return String(i)
            case .str(let s): return "\"\(s)\""
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            case .arr(let a): return "[" + a.map { $0.text(indent: indent) }.joined(separator: ", ") + "]"
            case .obj(let o):
                let inner = indent + "  "
                return "{\n" + o.keys.sorted().map { "\(inner)\"\($0)\": \(o[$0]!.text(indent: inner))" }
                    .joined(separator: ",\n") + "\n\(indent)}"
            }
        }
    }
}
