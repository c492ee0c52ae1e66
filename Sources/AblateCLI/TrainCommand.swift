import ArgumentParser
import Dataset
import Foundation
import Grid
import Model
import Probes
import RunFormat
import Trainer

/// Options shared by commands that build a training config: a file plus flag overrides.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "A YAML or JSON config file (the keys are listed below).")
    var config: String?

    @Option(name: .customLong("set"), help: "Override any config key: --set learning_rate=3e-4 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Embedding strategy (see `ablate strategies`).") var strategy: String?
    @Option(help: "Model preset: tiny, small, base, medium, large.") var preset: String?
    @Option(help: "Corpus name under $ABLATE_HOME/corpus, or a path to a .txt file or folder.") var corpus: String?
    @Option(help: "Tokenizer vocabulary size.") var vocab: Int?
    @Option(help: "Training steps.") var steps: Int?
    @Option(help: "Seed (model init and data order).") var seed: UInt64?
    @Option(help: "Threads (OpenBLAS and the model's batch shards); results do not depend on it (see batch_shards).")
    var threads: Int?

    /// No config source given at all (then `--resume` reuses the run folder's recorded config).
    var isEmpty: Bool {
        config == nil && overrides.isEmpty && strategy == nil && preset == nil && corpus == nil && vocab == nil
            && steps == nil && seed == nil && threads == nil
    }

    func resolve() throws -> TrainConfig {
        var object: [String: JSONValue] = [:]
        if let config { object = try ConfigLoading.load(path: config) }
        let fileObject = object
        for (k, v) in try ConfigLoading.parseOverrides(overrides) { object[k] = v }
        if let strategy { object["strategy"] = .string(strategy) }
        if let preset { object["preset"] = .string(preset) }
        if let corpus { object["corpus"] = .string(corpus) }
        if let vocab { object["vocab_size"] = .int(vocab) }
        if let steps { object["max_steps"] = .int(steps); object["max_tokens"] = .null; object["max_train_bytes"] = .null }
        if let seed {
            guard let s = Int(exactly: seed) else { throw CLIError("--seed \(seed): must be at most \(Int.max). Fix: use a smaller seed.") }
            object["seed"] = .int(s)
        }
        if let threads { object["threads"] = .int(threads) }
        if object["preset"] == nil && object["d_model"] == nil { object["preset"] = .string("small") }
        // Name the file a bad value came from, when it came from one (not from --set or another flag).
        func fromFile(_ e: ConfigError) -> ConfigError {
            var e = e
            let key = String(e.key.prefix { $0 != "." })
            e.file = config != nil && fileObject[key] != nil && object[key] == fileObject[key] ? config : nil
            return e
        }
        let c: TrainConfig
        do { c = try TrainConfig.from(object) } catch let e as ConfigError { throw fromFile(e) }
        // Every bad value at once, so that one edit of the file mends them all.
        let problems = c.problems().map(fromFile)
        if problems.count == 1 { throw problems[0] }
        if !problems.isEmpty {
            throw CLIError("\(problems.count) problems in the config:\n" + problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        return c
    }
}

enum DataLoading {
    /// Tokenizer and token streams for a config (cached under $ABLATE_HOME).
    static func prepare(_ config: TrainConfig) throws -> PreparedData {
        let home = AblateHome.fromEnvironment()
        if CorpusReference.isPath(config.corpus) {
            return try PreparedData.load(corpusAt: URL(fileURLWithPath: config.corpus), vocabSize: config.vocabSize, home: home)
        }
        return try PreparedData.load(corpus: config.corpus, vocabSize: config.vocabSize, home: home)
    }
}

/// `ablate train`: one model, one run folder.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one model and write a run folder (config, metrics.jsonl, status, checkpoints).",
        discussion: "Config keys and their defaults (set them in --config FILE or with --set key=value):\n" + defaultKeys())

    /// Every config key with its default, generated from `TrainConfig()` so the help cannot go stale.
    static func defaultKeys() -> String {
        guard case let .object(fields)? = try? JSONValue.encode(TrainConfig()) else { return "" }
        // Optional keys whose absence means a default the trainer resolves (not written, so old config hashes hold).
        let resolved = [
            "snapshots": "(unset: on)", "snapshot_count": "(unset: \(TrainConfig().resolvedSnapshotCount))",
            "batch_shards": "(unset: \(TrainConfig.defaultBatchShards), at most batch_size)",
            "preset": "(unset: small, when d_model, n_layer and n_head are not given either)",
        ]
        return TrainConfig.keys.map { key in "  \(key) = \(fields[key].map(\.description) ?? resolved[key] ?? "(unset)")" }
            .joined(separator: "\n")
    }

    @OptionGroup var options: ConfigOptions

    @Option(help: "Run folder (default: runs/single/<strategy>-d<D>-L<L>-v<V>-s<seed>).") var out: String?
    @Flag(help: "Continue from the run folder's latest checkpoint (bit-identical to an uninterrupted run).") var resume = false
    @Flag(help: "Start over even if the run folder holds results.") var force = false

    func run() throws {
        // `--resume` with no other settings continues the run with the config recorded in its folder: there must be
        // one (never a new run with the defaults). With settings, `--resume` continues the folder's run if it has a
        // checkpoint and starts it otherwise, so that one command can be re-run after an interruption.
        let config: TrainConfig
        if resume, options.isEmpty {
            config = try Self.configToResume(in: out.map { URL(fileURLWithPath: $0) } ?? Self.defaultFolder(try options.resolve()))
        } else {
            config = try options.resolve()
        }
        _ = try config.modelConfig()  // a bad model shape stops here, before anything is written
        let folderURL = try out.map { URL(fileURLWithPath: $0) } ?? Self.defaultFolder(config)
        let folder = RunFolder(folderURL)
        let fm = FileManager.default
        let startOver = fm.fileExists(atPath: folder.configURL.path) && !resume
        if !fm.fileExists(atPath: folder.configURL.path) {
            // A new run gets a folder of its own: never write run files among someone's other files.
            let foreign = Self.foreignEntries(in: folderURL)
            guard foreign.isEmpty else {
                throw CLIError(
                    "\(folderURL.path) holds other files (\(foreign.prefix(5).joined(separator: ", "))\(foreign.count > 5 ? ", …" : "")); "
                        + "a run needs a folder of its own. Fix: pass another --out (a new or empty folder).")
            }
        }
        if startOver {
            guard force else {
                throw CLIError(
                    "\(folderURL.path) already holds a run. Fix: pass --resume to continue it, --force to start over, or --out for a new folder.")
            }
            // A run being trained holds checkpoint temporaries for a moment: say it is busy, not that it holds foreign files.
            guard !RunLock.isLocked(folder: folderURL) else { throw Self.busy(folderURL) }
            guard Self.recordedConfig(in: folderURL) != nil else {
                throw CLIError(
                    "\(folder.configURL.path) is not the config of an `ablate` run; --force only ever deletes a run folder. Fix: pass another --out.")
            }
            let foreign = Self.foreignEntries(in: folderURL)
            guard foreign.isEmpty else {
                throw CLIError(
                    "\(folderURL.path) holds files that `ablate train` did not write (\(foreign.prefix(5).joined(separator: ", "))"
                        + "\(foreign.count > 5 ? ", …" : "")); --force only ever deletes a run folder. Fix: move them away, or pass another --out.")
            }
        }
        // Everything is checked (corpus, tokenizer, strategy, model) before the folder is locked or emptied.
        let prepared = try DataLoading.prepare(config)
        let trainer = try Trainer(
            config: config, data: try RunData(prepared: prepared, config: config), folder: folder, timingFromProcessStart: true)
        if config.warmupSteps >= trainer.totalSteps {
            print(
                "note: warmup_steps (\(config.warmupSteps)) ≥ the run's \(trainer.totalSteps) steps: the learning rate never "
                    + "reaches its peak (set warmup_steps, e.g. --set warmup_steps=\(max(1, trainer.totalSteps / 10)))")
        }
        try FolderCreation.create(folderURL, option: out == nil ? nil : "--out")
        // The grid workers' lock: a second writer (another `train`, or `grid run` on this run) stops here.
        guard let lock = try RunLock.tryAcquire(folder: folderURL) else { throw Self.busy(folderURL) }
        defer { lock.release() }
        if startOver { try lock.clearFolder() }
        if let note = trainer.vocabularyNote { print("note: \(note)") }
        if resume {
            if let from = try trainer.resumeIfPossible() {
                print("resuming \(folderURL.path) from step \(from)")
                if let note = trainer.resumeNote { print("note: \(note)") }
            } else {
                print("no checkpoint in \(folderURL.path): starting from step 0")
            }
        }
        let progress = TerminalProgress(label: config.strategy)
        trainer.observer = progress
        let stop = StopFlag.install()
        let result = try trainer.run(shouldStop: { stop.isSet })
        switch result.status.state {
        case .finished:
            print(
                String(
                    format: "finished: %d steps, %d tokens, final val loss %.4f (%.4f bits/byte), %.1f s → %@",
                    result.steps, result.tokens, result.finalValLoss ?? .nan, result.finalValBpb ?? .nan, result.elapsed, folderURL.path))
        case .running:
            print("stopped at step \(result.steps); checkpoint written. Resume with: ablate train --resume --out \(folderURL.path)")
            throw ExitCode(130)
        case .diverged, .failed:
            // An error report: on stderr, with the fix; status.json keeps the bare reason (the grid reads it).
            var message = "\(result.status.state.rawValue): \(result.status.reason ?? "")"
            if result.status.state == .diverged {
                message += ". Fix: \(config.divergenceFix), then start over with --force"
            }
            FileHandle.standardError.write(Data("Error: \(message).\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension TrainCommand {
    /// The refusal when another process holds the run's lock.
    static func busy(_ folder: URL) -> CLIError {
        CLIError(
            "busy: \(folder.path) is being trained by another process (\(RunLock.holder(folder: folder) ?? "?")). "
                + "Fix: wait for it to finish (then --resume), or stop that process.")
    }

    /// Entries of a run folder that a run does not write (relative paths): `--force` deletes only run folders.
    static func foreignEntries(in folder: URL) -> [String] {
        let fm = FileManager.default
        let own: Set<String> = [
            RunFiles.config, RunFiles.metrics, RunFiles.status, RunFiles.summary, RunFiles.probes,
            RunFiles.samples, RunFiles.gridRun, RunFiles.trainLog, RunFiles.checkpoints, RunFiles.snapshots,
            RunLock.fileName,
        ]
        let checkpointFiles: Set<String> = [Checkpoint.modelFile, Checkpoint.optimizerFile, Checkpoint.stateFile]
        func list(_ url: URL) -> [String] { (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] }
        func isDirectory(_ url: URL) -> Bool {
            var d: ObjCBool = false
            return fm.fileExists(atPath: url.path, isDirectory: &d) && d.boolValue
        }
        // Temporaries of atomic writes, in flight or left by a killed writer: ablate's own (`AtomicWrite`) and
        // Foundation's (a checkpoint's `step-N.tmp/` is checked as a step).
        func isTemporary(_ name: String) -> Bool { name.hasPrefix(".dat.nosync") || AtomicWrite.temporaryWriter(name) != nil }
        var foreign: [String] = []
        for name in list(folder).sorted() where !isTemporary(name) {
            let url = folder.appendingPathComponent(name)
            guard own.contains(name), isDirectory(url) == [RunFiles.checkpoints, RunFiles.snapshots].contains(name) else {
                foreign.append(name); continue
            }
            for inner in list(url).sorted() where !isTemporary(inner) {
                let innerURL = url.appendingPathComponent(inner)
                let ok: Bool
                if name == RunFiles.snapshots {
                    ok = inner == EmbeddingSnapshots.manifestFile || (inner.hasPrefix("step-") && inner.hasSuffix(".safetensors"))
                } else {
                    ok =
                        inner == RunFiles.latest
                        || (inner.hasPrefix("step-") && isDirectory(innerURL)
                            && Set(list(innerURL).filter { !isTemporary($0) }).isSubset(of: checkpointFiles))
                }
                if !ok { foreign.append("\(name)/\(inner)") }
            }
        }
        return foreign
    }

    /// runs/single/<strategy>-d<D>-L<L>-v<V>-s<seed>: where a run goes without `--out`.
    static func defaultFolder(_ config: TrainConfig) throws -> URL {
        let model = try config.modelConfig()
        return URL(
            fileURLWithPath: "runs/single/"
                + RunID.compose(
                    arm: config.strategy, dModel: model.dModel, nLayer: model.nLayer, vocabSize: config.vocabSize, seed: config.seed))
    }

    /// The config `--resume` without settings continues: the one the run folder recorded, validated; an error when
    /// the folder holds no run (or its config.json cannot be read).
    static func configToResume(in folder: URL) throws -> TrainConfig {
        let configURL = RunFolder(folder).configURL
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw CLIError(
                "--resume: \(folder.path) holds no run to continue (no \(RunFiles.config)). Fix: to start a run "
                    + "there, drop --resume and give its config (e.g. ablate train --config my.yaml --out \(folder.path)); to "
                    + "continue a run, give its folder to --out.")
        }
        let recorded = try RunFolder(folder).read(ResolvedRunConfig.self).config
        do { try recorded.validate() } catch var e as ConfigError {
            e.file = configURL.path
            throw e
        }
        return recorded
    }

    /// The config a run folder recorded (config.json's `config`), if any.
    static func recordedConfig(in folder: URL) -> TrainConfig? {
        guard let resolved = try? RunFolder(folder).read(ResolvedRunConfig.self) else { return nil }
        return resolved.config
    }
}

/// Ctrl-C / SIGTERM set a flag; the trainer checks it between steps, writes a checkpoint and stops cleanly.
final class StopFlag: @unchecked Sendable {
    nonisolated(unsafe) static var shared = StopFlag()
    private(set) var isSet = false
    private var sources: [DispatchSourceSignal] = []

    static func install() -> StopFlag {
        let flag = shared
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { flag.isSet = true }
            source.resume()
            flag.sources.append(source)
        }
        return flag
    }
}
