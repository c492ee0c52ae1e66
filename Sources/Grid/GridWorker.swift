import Foundation
import RunFormat
import Trainer

/// How a worker process ends; the runner reads these exit statuses.
public enum WorkerExit: Int32, Sendable {
    case finished = 0
    case failed = 1
    case diverged = 2
    /// The folder holds another config under this id (and --force was not given).
    case changed = 4
    /// Another live process holds the run's lock.
    case busy = 75
    /// Stopped by a signal after writing a checkpoint; resume continues it.
    case interrupted = 130
}

/// Trains one grid run in this process: lock, check the folder, resume, train, record. Used by
/// `ablate grid run-one` (spawned by `ablate grid run`, or a Slurm array task).
public struct GridWorker {
    public var grid: GridFile
    public var run: GridRun
    public var layout: GridLayout
    public var threads: Int
    public var force: Bool
    public var log: (String) -> Void

    public init(grid: GridFile, run: GridRun, layout: GridLayout, threads: Int, force: Bool, log: @escaping (String) -> Void) {
        self.grid = grid; self.run = run; self.layout = layout; self.threads = threads; self.force = force; self.log = log
    }

    /// `makeData` loads the corpus and tokenizer (the CLI's data loading); `shouldStop` is checked between steps.
    public func execute(
        observer: TrainingObserver? = nil, makeData: (TrainConfig) throws -> RunData,
        shouldStop: @escaping () -> Bool
    ) -> WorkerExit {
        let url = layout.folder(run)
        let lock: RunLock
        do {
            guard let l = try RunLock.tryAcquire(folder: url) else {
                log("busy: \(run.id) is being trained by another process (\(RunLock.holder(folder: url) ?? "?")); skipped")
                return .busy
            }
            lock = l
        } catch { log("failed: \(error)"); return .failed }
        defer { lock.release() }

        let folder = RunFolder(url)
        switch RunDiskState.of(run, grid: grid, folder: url) {
        case .finished:
            log("\(run.id): already finished"); return .finished
        case let .diverged(reason) where !force:
            log("\(run.id): diverged earlier (\(reason)); --force retrains it"); return .diverged
        case let .changed(detail) where !force:
            log(
                "refused: \(url.path) holds a different run under the id \(run.id): \(detail). Fix: restore the grid file, or pass --force to discard that folder and retrain"
            )
            return .changed
        case .changed, .diverged:
            try? lock.clearFolder()
        case .failed where force:
            try? lock.clearFolder()
        default: break
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try RunJSON.write(GridRunRecord(grid: grid, run: run), to: url.appendingPathComponent(GridRunRecord.fileName))
            var config = run.config
            config.threads = threads
            // This process is the run's: its timing counts from the process start (binary, grid file, data loading).
            let trainer = try Trainer(config: config, data: try makeData(config), folder: folder, timingFromProcessStart: true)
            if let note = trainer.vocabularyNote { log("\(run.id): note: \(note)") }
            if let from = try trainer.resumeIfPossible() {
                log("\(run.id): resuming from step \(from)")
                if let note = trainer.resumeNote { log("\(run.id): note: \(note)") }
            }
            trainer.observer = observer
            let result = try trainer.run(shouldStop: shouldStop)
            switch result.status.state {
            case .finished:
                log(
                    String(format: "%@: finished, %d steps, val loss %.4f, %.1f s", run.id, result.steps, result.finalValLoss ?? .nan, result.elapsed)
                )
                if let t = result.timing { log("\(run.id): process \(GridOverhead.seconds(t.wall)): \(GridOverhead.shares([t]))") }
                return .finished
            case .running:
                log("\(run.id): stopped at step \(result.steps), checkpoint written"); return .interrupted
            case .diverged, .failed:
                log("\(run.id): \(result.status.state.rawValue): \(result.status.reason ?? "")"); return .diverged
            }
        } catch {
            let reason = "\(error)"
            log("\(run.id): failed: \(reason)")
            try? folder.writeStatus(
                RunStatus(state: .failed, step: folder.readStatus()?.step ?? 0, totalSteps: run.totalSteps, reason: reason))
            return .failed
        }
    }
}
