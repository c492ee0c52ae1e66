import ArgumentParser
import Benchmarks
import Dataset
import Foundation
import Kernels
import Probes
import RunFormat
import TensorFile
import Trainer

/// `ablate probe`: embedding probes of finished runs (geometry, word similarity, drift) → probes.json.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe the embedding tables of a run (or of every finished run under a folder) and write probes.json.",
        discussion: """
            RUN is a run folder, or a folder of runs (e.g. runs/<grid>): every finished run below it is probed. \
            Measures, for the input table and the output head, at the final checkpoint and at every snapshot: \
            effective rank, isotropy, Spearman ρ of row norm with token frequency, and Spearman ρ with human \
            word-similarity scores (WordSim-353, SimLex-999, MEN, … from $ABLATE_HOME/wordsim, fetched by `make data`); \
            and the drift of each table over the snapshots with its stabilisation point. Retrieval: mean average \
            precision of the input table alone (mean-pooled 64-token passages of each work's validation text, \
            relevant = same work) for the trained table, its init, a shared-seed xavier-normal table, the table \
            cropped to the smallest and padded to the largest d_model among the runs probed (or --crop-width / \
            --pad-width), a TF-IDF bag-of-tokens baseline, and at every snapshot; nearest tokens of a few frequent words. \
            The format of probes.json is documented in Sources/Probes/README.md.
            """)

    @Argument(help: ArgumentHelp("A run folder, or a folder holding run folders.", valueName: "run")) var path: String?
    @Flag(help: "Time the probes on a random table instead (see --rows/--cols).") var bench = false
    @Option(help: "Benchmark table rows.") var rows = 8192
    @Option(help: "Benchmark table columns.") var cols = 512
    @Option(help: "Word-similarity folder (default: $ABLATE_HOME/wordsim).") var wordsim: String?
    @Option(help: "Random token pairs for isotropy.") var pairs = 10_000
    @Flag(help: "Probe runs that are not finished too (their latest checkpoint).") var unfinished = false
    @Flag(help: "Re-probe runs whose probes.json is newer than their latest checkpoint (older probes.json without retrieval are re-probed anyway).")
    var force = false
    @Option(help: "OpenBLAS threads per probe.") var threads = 1
    @Option(help: "Runs probed at once, at most one per core (default: one per core at --threads 1). A run's numbers do not depend on it.")
    var jobs: Int?
    @Option(help: "Retrieval: crop tables to this many columns (default: the smallest d_model among the runs probed).")
    var cropWidth: Int?
    @Option(help: "Retrieval: pad tables to this many columns (default: the largest d_model among the runs probed).")
    var padWidth: Int?

    func validate() throws {
        if !bench && path == nil { throw ValidationError("give a run folder (or --bench)") }
        if !(1...100_000_000).contains(pairs) { throw ValidationError("--pairs must be in 1…100000000, got \(pairs)") }
        if !(2...1 << 20).contains(rows) { throw ValidationError("--rows must be in 2…\(1 << 20), got \(rows)") }
        if !(1...1 << 16).contains(cols) { throw ValidationError("--cols must be in 1…\(1 << 16), got \(cols)") }
        if rows * cols > 1 << 28 { throw ValidationError("--rows × --cols must be at most \(1 << 28) values (1 GiB), got \(rows) × \(cols)") }
        if !(1...1024).contains(threads) { throw ValidationError("--threads must be in 1…1024, got \(threads)") }
        try ConcurrentRuns.validate(jobs: jobs, threads: threads)
        for (name, w) in [("--crop-width", cropWidth), ("--pad-width", padWidth)] {
            if let w, !(1...1 << 16).contains(w) { throw ValidationError("\(name) must be in 1…\(1 << 16), got \(w)") }
        }
    }

    func run() throws {
        BLAS.setThreads(threads)
        if bench { return try runBench() }
        let root = URL(fileURLWithPath: path!)
        let folders = try Self.runFolders(root)
        guard !folders.isEmpty else {
            throw CLIError("\(root.path): holds no run folder (no config.json found). Fix: give a run folder or runs/<grid>.")
        }
        let home = AblateHome.fromEnvironment()
        let wordsimURL = wordsim.map { URL(fileURLWithPath: $0) } ?? home.url.appendingPathComponent("wordsim")
        let sets = try WordPairSet.loadAll(from: wordsimURL)
        if sets.isEmpty { print("note: no word-similarity sets in \(wordsimURL.path) (run `make data`); word similarity skipped") }
        var corpora: [String: ProbeCorpus] = [:]
        var probed = 0, skipped = 0
        // One unreadable config.json must not stop the probe of a whole grid: that folder is named and left out.
        var configs = [URL: ResolvedRunConfig]()
        var unreadable = 0
        for folder in folders {
            do {
                configs[folder] = try RunJSON.read(ResolvedRunConfig.self, from: folder.appendingPathComponent(RunFiles.config))
            } catch {
                if folders.count == 1 { throw error }
                print("skipped \(folder.path): \(error)")
                unreadable += 1
            }
        }
        let widths = configs.values.map(\.model.dModel)
        let crop = cropWidth ?? widths.min(), pad = padWidth ?? widths.max()
        var tasks: [(folder: URL, corpus: String)] = []
        for folder in folders {
            guard let resolved = configs[folder] else { continue }
            let status = RunFolder(folder).readStatus()?.state
            if status != .finished && !unfinished && folders.count > 1 { skipped += 1; continue }
            if !force && folders.count > 1, Self.isUpToDate(folder) { skipped += 1; continue }
            let config = resolved.config
            let key = "\(config.corpus)|\(config.vocabSize)"
            if corpora[key] == nil {
                let prepared = try DataLoading.prepare(config)
                let encoder = WordEncoder(
                    tokenizer: prepared.tokenizer,
                    corpusWords: WordEncoder.words(of: prepared.tokenizer.decode(prepared.train)))
                let works = try Corpus.splitWorks("val", name: CorpusReference.preparedName(config.corpus), home: home)
                let retrieval = RetrievalCorpus(works: works.map { prepared.tokenizer.encode($0.bytes) })
                // Relevance is "same work": with fewer than two works holding a passage every passage is relevant.
                let usable = retrieval.works >= 2
                corpora[key] = ProbeCorpus(
                    tokenCounts: ProbeCorpus.counts(of: prepared.train, vocabSize: prepared.vocabSize),
                    wordSets: sets.map { EncodedWordPairSet($0, encoder: encoder) },
                    retrieval: usable ? retrieval : nil, tokenizer: prepared.tokenizer)
                if !usable {
                    print(
                        "note: retrieval skipped: the validation text of \(config.corpus) has \(retrieval.works) work(s) of at least "
                            + "\(RetrievalCorpus.passageLength) tokens; passages of two or more works are needed (relevant = same work)")
                }
            }
            tasks.append((folder, key))
        }
        let failures = Self.probeConcurrently(
            tasks, corpora: corpora, jobs: jobs ?? ConcurrentRuns.defaultJobs(threads: threads)
        ) { folder in
            var probe = RunProbe(folder: folder, load: Self.loadTensors)
            probe.settings.isotropyPairs = pairs
            probe.cropWidth = crop
            probe.padWidth = pad
            return probe
        }
        probed = tasks.count - failures.count
        if folders.count > 1 {
            print(
                "probed \(probed) run(s), skipped \(skipped) (unfinished or already probed; --unfinished / --force)"
                    + (unreadable > 0 ? ", \(unreadable) with an unreadable config.json (named above)" : "") + "\n")
            print(Self.table(folders.compactMap { try? RunProbe.read($0) }))
        }
        if !failures.isEmpty {
            if let lone = ConcurrentRuns.loneFailure(failures, tasks: tasks.count, task: tasks[0].folder, given: root) { throw lone }
            throw CLIError(
                "\(failures.count) of \(tasks.count) run(s) under \(root.path) could not be probed (named above); the others were. "
                    + "Fix: see each message, then probe again (runs already probed are skipped).")
        }
        if unreadable > 0 {
            throw CLIError(
                "\(unreadable) run folder(s) under \(root.path) have an unreadable config.json (named above); the others were probed. "
                    + "Fix: repair or remove those folders, then probe again.")
        }
    }

    /// Probes `tasks` (run folder, key into `corpora`) on `jobs` threads at once (`ConcurrentRuns`), each run writing
    /// its own probes.json and printing its summary; a failing run's error is printed in its place and returned. Every
    /// run's numbers are the same as when probed alone: the probes share only read-only data.
    static func probeConcurrently(
        _ tasks: [(folder: URL, corpus: String)], corpora: [String: ProbeCorpus], jobs: Int, makeProbe: (URL) -> RunProbe
    ) -> [Error] {
        ConcurrentRuns.forEach(count: tasks.count, jobs: jobs) { i in
            let (folder, key) = tasks[i]
            let t0 = DispatchTime.now().uptimeNanoseconds
            do {
                let report = try makeProbe(folder).probe(corpus: corpora[key]!)
                try RunProbe.write(report, to: folder)
                let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                let path = folder.appendingPathComponent(ProbeReport.fileName).path
                return (Self.summary(report) + "\n" + String(format: "→ %@ (%.1f s)\n", path, dt), nil)
            } catch {
                return ("failed \(folder.path): \(error)\n", error)
            }
        }
    }

    /// One line per probed run: the headline numbers side by side (input table / output head).
    static func table(_ reports: [ProbeReport]) -> String {
        func f(_ x: Double?, _ spec: String) -> String { x.map { String(format: spec, $0) } ?? "–" }
        func pair(_ a: String, _ b: String?) -> String { b.map { "\(a)/\($0)" } ?? a }
        let header = ["run", "strategy", "d", "loss", "erank in/out", "iso in/out", "simlex ρ in/out", "men ρ in/out", "stable in/out", "MAP"]
        var rows = [header]
        for r in reports.sorted(by: { ($0.run.strategy, $0.run.dModel, $0.run.seed) < ($1.run.strategy, $1.run.dModel, $1.run.seed) }) {
            let i = r.tables.input.final, o = r.tables.output?.final
            func stable(_ d: Drift?) -> String? { d.map { $0.frozen ? "frozen" : f($0.stabilisedAt, "%.2f") } }
            rows.append([
                URL(fileURLWithPath: r.run.folder).lastPathComponent, r.run.strategy, "\(r.run.dModel)", f(r.run.finalValLoss, "%.3f"),
                pair(f(i.effectiveRank, "%.0f"), o.map { f($0.effectiveRank, "%.0f") }),
                pair(f(i.isotropySeen, "%.2f"), o.map { f($0.isotropySeen, "%.2f") }),
                pair(f(i.wordSimilarity["simlex999"]?.rhoInCorpus, "%.2f"), o.map { f($0.wordSimilarity["simlex999"]?.rhoInCorpus, "%.2f") }),
                pair(f(i.wordSimilarity["men"]?.rhoInCorpus, "%.2f"), o.map { f($0.wordSimilarity["men"]?.rhoInCorpus, "%.2f") }),
                pair(stable(r.drift.input) ?? "–", stable(r.drift.output)), f(r.retrieval?.trained, "%.3f"),
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in row.enumerated().map { $1.padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0) }.joined() }
            .joined(separator: "\n")
            + "\n(ρ: in-corpus pairs; MAP: retrieval by the input table alone; stable: fraction of training after which the table stays within 10 % of its total drift from the final table)"
    }

    func runBench() throws {
        print("probing a random \(rows) × \(cols) table (1 thread unless --threads) …")
        let r = try ProbeBench.run(rows: rows, cols: cols)
        print(String(format: "singular values (Gram + eigen)  %.3f s", r.singularValues))
        print(String(format: "isotropy (10,000 pairs)         %.3f s", r.isotropy))
        print(String(format: "norm–frequency Spearman         %.3f s", r.normFrequency))
        print(String(format: "word similarity (3 × 1,000)     %.3f s", r.wordSimilarity))
        print(String(format: "all metrics of one table        %.3f s", r.all))
        print(String(format: "retrieval: %d passages + TF-IDF  %.3f s (once per tokenizer)", r.passages, r.retrievalSetup))
        print(String(format: "retrieval MAP of one table      %.3f s (each snapshot)", r.retrievalOne))
        print(String(format: "retrieval, all variants of a run %.3f s (trained, init, random, cropped, padded)", r.retrievalRun))
    }

    /// The folder itself if it is a run, else every run folder below it (sorted).
    static func runFolders(_ root: URL) throws -> [URL] {
        let fm = FileManager.default
        if fm.fileExists(atPath: root.appendingPathComponent(RunFiles.config).path) { return [root] }
        guard let e = fm.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw CLIError("\(root.path): no such folder. Fix: give a run folder or runs/<grid>.")
        }
        var out: [URL] = []
        for case let url as URL in e {
            if ["checkpoints", "snapshots"].contains(url.lastPathComponent) { e.skipDescendants(); continue }
            if url.lastPathComponent == RunFiles.config { out.append(url.deletingLastPathComponent()) }
        }
        return out.sorted { $0.path < $1.path }
    }

    /// probes.json exists, is newer than the latest checkpoint, and was written by a probe that lists neighbours
    /// (older ones lack retrieval too, so they are probed again).
    static func isUpToDate(_ folder: URL) -> Bool {
        guard (try? RunProbe.read(folder))?.neighbours != nil else { return false }
        let fm = FileManager.default
        guard let p = try? fm.attributesOfItem(atPath: folder.appendingPathComponent(ProbeReport.fileName).path)[.modificationDate] as? Date,
            let ck = try? RunProbe.latestCheckpoint(folder),
            let c = try? fm.attributesOfItem(atPath: ck.path)[.modificationDate] as? Date
        else { return false }
        return p > c
    }

    /// Safetensors (F32 or F16) → 2-D tensors by name.
    static func loadTensors(_ url: URL) throws -> [String: ProbeMatrix] {
        let (tensors, _) = try Safetensors.decode(try Data(contentsOf: url), path: url.path)
        var out: [String: ProbeMatrix] = [:]
        for t in tensors where t.shape.count == 2 && (t.name.hasPrefix("embedding.") || t.name == "lm_head.weight") {
            out[t.name] = ProbeMatrix(rows: t.shape[0], cols: t.shape[1], values: t.values)
        }
        return out
    }

    // MARK: - Summary

    static func summary(_ r: ProbeReport) -> String {
        func f(_ x: Double?, _ spec: String = "%.3f") -> String { x.map { String(format: spec, $0) } ?? "–" }
        func arrow(_ a: Double?, _ b: Double?, _ spec: String = "%.3f") -> String {
            r.tables.input.initial == nil ? f(b, spec) : "\(f(a, spec)) → \(f(b, spec))"
        }
        let i = r.tables.input, o = r.tables.output
        var lines: [String] = []
        let loss = r.run.finalValLoss.map { String(format: ", val loss %.4f", $0) } ?? ""
        lines.append(
            "\(r.run.folder): \(r.run.strategy), d\(r.run.dModel) L\(r.run.nLayer), V \(r.run.vocabSize), step \(r.run.step)/\(r.run.totalSteps)\(loss)"
        )
        let w = 42
        func row(_ name: String, _ a: String, _ b: String) -> String {
            name.padding(toLength: w, withPad: " ", startingAt: 0) + a.padding(toLength: 26, withPad: " ", startingAt: 0) + b
        }
        lines.append(row("table", i.tensor, o == nil ? "(output head tied to the input)" : "lm_head.weight"))
        if i.initial != nil { lines.append(row("", "init → final", o == nil ? "" : "init → final")) }
        func metric(_ name: String, _ get: (TableMetrics) -> Double?, _ spec: String = "%.3f") {
            lines.append(
                row(
                    name, arrow(i.initial.flatMap(get), get(i.final), spec),
                    o.map { arrow($0.initial.flatMap(get), get($0.final), spec) } ?? ""))
        }
        metric("effective rank (of D=\(r.run.dModel))", \.effectiveRank, "%.1f")
        metric("effective rank, seen tokens", \.effectiveRankSeen, "%.1f")
        metric("isotropy (mean cos), seen tokens", \.isotropySeen)
        metric("ρ(row norm, frequency)", \.normFrequencySpearman)
        let main = ["wordsim353", "simlex999", "men"]
        let names = main.filter { i.final.wordSimilarity[$0] != nil } + i.final.wordSimilarity.keys.filter { !main.contains($0) }.sorted()
        for name in names {
            let n = i.final.wordSimilarity[name]!
            let half = n.rhoInCorpusCI95.map { String(format: ", ±%.2f", ($0[1] - $0[0]) / 2) } ?? ""
            metric("\(name) ρ in-corpus (\(n.pairsInCorpus)/\(n.totalPairs)\(half))", { $0.wordSimilarity[name]?.rhoInCorpus })
            metric("\(name) ρ all pairs", { $0.wordSimilarity[name]?.rho })
        }
        for (label, d) in [("input", r.drift.input), ("output", r.drift.output)] {
            guard let d else { continue }
            if d.frozen { lines.append("drift (\(label)): frozen (no change over training)"); continue }
            let pct = { (x: Double?) in x.map { $0 >= 1 ? "not before the end" : String(format: "at %.1f %%", 100 * $0) } ?? "–" }
            lines.append(
                "drift (\(label)): ‖E_T − E_0‖/‖E_0‖ = \(f(d.totalDrift)); stabilised \(pct(d.stabilisedAt)) (remaining drift ≤ 10 %), \(pct(d.stabilisedAtCosine)) (cosine to final ≥ 0.99)"
            )
            let curve = zip(d.fractions, d.remainingDrift).map { fr, rd in String(format: "%.3g:%@", fr, rd.map { String(format: "%.2f", $0) } ?? "–")
            }
            lines.append("  remaining drift by training fraction: " + curve.joined(separator: " "))
        }
        if let q = r.retrieval {
            var parts = ["trained \(f(q.trained))", "init \(f(q.initial))", "random \(f(q.random))"]
            if let k = q.croppedWidth { parts.append("cropped to \(k) \(f(q.cropped))") }
            if let w = q.paddedWidth { parts.append("padded to \(w) \(f(q.padded))") }
            parts.append("TF-IDF \(f(q.tfidf))")
            lines.append("retrieval MAP (\(q.passages) passages of \(q.works) works): " + parts.joined(separator: ", "))
            let overTraining = r.snapshots.compactMap { s in s.retrievalMAP.map { String(format: "%.3g:%.3f", s.fraction, $0) } }
            if !overTraining.isEmpty { lines.append("  retrieval MAP by training fraction: " + overTraining.joined(separator: " ")) }
        }
        for n in r.neighbours ?? [] {
            lines.append("nearest to \"\(n.word)\": " + n.nearest.map { "\"\($0.text)\"" }.joined(separator: " "))
        }
        if let skipped = r.neighboursSkipped, !skipped.isEmpty {
            lines.append("not a single token (no neighbours): " + skipped.map { "\"\($0)\"" }.joined(separator: " "))
        }
        for n in r.notes { lines.append("note: \(n)") }
        return lines.joined(separator: "\n")
    }
}
