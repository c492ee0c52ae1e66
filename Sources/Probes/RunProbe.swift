import Embeddings
import Foundation
import RunFormat
import TensorFile

/// Probes one run folder: the final checkpoint's tables, every snapshot, drift; writes probes.json.
public struct RunProbe {
    /// Decodes a safetensors file into tensors by name (the Trainer's decoder; injected so Probes does not
    /// depend on the Trainer).
    public typealias TensorLoader = (URL) throws -> [String: ProbeMatrix]

    public let folder: URL
    public let load: TensorLoader
    public var settings = ProbeSettings()
    /// Widths of the retrieval probe's cropped and padded variants (the grid's smallest and largest d_model); nil
    /// or equal to the table's width: that variant is not measured.
    public var cropWidth: Int?
    public var padWidth: Int?

    public init(folder: URL, load: @escaping TensorLoader) { self.folder = folder; self.load = load }

    /// The run's config.json as readers outside the trainer see it.
    public static func readConfig(_ folder: URL) throws -> RunConfigView {
        let url = folder.appendingPathComponent(RunFiles.config)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ProbeError.run(
                path: folder.path, message: "has no config.json (not a run folder?)",
                fix: "give a run folder written by `ablate train` or `ablate grid run`")
        }
        return try RunJSON.read(RunConfigView.self, from: url)
    }

    /// The newest complete checkpoint's model file (`CheckpointFiles.newest`: what `latest` names, or the newest
    /// complete `step-N` when that one is missing).
    public static func latestCheckpoint(_ folder: URL) throws -> URL {
        guard let newest = CheckpointFiles.newest(inRun: folder) else {
            throw ProbeError.run(path: folder.path, message: "holds no checkpoint", fix: "train the run first (ablate train)")
        }
        return newest.folder.appendingPathComponent(CheckpointFiles.model)
    }

    /// Snapshot files by step, ascending.
    public static func snapshotFiles(_ folder: URL) -> [(step: Int, url: URL)] { SnapshotFiles.files(inRun: folder) }

    /// The effective input table as the strategy computes it from its tensors (`EmbeddingStrategy.inputTable`),
    /// labelled with the checkpoint names it came from.
    public static func inputTable(
        _ t: [String: ProbeMatrix], strategy: String, path: String = "checkpoint"
    ) throws -> (name: String, table: ProbeMatrix) {
        let type: any EmbeddingStrategy.Type
        do { type = try StrategyRegistry.type(named: strategy) } catch {
            throw ProbeError.run(path: path, message: String(describing: error), fix: "probe runs of a strategy this build knows")
        }
        let stored = t.mapValues { Safetensors.Tensor(name: "", shape: [$0.rows, $0.cols], values: $0.values) }
        do {
            let (name, table) = try type.inputTable(checkpoint: stored, path: path)
            return (name, ProbeMatrix(rows: table.shape[0], cols: table.shape[1], values: table.values))
        } catch {
            throw ProbeError.run(path: path, message: String(describing: error), fix: "probe a run folder written by `ablate train`")
        }
    }

    /// The run's description from config.json, status.json and summary.json.
    public static func runInfo(_ folder: URL, step: Int) throws -> ProbeReport.RunInfo {
        let file = try readConfig(folder)
        let status = try? RunJSON.read(RunStatus.self, from: folder.appendingPathComponent(RunFiles.status))
        let summary = try? RunJSON.read(RunSummary.self, from: folder.appendingPathComponent(RunFiles.summary))
        let (config, model) = (file.config, file.model)
        return ProbeReport.RunInfo(
            folder: folder.path, strategy: config.strategy, corpus: config.corpus ?? "?",
            dModel: model.dModel, nLayer: model.nLayer, nHead: model.nHead, vocabSize: model.vocabSize,
            nonEmbeddingParameters: file.parameters?.nonEmbedding, seed: Int(config.seed ?? 0),
            tieEmbeddings: model.tieEmbeddings ?? false, configHash: file.configHash, status: status?.state.rawValue,
            totalSteps: status?.totalSteps ?? step, step: step, finalValLoss: summary?.finalValLoss)
    }

    /// Measures everything and returns the report (does not write it).
    public func probe(corpus: ProbeCorpus) throws -> ProbeReport {
        let ckpt = try Self.latestCheckpoint(folder)
        let finalTensors = try load(ckpt)
        let step = CheckpointFiles.step(ofName: ckpt.deletingLastPathComponent().lastPathComponent) ?? 0
        var info = try Self.runInfo(folder, step: step)
        var notes: [String] = []
        if let note = CheckpointFiles.newest(inRun: folder)?.note { notes.append(note) }
        if info.status != "finished" {
            notes.append("run status is \(info.status ?? "unknown"): probed the checkpoint at step \(step) of \(info.totalSteps)")
        }

        let (inName, inTable) = try Self.inputTable(finalTensors, strategy: info.strategy, path: ckpt.path)
        let head = finalTensors["lm_head.weight"]
        info.tieEmbeddings = info.tieEmbeddings || head == nil
        guard inTable.rows == corpus.tokenCounts.count else {
            throw ProbeError.run(
                path: folder.path, message: "the input table has \(inTable.rows) rows but the tokenizer has \(corpus.tokenCounts.count) tokens",
                fix: "probe with the run's own corpus and vocab_size")
        }
        guard inTable.allFinite, head?.allFinite ?? true else {
            throw ProbeError.run(
                path: folder.path, message: "the checkpoint holds NaN or infinite weights (diverged run)", fix: "probe a finished run")
        }
        let finalIn = try TableProbe.measure(inTable, corpus: corpus, settings: settings)
        let finalOut = try head.map { try TableProbe.measure($0, corpus: corpus, settings: settings) }

        // Snapshots: metrics of each, and drift over them.
        var snaps: [ProbeReport.Snapshot] = []
        var inSeries: [(step: Int, table: ProbeMatrix)] = [], outSeries: [(step: Int, table: ProbeMatrix)] = []
        let files = Self.snapshotFiles(folder)
        for (s, url) in files {
            let t = try load(url)
            let (_, tin) = try Self.inputTable(t, strategy: info.strategy, path: url.path)
            let tout = t["lm_head.weight"]
            guard (tin.rows, tin.cols) == (inTable.rows, inTable.cols),
                tout.map({ $0.rows == head?.rows && $0.cols == head?.cols }) ?? true
            else {
                throw ProbeError.run(
                    path: url.path,
                    message:
                        "the snapshot's tables (\(tin.rows)×\(tin.cols)) do not have the shape of the checkpoint's (\(inTable.rows)×\(inTable.cols))",
                    fix: "delete the snapshots folder of this run (it belongs to another model) and probe again")
            }
            inSeries.append((s, tin)); if let tout { outSeries.append((s, tout)) }
            snaps.append(
                .init(
                    step: s, fraction: Double(s) / Double(max(info.totalSteps, 1)),
                    input: try TableProbe.measure(tin, corpus: corpus, settings: settings),
                    output: try tout.map { try TableProbe.measure($0, corpus: corpus, settings: settings) },
                    retrievalMAP: corpus.retrieval?.meanAveragePrecision(tin)))
        }
        var drift = ProbeReport.DriftPair(input: nil, output: nil)
        if files.isEmpty {
            notes.append("no snapshots (snapshots: false, or a run from before snapshots existed): no init baseline, no drift")
        } else if files.first!.step != 0 || files.last!.step != info.totalSteps {
            notes.append(
                "snapshots cover steps \(files.first!.step)…\(files.last!.step) of 0…\(info.totalSteps): drift needs step 0 and the final step")
        } else if files.count >= 2 {
            drift.input = Drift(snapshots: inSeries, totalSteps: info.totalSteps)
            if outSeries.count == files.count { drift.output = Drift(snapshots: outSeries, totalSteps: info.totalSteps) }
        }
        let initial = snaps.first.flatMap { $0.step == 0 ? $0 : nil }
        let initialTable = inSeries.first.flatMap { $0.step == 0 ? $0.table : nil }
        let retrieval = corpus.retrieval?.scores(trained: inTable, initial: initialTable, cropWidth: cropWidth, padWidth: padWidth)
        let neighbours = corpus.tokenizer.map { tok in
            NearestTokens.neighbours(inTable, encode: { tok.encode($0) }, text: { tok.displayText(of: $0) })
        }

        let report = ProbeReport(
            format: ProbeReport.formatName, createdAt: ISO8601DateFormatter().string(from: Date()), run: info,
            settings: .init(
                isotropyPairs: settings.isotropyPairs, isotropySeed: settings.isotropySeed,
                driftThreshold: Drift.driftThreshold, cosineThreshold: Drift.cosineThreshold,
                wordVector: "mean of the BPE token rows of \" \" + word (leading space, case as in the data set)",
                inCorpus: "both words occur in the train split as whole words (maximal ASCII-letter runs, lowercase)",
                effectiveRank:
                    "exp(entropy of singular values / their sum), Roy & Vetterli 2007; uncentred table; singular values from the eigenvalues of EᵀE",
                seenTokens: "token ids with count ≥ 1 in the train stream",
                wordSets: Dictionary(uniqueKeysWithValues: corpus.wordSets.map { ($0.name, $0.sha256 ?? "") })),
            tables: .init(
                input: .init(tensor: inName, shape: [inTable.rows, inTable.cols], final: finalIn, initial: initial?.input),
                output: head.map { .init(tensor: "lm_head.weight", shape: [$0.rows, $0.cols], final: finalOut!, initial: initial?.output) }),
            drift: drift, snapshots: snaps, notes: notes, retrieval: retrieval, neighbours: neighbours?.found,
            neighboursSkipped: neighbours?.skipped)
        return report
    }

    /// Writes probes.json (sorted keys, pretty, atomically).
    public static func write(_ report: ProbeReport, to folder: URL) throws {
        try RunJSON.write(report, to: folder.appendingPathComponent(ProbeReport.fileName))
    }

    /// Reads a probes.json (for the report and tests).
    public static func read(_ folder: URL) throws -> ProbeReport {
        try RunJSON.read(ProbeReport.self, from: folder.appendingPathComponent(ProbeReport.fileName))
    }
}
