import Embeddings
import Foundation
import RunFormat
import TensorFile
import TestSupport
import XCTest

/// The whole pipeline with the real binary, joining every writer to its reader: `ablate grid run` trains a tiny
/// grid (the trainer writes config/summary/metrics, the grid writes grid.json), `ablate probe` reads the run folders
/// and writes probes.json, `ablate report` reads all of it — and the report's numbers must be the runs' numbers.
/// Then `ablate train` transplants the lowrank run's table: the transplanted table must be the strategy's own
/// effective input table A·P. A few seconds of training on a generated corpus.
final class PipelineTests: XCTestCase {
    /// A fresh folder holding the generated corpus as tiny.txt, removed after the test, and the binary run from it;
    /// skips the test when the binary is not built next to the tests.
    func workspace() throws -> (ablate: AblateBinary, folder: URL) {
        guard let url = AblateBinary.find() else { throw XCTSkip("the ablate binary is not built next to the tests") }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: tmp) }
        try TinyCorpus.write(to: tmp.appendingPathComponent("tiny.txt"))
        return (AblateBinary(url: url, folder: tmp), tmp)
    }

    func testGridProbeReportAndTransplant() throws {
        let (ablate, tmp) = try workspace()
        let model = "vocab_size: 256, context_length: 16, batch_size: 4, d_model: 16, n_layer: 1, n_head: 2"
        try """
        name: e2e
        base: {corpus: \(tmp.path)/tiny.txt, \(model), max_steps: 40, warmup_steps: 3,
               learning_rate: 3e-3, eval_interval: 10, eval_batches: 2, final_eval_batches: 2, log_interval: 5,
               checkpoint_interval: 20, snapshot_count: 5}
        axes:
          strategy: [learned, {name: lowrank, options: {rank: 4}, lr_schedule: wsd, lr_decay_fraction: 0.25}]
          seed: [1, 2]
        """.write(to: tmp.appendingPathComponent("e2e.yaml"), atomically: true, encoding: .utf8)

        let grid = try ablate.run(["grid", "run", "e2e.yaml", "--jobs", "2", "--log-every", "0"])
        XCTAssertEqual(grid.status, 0, grid.output)
        let probe = try ablate.run(["probe", "runs/e2e"])  // one job per core
        XCTAssertEqual(probe.status, 0, probe.output)
        // Probing runs concurrently changes no number: the same files (but their creation time) from one job.
        func probeFiles() throws -> [JSONValue] {
            let runs = try FileManager.default.contentsOfDirectory(atPath: tmp.appendingPathComponent("runs/e2e").path).sorted()
            return try runs.compactMap { run in
                let url = tmp.appendingPathComponent("runs/e2e/\(run)/\(RunFiles.probes)")
                guard FileManager.default.fileExists(atPath: url.path) else { return nil }
                guard case var .object(fields) = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url)) else { return nil }
                fields["created_at"] = nil
                return .object(fields)
            }
        }
        let concurrent = try probeFiles()
        XCTAssertEqual(concurrent.count, 4)
        let oneJob = try ablate.run(["probe", "runs/e2e", "--force", "--jobs", "1"])
        XCTAssertEqual(oneJob.status, 0, oneJob.output)
        XCTAssertEqual(try probeFiles(), concurrent)
        // samples.json for every run, which the report's Samples section reads.
        // Sampled one run per core, then again one at a time: the same text (the runs share nothing writable).
        let sampleArguments = ["sample", "runs/e2e", "--save", "--tokens", "24", "--prompt", "the "]
        let listed = try RunJSON.read(GridIndex.self, from: tmp.appendingPathComponent("runs/e2e/\(GridIndex.fileName)"))
        func sampleTexts() throws -> [String?] {
            try listed.runs.map { try RunSamples.read(fromRun: tmp.appendingPathComponent("runs/e2e/\($0.id)"))?.text }
        }
        let oneAtATime = try ablate.run(sampleArguments + ["--jobs", "1"])
        XCTAssertEqual(oneAtATime.status, 0, oneAtATime.output)
        let sequentialTexts = try sampleTexts()
        XCTAssertEqual(sequentialTexts.compactMap { $0 }.count, 4)
        for entry in listed.runs {
            try FileManager.default.removeItem(at: tmp.appendingPathComponent("runs/e2e/\(entry.id)/\(RunSamples.fileName)"))
        }
        let sample = try ablate.run(sampleArguments + ["--jobs", "2"])
        XCTAssertEqual(sample.status, 0, sample.output)
        XCTAssertEqual(try sampleTexts(), sequentialTexts)
        // Runs at once must each use one BLAS thread (its count is one setting of the whole process).
        let threaded = try ablate.run(sampleArguments + ["--jobs", "2", "--threads", "2"])
        XCTAssertNotEqual(threaded.status, 0)
        XCTAssertTrue(threaded.output.contains("--jobs 2 with --threads 2"), threaded.output)
        let firstRun = tmp.appendingPathComponent("runs/e2e/\(try XCTUnwrap(listed.runs.first).id)")
        let saved = try XCTUnwrap(try RunSamples.read(fromRun: firstRun))
        let report = try ablate.run(["report", "e2e.yaml"])
        XCTAssertEqual(report.status, 0, report.output)
        let markdown = try String(contentsOf: tmp.appendingPathComponent("reports/e2e/README.md"), encoding: .utf8)

        // The runs as the grid listed them, and each run's own numbers.
        let gridFolder = tmp.appendingPathComponent("runs/e2e")
        let index = try RunJSON.read(GridIndex.self, from: gridFolder.appendingPathComponent(GridIndex.fileName))
        XCTAssertEqual(index.runs.count, 4)
        XCTAssertEqual(index.runs.map(\.state), ["finished", "finished", "finished", "finished"])
        var losses: [String: [Double]] = [:]
        var lowrankRun: URL?
        for entry in index.runs {
            let run = gridFolder.appendingPathComponent(entry.id)
            let config = try RunJSON.read(RunConfigView.self, from: run.appendingPathComponent(RunFiles.config))
            let summary = try RunJSON.read(RunSummary.self, from: run.appendingPathComponent(RunFiles.summary))
            XCTAssertEqual(try RunJSON.read(RunStatus.self, from: run.appendingPathComponent(RunFiles.status)).state, .finished)
            XCTAssertEqual(summary.steps, 40)
            XCTAssertEqual(config.parameters?.nonEmbedding, summary.nonEmbeddingParameters)
            XCTAssertEqual(entry.finalValLoss, summary.finalValLoss)
            // The summary's loss is the last metrics line's (the final evaluation).
            XCTAssertEqual(try MetricsFile.records(at: run.appendingPathComponent(RunFiles.metrics)).last?.valLoss, summary.finalValLoss)
            // The keys the report reads from config.json are the ones the trainer writes.
            XCTAssertNotNil(config.config.learningRate)
            XCTAssertNotNil(config.config.parametrization)
            // The schedule the trainer followed is the one config.json records, which the report reads.
            let schedule = try XCTUnwrap(config.schedule)
            let metrics = try MetricsFile.records(at: run.appendingPathComponent(RunFiles.metrics))
            let lr = { (step: Int) in metrics.first { $0.step == step }?.lr }  // a line's lr is its last step's
            if config.config.strategy == "lowrank" {
                XCTAssertEqual(schedule.kind, "wsd")
                XCTAssertEqual([schedule.decayStartStep, schedule.decayStartTokens], [30, 30 * 4 * 16])
                XCTAssertEqual(try XCTUnwrap(lr(30)), 3e-3, accuracy: 1e-15)
                XCTAssertEqual(try XCTUnwrap(lr(35)), 3e-3 * (0.1 + 0.9 * 0.6), accuracy: 1e-15)  // step 34: 4 of 10 decayed
                XCTAssertEqual(try XCTUnwrap(lr(40)), 3e-3 * (0.1 + 0.9 * 0.1), accuracy: 1e-15)
            } else {
                XCTAssertEqual([schedule.kind, String(schedule.decayStartStep)], ["cosine", "3"])
                XCTAssertLessThan(try XCTUnwrap(lr(30)), 3e-3 * 0.5)
            }
            losses[config.config.strategy, default: []].append(summary.finalValLoss)
            if config.config.strategy == "lowrank", lowrankRun == nil { lowrankRun = run }
            // probes.json: the probe read the trainer's config and the strategy's own input table.
            let probes = try RunJSON.read(ProbeReport.self, from: run.appendingPathComponent(RunFiles.probes))
            XCTAssertEqual(probes.run.nonEmbeddingParameters, summary.nonEmbeddingParameters)
            XCTAssertEqual(probes.run.finalValLoss, summary.finalValLoss)
            XCTAssertEqual(probes.run.strategy, config.config.strategy)
            XCTAssertEqual(probes.run.step, 40)
            let strategy = try StrategyRegistry.type(named: config.config.strategy)
            XCTAssertEqual(probes.tables.input.tensor, strategy.checkpointNames.joined(separator: "·"))
            XCTAssertEqual(probes.tables.input.shape, [256, 16])
            XCTAssertEqual(probes.snapshots.first?.step, 0)
            XCTAssertEqual(probes.snapshots.last?.step, 40)
            // One text file is one work: retrieval (relevant = same work) needs two, so it is skipped, not scored 1.
            XCTAssertNil(probes.retrieval)
            XCTAssertNotNil(probes.neighbours)
        }
        XCTAssertTrue(probe.output.contains("note: retrieval skipped"), probe.output)

        // The report's numbers are the runs' numbers.
        XCTAssertTrue(markdown.contains("4 run folders, 4 finished and analysed."), markdown)
        XCTAssertTrue(markdown.contains("`ablate probe` measurements (probes.json) of 4 of the 4 finished runs."))
        XCTAssertTrue(markdown.contains("(of the steps before the decay, for WSD runs)"), markdown)
        XCTAssertTrue(markdown.contains(saved.text), "the report's Samples section shows the saved text")
        for (strategy, values) in losses {
            XCTAssertEqual(values.count, 2)
            let mean = String(format: "%.4f", values.reduce(0, +) / 2)
            let row = markdown.split(separator: "\n").first { $0.hasPrefix("| `\(strategy)") && $0.contains("(n = 2)") }
            XCTAssertTrue(row?.contains("| \(mean) ± ") ?? false, "\(strategy): mean final loss \(mean) not in \(row ?? "no row")")
        }

        // Transplant from the two-tensor strategy: the new run's frozen table is A·P of the source checkpoint.
        let source = try XCTUnwrap(lowrankRun)
        let train = try ablate.run([
            "train", "--strategy", "transplant", "--corpus", "tiny.txt", "--vocab", "256", "--steps", "3",
            "--set", "context_length=16", "--set", "batch_size=4", "--set", "d_model=16",
            "--set", "n_layer=1", "--set", "n_head=2", "--set", "eval_interval=3", "--set", "eval_batches=1",
            "--set", "final_eval_batches=1", "--set", "strategy_options={checkpoint: \(source.path)}",
            "--out", "runs/single/transplanted",
        ])
        XCTAssertEqual(train.status, 0, train.output)
        func tensors(_ run: URL) throws -> [String: Safetensors.Tensor] {
            let file = try CheckpointLocator.modelFile(at: run.path)
            let decoded = try Safetensors.decode(Data(contentsOf: file), path: file.path).tensors
            return Dictionary(uniqueKeysWithValues: decoded.map { ($0.name, $0) })
        }
        let expected = try LowRankEmbedding.inputTable(checkpoint: tensors(source), path: source.path).table
        let got = try XCTUnwrap(tensors(tmp.appendingPathComponent("runs/single/transplanted"))[TransplantEmbedding.checkpointNames[0]])
        XCTAssertEqual(got.shape, expected.shape)
        XCTAssertEqual(got.values, expected.values)
    }

    /// A grid axis beside strategy, size and seed: `grid run` records each run's value in grid-run.json, and the
    /// report analyses each value on its own (its cells hold that value's runs only) instead of pooling them.
    func testSettingAxisSlicesTheReport() throws {
        let (ablate, tmp) = try workspace()
        try """
        name: wd
        base: {corpus: \(tmp.path)/tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4, d_model: 16, n_layer: 1,
               n_head: 2, max_steps: 20, warmup_steps: 2, learning_rate: 1e-2, eval_interval: 10, eval_batches: 2,
               final_eval_batches: 2, snapshots: false}
        axes:
          strategy: [learned, frozen-random]
          weight_decay: [0.0, 0.5]
          seed: [1, 2]
        """.write(to: tmp.appendingPathComponent("wd.yaml"), atomically: true, encoding: .utf8)
        let grid = try ablate.run(["grid", "run", "wd.yaml", "--jobs", "2", "--log-every", "0"])
        XCTAssertEqual(grid.status, 0, grid.output)
        let report = try ablate.run(["report", "wd.yaml"])
        XCTAssertEqual(report.status, 0, report.output)
        let markdown = try String(contentsOf: tmp.appendingPathComponent("reports/wd/README.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("**Other axes:** `weight_decay` (0.0, 0.5)."), markdown)
        // A baseline named on the command line must be one of the grid's arms; the report is then not written.
        let typo = try ablate.run(["report", "wd.yaml", "--baseline", "frozen-randm", "--out", "reports/typo"])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(
            typo.output.contains("'--baseline frozen-randm': no arm of wd.yaml is called that. Did you mean 'frozen-random'?"), typo.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("reports/typo").path))
        let other = try ablate.run(["report", "wd.yaml", "--baseline", "frozen-random", "--out", "reports/fr"])
        XCTAssertEqual(other.status, 0, other.output)
        XCTAssertFalse(markdown.contains("share strategy, size and seed"), markdown)
        XCTAssertTrue(markdown.contains("| `weight_decay` = 0.5 vs 0.0 | `frozen-random` | `learned` |"), markdown)

        // Each value's section shows the mean of that value's two runs, as their summary.json files give it.
        let index = try RunJSON.read(GridIndex.self, from: tmp.appendingPathComponent("runs/wd/\(GridIndex.fileName)"))
        XCTAssertEqual(index.runs.count, 8)
        for value in ["0.0", "0.5"] {
            let start = try XCTUnwrap(markdown.range(of: "\n## `weight_decay` = \(value), strategies against `learned`\n"), markdown)
            let section = markdown[start.upperBound...]
            let body = section.range(of: "\n## ").map { section[..<$0.lowerBound] } ?? section
            for strategy in ["learned", "frozen-random"] {
                let runs = index.runs.filter { $0.axes["weight_decay"] == value && $0.axes["strategy"] == strategy }
                XCTAssertEqual(runs.count, 2)
                let recorded = try runs.map { entry in
                    try RunJSON.read(GridRunFile<JSONValue>.self, from: tmp.appendingPathComponent("runs/wd/\(entry.id)/\(RunFiles.gridRun)"))
                }
                XCTAssertEqual(recorded.map { $0.axes["weight_decay"] }, [value, value])
                let finals = try runs.map { entry in
                    try RunJSON.read(RunSummary.self, from: tmp.appendingPathComponent("runs/wd/\(entry.id)/\(RunFiles.summary)")).finalValLoss
                }
                let mean = String(format: "%.4f", finals.reduce(0, +) / 2)
                let row = body.split(separator: "\n").first { $0.hasPrefix("| `\(strategy)` |") && $0.contains("(n = 2)") }
                XCTAssertTrue(row?.contains("| \(mean) ± ") ?? false, "\(strategy) at \(value): mean \(mean) not in \(row ?? "no row")")
            }
        }

        // `export table` over the grid; a truncated summary.json (a copy killed mid-transfer) is named with the fix.
        let table = try ablate.run(["export", "table", "runs/wd", "--out", "table"])
        XCTAssertEqual(table.status, 0, table.output)
        let summary = tmp.appendingPathComponent("runs/wd/\(index.runs[0].id)/\(RunFiles.summary)")
        try Data(try Data(contentsOf: summary).prefix(40)).write(to: summary)
        let broken = try ablate.run(["export", "table", "runs/wd", "--out", "table2"])
        XCTAssertNotEqual(broken.status, 0)
        XCTAssertTrue(broken.output.contains("\(index.runs[0].id)/summary.json: is not valid JSON (truncated or corrupt). Fix:"), broken.output)
    }
}
