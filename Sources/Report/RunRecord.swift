import Foundation
import RunFormat

/// One run folder as the report sees it, decoded from the files the trainer writes, through the types that declare
/// them (RunFormat): `config.json`, `status.json`, `summary.json`, `metrics.jsonl`. The report does not import the
/// trainer.
public struct RunRecord: Sendable {
    public enum State: String, Sendable, Comparable {
        case finished, running, diverged, failed
        /// A folder without a readable config.json or status.json.
        case unreadable
        public static func < (a: State, b: State) -> Bool { a.order < b.order }
        private var order: Int { [.finished, .running, .diverged, .failed, .unreadable].firstIndex(of: self)! }
    }

    /// The folder name (e.g. `hashed-d256-L4-v2048-s1`).
    public var id: String
    public var state: State
    /// Why the run stopped (status.json `reason`), or why the folder could not be read.
    public var reason: String?
    public var step: Int?
    public var totalSteps: Int?

    public var strategy: String
    /// The user-given strategy options as canonical JSON (sorted keys), "" when none.
    public var strategyOptions: String
    public var seed: UInt64
    public var shape: ModelShape
    public var parameters: ParameterCounts?
    public var provenance: RunProvenance?
    /// `summary.json` `final_val_loss` (finished runs only).
    public var finalValLoss: Double?
    /// `summary.json` `tokens` (or the last metrics line).
    public var tokens: Int?
    /// The validation curve on `eval_batches`: (tokens, val_loss) of every metrics line with a finite val_loss, in
    /// file order. In a finished run written before the final evaluation was recorded apart (`final_val_loss`), the
    /// last such line held the final evaluation, on `final_eval_batches`: unless the two are the same it is left out
    /// (it is the run's `finalFromMetrics`), so that every point of a curve is on the same batches.
    public var curve: [CurvePoint]
    /// `probes.json` (written by `ablate probe`); nil when the folder has none or it cannot be read.
    public var probes: ProbeRecord? = nil
    /// Why an existing probes.json was not used (nil when it was read, or when there is none).
    public var probesProblem: String? = nil
    /// `samples.json` (written by `ablate sample --save`); nil when the folder has none or it cannot be read.
    public var samples: RunSamples? = nil
    /// Bits per UTF-8 byte: `summary.json` `final_val_bpb` (or the final evaluation's in metrics.jsonl), and the
    /// curve of (tokens, val_bpb) on the evaluation set, as `curve`; nil / empty for runs written before the trainer
    /// recorded it.
    public var finalValBpb: Double? = nil
    public var bpbCurve: [CurvePoint] = []
    /// The final evaluation in metrics.jsonl: the last line's `final_val_loss` and `final_val_bpb`, or in a finished
    /// run written before they were recorded apart, its last line's val_loss and val_bpb.
    public var finalFromMetrics: (loss: Double, bpb: Double?)? = nil
    /// `summary.json` `train_bytes` and `train_flops` (nil for older runs).
    public var trainBytes: Int? = nil
    public var trainFlops: Double? = nil
    /// The grid that trained the run (grid-run.json `grid`); nil for a run trained outside a grid.
    public var gridName: String? = nil
    /// Parameters of the output head counted in `shape.nonEmbedding` (V·d when untied, 0 when tied): a vocabulary
    /// changes N through them, so they are left out where sizes are compared across vocabularies.
    public var headParameters: Int = 0
    /// config.json `config.learning_rate`; nil in files without it.
    public var learningRate: Double? = nil
    /// config.json `schedule`: where the learning-rate phases begin (nil in files written before it was recorded,
    /// all of which are cosine runs).
    public var schedule: ScheduleRecord? = nil
    /// config.json `config.parametrization` ("sp" when the file predates the key).
    public var parametrization: String = "sp"
    /// The grid's label of this run's strategy value (grid-run.json `axes.strategy`), when the grid gave one that
    /// differs from the strategy's name (e.g. `learned-mup-table`); nil otherwise.
    public var armLabel: String? = nil
    /// The grid's label of this run's value on each of its axes (grid-run.json `axes`), e.g. ["strategy": "learned",
    /// "weight_decay": "0.1", "seed": "1"]; empty outside a grid. The axes that would otherwise pool runs into one cell
    /// are `GridSlices.settingAxes`.
    public var axes: [String: String] = [:]
    /// The input multiplier the table was built with: config.json `strategy_options.input_multiplier` (the
    /// strategy's resolved options), nil when not recorded.
    public var inputMultiplier: Double? = nil
    /// The LR-selection loss: mean training loss over the last 10 % of the logged steps (`LearningRateSelection`);
    /// nil when metrics.jsonl has no finite train_loss.
    public var selectionLoss: Double? = nil
}

public struct CurvePoint: Sendable, Equatable {
    public var tokens: Double
    public var loss: Double
    public init(tokens: Double, loss: Double) { self.tokens = tokens; self.loss = loss }
}

/// The model shape that defines a "size" in the report.
public struct ModelShape: Sendable, Hashable, Comparable {
    public var dModel: Int
    public var nLayer: Int
    public var nHead: Int
    public var vocabSize: Int
    public var contextLength: Int
    /// Non-embedding parameters N (the x axis of scaling plots); 0 when unknown.
    public var nonEmbedding: Int

    /// Short label: `d256-L4` (vocabulary and context appended by `ReportData` only when they vary).
    public var label: String { "d\(dModel)-L\(nLayer)" }

    public static func < (a: ModelShape, b: ModelShape) -> Bool {
        (a.nonEmbedding, a.dModel, a.nLayer, a.nHead, a.vocabSize, a.contextLength)
            < (b.nonEmbedding, b.dModel, b.nLayer, b.nHead, b.vocabSize, b.contextLength)
    }
}

public struct ParameterCounts: Sendable, Equatable {
    public var total: Int
    public var trainable: Int
    public var embedding: Int
    public var nonEmbedding: Int
    public var optimizerStateBytes: Int?
}

public struct RunProvenance: Sendable, Equatable {
    public var packageVersion: String?
    public var gitCommit: String?
    public var corpusSHA256: String?
    public var tokenizerSHA256: String?
    public var corpus: String?
    /// The OpenBLAS kernel and the CPU the run was trained on ("unrecorded" CPU for runs older than the field).
    public var blasCore: String?
    public var cpu: String?
    /// "kernel on CPU": runs that differ here are comparable to rounding, not bit for bit.
    public var machine: String? {
        guard blasCore != nil || cpu != nil else { return nil }
        return "OpenBLAS \(blasCore ?? "unknown kernel") on \(cpu ?? "an unrecorded CPU")"
    }
}

// MARK: - Reading

enum RunReader {
    /// Reads every sub-folder of `grid` that looks like a run (holds config.json, status.json or metrics.jsonl),
    /// sorted by folder name.
    static func readGrid(_ grid: URL) throws -> [RunRecord] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: grid.path, isDirectory: &isDir), isDir.boolValue else {
            throw ReportError("\(grid.path): no such grid folder. Fix: run the grid first (ablate grid run), or pass runs/<grid>.")
        }
        let names = try fm.contentsOfDirectory(atPath: grid.path).sorted()
        var runs = [RunRecord]()
        for name in names where !name.hasPrefix(".") {
            let url = grid.appendingPathComponent(name)
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else { continue }
            guard RunFiles.markers.contains(where: { fm.fileExists(atPath: url.appendingPathComponent($0).path) }) else { continue }
            runs.append(read(url))
        }
        // A run folder copied in from another grid would be analysed as one of this grid's runs: set it aside. A run
        // that grid.json lists is this grid's whatever name trained it (a renamed grid: `grid run` accepts a folder by
        // its id and config hash, and lists it).
        let listed = Set((try? listedRuns(grid)) ?? [])
        if let name = gridName(grid, runs: runs) {
            for i in runs.indices where !listed.contains(runs[i].id) {
                guard let other = runs[i].gridName, other != name else { continue }
                runs[i].state = .unreadable
                runs[i].reason = "trained by grid '\(other)' (its grid-run.json), not by '\(name)': move it to that grid's runs folder"
            }
        }
        return runs
    }

    /// The grid the folder holds: grid.json's name; without one, the folder's name when some run was trained by a
    /// grid of that name, else the grid that trained most of the runs (a copied or renamed folder); nil when no run
    /// was trained by a grid.
    static func gridName(_ grid: URL, runs: [RunRecord]) -> String? {
        if let index = try? RunJSON.read(GridIndex.self, from: grid.appendingPathComponent(GridIndex.fileName)) { return index.name }
        let names = runs.compactMap(\.gridName)
        let folder = grid.standardizedFileURL.lastPathComponent
        if names.contains(folder) { return folder }
        let counts = Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +)
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    /// The run ids in `grid/grid.json` (written by `ablate grid run`), or nil when there is none (the report then
    /// infers the grid from the runs present). An unreadable grid.json, or one naming an invalid run id, is an error.
    static func listedRuns(_ grid: URL) throws -> [String]? {
        guard FileManager.default.fileExists(atPath: grid.appendingPathComponent(GridIndex.fileName).path) else { return nil }
        return try GridIndex.runIDs(inGrid: grid)
    }

    /// Reads one run folder; never throws — an unreadable folder becomes a record in state `.unreadable`.
    static func read(_ url: URL) -> RunRecord {
        let id = url.lastPathComponent
        var record = RunRecord(
            id: id, state: .unreadable, reason: nil, step: nil, totalSteps: nil, strategy: "?",
            strategyOptions: "", seed: 0,
            shape: ModelShape(
                dModel: 0, nLayer: 0, nHead: 0, vocabSize: 0, contextLength: 0,
                nonEmbedding: 0),
            parameters: nil, provenance: nil, finalValLoss: nil, tokens: nil, curve: [])
        let configURL = url.appendingPathComponent(RunFiles.config)
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            record.reason = "no config.json"
            return record
        }
        let config: RunConfigView
        do {
            config = try RunJSON.read(RunConfigView.self, from: configURL)
        } catch let error as RunFormatError {
            record.reason = "config.json \(error.message)"
            return record
        } catch {
            record.reason = "config.json cannot be read (\(error))"
            return record
        }
        record.strategy = config.config.strategy
        record.strategyOptions = canonical(config.config.strategyOptions)
        record.learningRate = config.config.learningRate
        record.parametrization = config.config.parametrization ?? "sp"
        record.schedule = config.schedule
        record.inputMultiplier = number(config.strategyOptions, "input_multiplier") ?? number(config.config.strategyOptions, "input_multiplier")
        if let gridRun = try? RunJSON.read(GridRunFile<JSONValue>.self, from: url.appendingPathComponent(RunFiles.gridRun)) {
            if let label = gridRun.axes["strategy"], label != record.strategy { record.armLabel = label }
            record.axes = gridRun.axes
            record.gridName = gridRun.grid
        }
        record.seed = config.config.seed ?? config.provenance?.seed ?? 0
        let m = config.model
        record.shape = ModelShape(
            dModel: m.dModel, nLayer: m.nLayer, nHead: m.nHead, vocabSize: m.vocabSize,
            contextLength: m.contextLength ?? config.config.contextLength ?? 0,
            nonEmbedding: config.parameters?.nonEmbedding ?? 0)
        record.headParameters = (m.tieEmbeddings ?? false) ? 0 : m.vocabSize * m.dModel
        if let p = config.parameters {
            record.parameters = ParameterCounts(
                total: p.total, trainable: p.trainable, embedding: p.embedding ?? 0,
                nonEmbedding: p.nonEmbedding, optimizerStateBytes: p.optimizerStateBytes)
        }
        if let p = config.provenance {
            record.provenance = RunProvenance(
                packageVersion: p.packageVersion, gitCommit: p.gitCommit,
                corpusSHA256: p.corpusSHA256, tokenizerSHA256: p.tokenizerSHA256,
                corpus: config.config.corpus, blasCore: p.blasCore, cpu: p.cpu)
        }

        do {
            let lines = try MetricsFile.lines(at: url.appendingPathComponent(RunFiles.metrics))
            record.curve = lines.compactMap { line in
                guard let v = line.valLoss, v.isFinite, let t = line.tokens else { return nil }
                return CurvePoint(tokens: t, loss: v)
            }
            record.tokens = lines.last?.tokens.map { Int($0) }
            let finalLine = lines.last { $0.finalValLoss != nil }
            record.finalFromMetrics = finalLine.map { ($0.finalValLoss!, $0.finalValBpb) }
            record.bpbCurve = lines.compactMap { line in
                guard let b = line.valBpb, b.isFinite, line.valLoss != nil, let t = line.tokens else { return nil }
                return CurvePoint(tokens: t, loss: b)
            }
            record.selectionLoss = LearningRateSelection.selectionLoss(trainLosses: lines.compactMap(\.trainLoss))
        } catch let error as RunFormatError {
            record.reason = "metrics.jsonl \(error.message)"
            return record
        } catch {
            record.reason = "metrics.jsonl cannot be read (\(error))"
            return record
        }

        let status: RunStatus
        do { status = try RunJSON.read(RunStatus.self, from: url.appendingPathComponent(RunFiles.status)) } catch {
            record.reason = "no readable status.json" + ((error as? RunFormatError).map { " (\($0.message))" } ?? "")
            return record
        }
        record.step = status.step
        record.totalSteps = status.totalSteps
        record.reason = status.reason
        switch status.state {
        case .finished: record.state = .finished
        case .running: record.state = .running
        case .diverged: record.state = .diverged
        case .failed: record.state = .failed
        }
        do {
            record.probes = try ProbeRecord.read(url)
        } catch {
            record.probesProblem = "\(error)"
        }
        record.samples = try? RunSamples.read(fromRun: url)
        if record.state == .finished && record.finalFromMetrics == nil, let last = record.curve.last {
            // Written before the final evaluation was recorded apart: its last val_loss line is that evaluation. On
            // other batches than the curve's it is not comparable with the points before it (in the default grid the
            // final evaluation ends 0.06–0.11 nats below the curve), so it leaves the curve.
            let bpb = record.bpbCurve.last?.tokens == last.tokens ? record.bpbCurve.last?.loss : nil
            record.finalFromMetrics = (last.loss, bpb)
            let (curveBatches, finalBatches) = (config.config.evalBatches, config.config.finalEvalBatches)
            if curveBatches == nil || curveBatches != finalBatches {
                record.curve.removeLast()
                if bpb != nil { record.bpbCurve.removeLast() }
            }
        }
        if record.state == .finished {
            if let summary = try? RunJSON.read(RunSummary.self, from: url.appendingPathComponent(RunFiles.summary)),
                summary.finalValLoss.isFinite
            {
                record.finalValLoss = summary.finalValLoss
                record.finalValBpb = summary.finalValBpb.flatMap { $0.isFinite ? $0 : nil } ?? record.finalFromMetrics?.bpb
                record.trainBytes = summary.trainBytes
                record.trainFlops = summary.trainFlops
                record.tokens = summary.tokens
                if record.shape.nonEmbedding == 0 { record.shape.nonEmbedding = summary.nonEmbeddingParameters }
            } else if let final = record.finalFromMetrics {
                // metrics.jsonl holds the final evaluation; use it when summary.json is missing.
                record.finalValLoss = final.loss
                record.finalValBpb = final.bpb
            } else {
                record.state = .unreadable
                record.reason = "finished, but neither summary.json nor a final val_loss can be read"
            }
        }
        return record
    }

    /// The number under `key` of a JSON object, nil when absent or not a number.
    static func number(_ value: JSONValue?, _ key: String) -> Double? {
        guard case .object(let fields)? = value else { return nil }
        switch fields[key] {
        case .int(let i)?: return Double(i)
        case .double(let x)?: return x
        default: return nil
        }
    }

    /// Canonical text of a JSON value with sorted keys (for grouping runs by strategy options).
    static func canonical(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let x):
            return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map { canonical($0) }.joined(separator: ",") + "]"
        case .object(let o):
            if o.isEmpty { return "" }
            return o.keys.sorted().map { "\($0)=\(canonical(o[$0]))" }.joined(separator: ",")
        }
    }
}

/// A report error with one clear message (what is wrong and how to fix it).
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
