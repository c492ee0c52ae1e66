import ArgumentParser
import Foundation
import RunFormat
import Trainer

/// `ablate export`: results in the formats of other tools.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a model to Hugging Face transformers, or a grid's results as CSV tables for pandas.",
        subcommands: [HF.self, Table.self])

    struct HF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hf",
            abstract: "Write a folder that transformers loads as GPT2LMHeadModel + PreTrainedTokenizerFast.",
            discussion: """
                RUN_OR_CHECKPOINT is a run folder (its latest checkpoint), a checkpoint folder or a model.safetensors file. \
                The folder holds config.json, model.safetensors (GPT-2 names, Conv1D [in, out] layout), tokenizer.json and \
                tokenizer_config.json. Every strategy exports its effective input table (hashed and low-rank tables are \
                materialised); μP's input and output multipliers are folded into wte and lm_head and its 1/d_head \
                attention scale into the query weights, so no custom code is needed. Biases the run did not have are \
                zeros. bos/eos are id 0 (the NUL byte, never in text). Checked by `make test-hf`.
                """)

        @Argument(help: ArgumentHelp("A run folder, checkpoint folder or model.safetensors.", valueName: "run-or-checkpoint"))
        var path: String
        @Option(help: "Output folder (replaced atomically).") var out: String

        func run() throws {
            try reportingErrors {
                let loaded = try RunArtifacts.loadModel(at: path, batchSize: 1)
                let provenance = [
                    "source": loaded.file.path, "checkpoint": loaded.checkpointName,
                    "ablate_version": AblateVersion.string,
                ]
                let folder = try HuggingFaceExport.folder(model: loaded.model, tokenizer: loaded.tokenizer, provenance: provenance)
                try HuggingFaceExport.write(folder, to: URL(fileURLWithPath: out))
                print("wrote \(out) (GPT2LMHeadModel, strategy \(loaded.model.strategy.name), \(loaded.checkpointName))")
                for note in folder.notes { print("note: \(note)") }
            }
        }
    }

    struct Table: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "table",
            abstract: "Write runs.csv (one row per run) and metrics.csv (one row per logged step and split) for pandas.",
            discussion: """
                runs.csv: run_id, every key of config.json flattened with dots (config.*, model.*, strategy_options.*, \
                parameters.*, provenance.*), summary.* (final_val_loss in nats, final_val_bpb in bits per byte, \
                tokens, train_bytes, train_flops, elapsed_s, parameter counts, timing.*: where the process's wall time \
                went) and status.* (state, step, reason).
                metrics.csv: run_id, step, tokens, split (train | val), loss (nats), bpb (val rows: bits per byte), lr, \
                grad_norm, tokens_per_s, elapsed_s. Missing values are empty fields; pandas.read_csv reads both with \
                numeric columns as int64/float64.
                """)

        @Argument(help: ArgumentHelp("A grid's run folder (runs/<grid>) or one run.", valueName: "runs")) var path: String
        @Option(help: "Output folder (default: the runs folder itself).") var out: String?

        func run() throws {
            try reportingErrors {
                let root = URL(fileURLWithPath: path).standardizedFileURL
                let runs = try RunArtifacts.runFolders(root)
                guard !runs.isEmpty else {
                    throw CLIError("\(root.path): holds no run folder (no config.json found). Fix: give runs/<grid> or a run folder.")
                }
                var runRows: [[String: CSVValue]] = [], metricRows: [[String: CSVValue]] = []
                for run in runs {
                    let id =
                        run.standardizedFileURL.path == root.path
                        ? run.lastPathComponent
                        : String(run.standardizedFileURL.path.dropFirst(root.path.count + 1))
                    runRows.append(try RunArtifacts.runRow(run, id: id))
                    metricRows += try RunArtifacts.metricRows(run, id: id)
                }
                let columns = ["run_id"] + Set(runRows.flatMap(\.keys)).subtracting(["run_id"]).sorted()
                let dir = URL(fileURLWithPath: out ?? root.path)
                try FolderCreation.create(dir, option: out == nil ? nil : "--out")
                for (name, table) in [
                    ("runs.csv", CSVTable(columns: columns, rows: runRows)),
                    ("metrics.csv", CSVTable(columns: RunArtifacts.metricColumns, rows: metricRows)),
                ] {
                    let url = dir.appendingPathComponent(name)
                    try AtomicWrite.write(Data(table.text.utf8), to: url)
                    print("wrote \(url.path) (\(table.rows.count) rows, \(table.columns.count) columns)")
                }
            }
        }
    }
}
