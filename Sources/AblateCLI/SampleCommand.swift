import ArgumentParser
import Foundation
import Kernels
import Report
import RunFormat
import Trainer

/// `ablate sample`: text from a checkpoint, streamed to the terminal (nanoGPT's sample.py).
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate text from a run's latest checkpoint with the run's tokenizer, streaming it to the terminal.",
        discussion: """
            RUN is a run folder (its latest checkpoint), a checkpoint folder or a model.safetensors file; with a folder of \
            runs and --save, every run below it is sampled. Each token is drawn from softmax(logits / temperature) over \
            the top-k logits (temperature 0: always the most likely token); the same checkpoint, prompt and --seed give \
            the same text. A context longer than the model's context_length is cropped to its last context_length tokens. \
            --save writes samples.json into the run folder (atomically) for the report's Samples section.
            """)

    @Argument(help: ArgumentHelp("A run folder, checkpoint folder or model.safetensors (with --save: also a folder of runs).", valueName: "run"))
    var path: String
    @Option(help: "Text to continue.") var prompt: String = "\n"
    @Option(help: "Tokens to generate.") var tokens: Int = 200
    @Option(help: "Softmax temperature (0 = greedy).") var temperature: Double = 0.8
    @Option(name: .customLong("top-k"), help: "Draw only among the k most likely tokens (0 = all).") var topK: Int = 200
    @Option(help: "Sampling seed.") var seed: UInt64 = 1337
    @Flag(help: "Write samples.json into the run folder instead of printing (quietly, for the report).") var save = false
    /// One thread by default: a batch of one sequence makes products too small to split, and on a busy machine a
    /// second BLAS thread waiting for a core made `sample --save` over the default grid's 36 runs 9× slower.
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "With --save: runs sampled at once, at most one per core (default: one per core at --threads 1). The text does not depend on it.")
    var jobs: Int?

    func validate() throws {
        guard tokens >= 1 else { throw ValidationError("--tokens must be ≥ 1, got \(tokens)") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be ≥ 0, got \(temperature)") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0 (0 = all tokens), got \(topK)") }
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be in 1…1024, got \(threads)") }
        if jobs != nil && !save { throw ValidationError("--jobs applies to --save only (one run sampled at a time otherwise)") }
        try ConcurrentRuns.validate(jobs: jobs, threads: threads)
        guard !prompt.isEmpty else {
            throw ValidationError("--prompt must not be empty (the model needs one token to start from; the default is a newline)")
        }
    }

    var options: SamplingOptions { SamplingOptions(temperature: temperature, topK: topK == 0 ? nil : topK, seed: seed) }

    func run() throws {
        try reportingErrors {
            BLAS.setThreads(threads)
            if save {
                let root = URL(fileURLWithPath: path)
                let runs = try RunArtifacts.runFolders(root)
                guard !runs.isEmpty else { throw CLIError("\(path): holds no run folder. Fix: give a run folder or runs/<grid> with --save.") }
                let failures = ConcurrentRuns.forEach(count: runs.count, jobs: jobs ?? ConcurrentRuns.defaultJobs(threads: threads)) { i in
                    let run = runs[i]
                    guard RunArtifacts.hasCheckpoint(run) else {
                        return ("skipped \(CheckpointLocator.missingCheckpoint(run.path, run: run))", nil)
                    }
                    do {
                        try generate(at: run.path, stream: false).write(toRun: run)
                        return ("wrote \(run.appendingPathComponent(RunSamples.fileName).path)", nil)
                    } catch {
                        return ("failed \(run.path): \(error)", error)
                    }
                }
                if let lone = ConcurrentRuns.loneFailure(failures, tasks: runs.count, task: runs[0], given: root) { throw lone }
                if !failures.isEmpty {
                    throw CLIError(
                        "\(failures.count) of \(runs.count) run(s) under \(path) could not be sampled (named above); the others were. "
                            + "Fix: see each message, then sample again.")
                }
                return
            }
            _ = try generate(at: path, stream: true)
        }
    }

    /// Generates from one checkpoint; with `stream`, writes the prompt and then each token's bytes as drawn.
    func generate(at path: String, stream: Bool) throws -> RunSamples {
        let loaded = try RunArtifacts.loadModel(at: path, batchSize: 1)
        let promptIDs = loaded.tokenizer.encode(prompt)
        let out = FileHandle.standardOutput
        if stream { out.write(Data(prompt.utf8)) }
        let ids = TextGenerator(model: loaded.model).generate(prompt: promptIDs, count: tokens, options: options) { id in
            if stream { out.write(Data(loaded.tokenizer.decode([id]))) }
        }
        if stream { out.write(Data("\n".utf8)) }
        return RunSamples(
            prompt: prompt, text: loaded.tokenizer.decodeText(ids), seed: seed, temperature: temperature,
            topK: options.topK, tokens: tokens, checkpoint: loaded.checkpointName)
    }
}
