import Foundation
import Grid
import RunFormat
import TestSupport
import Trainer
import XCTest

/// `ablate grid run` end to end with the built binary: worker processes, resume after kill -9 at several points
/// (bit-identical to an uninterrupted run), Ctrl-C, lock contention, a diverging run, changed configs, progress
/// output when stdout is not a terminal. Tiny models on a generated corpus; skipped if `ablate` is not built.
final class GridProcessTests: BinaryTestCase {
    /// Everything deterministic about a finished run: metrics without timings, and the final weights' bytes.
    func fingerprint(_ folder: URL) throws -> (metrics: [String], weights: Data) {
        let rf = RunFolder(folder)
        let metrics = try rf.readMetrics().map { r in
            "\(r.step) \(r.tokens) \(String(describing: r.trainLoss)) \(String(describing: r.valLoss)) \(r.lr) \(String(describing: r.gradNorm))"
        }
        let ckpt = try XCTUnwrap(Checkpoint.latest(in: rf), "no checkpoint in \(folder.path)")
        return (metrics, try Data(contentsOf: ckpt.appendingPathComponent(Checkpoint.modelFile)))
    }

    /// kill -9 of the worker at several points (before the first checkpoint, between checkpoints, right after
    /// one), then `grid run` resumes: the final metrics and weights equal an uninterrupted run's, bit for bit.
    func testResumeAfterKill9IsBitIdentical() throws {
        let grid = try writeGrid("resume", steps: 200, axes: "  strategy: [learned]\n  seed: [1]")
        let id = "learned-d16-L1-v256-s1"
        let reference = try ablate(["grid", "run", grid, "--runs", "ref", "--jobs", "1"])
        XCTAssertEqual(reference.status, 0, reference.output)

        let folder = runFolder("resume", id)
        var killedAt: [Int] = []
        for target in [3, 47, 120] {
            let (p, _) = try start(["grid", "run-one", grid, "--run", id, "--threads", "1"])
            let deadline = Date().addingTimeInterval(60)
            while p.isRunning && Date() < deadline && ((try? RunFolder(folder).readMetrics())?.last?.step ?? 0) < target { usleep(500) }
            guard p.isRunning else { break }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            killedAt.append((try? RunFolder(folder).readMetrics())?.last?.step ?? 0)
        }
        XCTAssertFalse(killedAt.isEmpty, "the worker finished before any kill")
        XCTAssertNotEqual(RunFolder(folder).readStatus()?.state, .finished)
        let resumed = try ablate(["grid", "run", grid, "--jobs", "1", "--log-every", "0"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(RunFolder(folder).readStatus()?.state, .finished)
        let a = try fingerprint(runFolder("resume", id, root: "ref")), b = try fingerprint(folder)
        XCTAssertEqual(a.metrics, b.metrics, "metrics differ after kills at steps \(killedAt)")
        XCTAssertTrue(a.weights == b.weights, "weights differ after kills at steps \(killedAt)")
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("train.log"), encoding: .utf8).contains("resuming from step"))

        // Re-running a finished grid does nothing and succeeds.
        let again = try ablate(["grid", "run", grid, "--jobs", "1"])
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.output.contains("1 already finished"), again.output)
    }

    /// Ctrl-C (SIGINT to `grid run`): workers checkpoint and stop, exit status 130; re-running completes with the
    /// same numbers as an uninterrupted run.
    func testInterruptThenResume() throws {
        let grid = try writeGrid("intr", steps: 300, axes: "  seed: [1, 2]")
        let ref = try ablate(["grid", "run", grid, "--runs", "ref"])
        XCTAssertEqual(ref.status, 0, ref.output)
        let (p, pipe) = try start(["grid", "run", grid, "--log-every", "0"])
        let folder = runFolder("intr", "learned-d16-L1-v256-s1")
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline && ((try? RunFolder(folder).readMetrics())?.last?.step ?? 0) < 20 { usleep(1000) }
        kill(p.processIdentifier, SIGINT)
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus == 0 { throw XCTSkip("the grid finished before the interrupt (machine too fast)") }
        XCTAssertEqual(p.terminationStatus, 130, out)
        XCTAssertTrue(out.contains("interrupted"), out)
        let state = RunFolder(folder).readStatus()
        XCTAssertEqual(state?.state, .running)
        XCTAssertEqual(state?.reason, "interrupted; resume to continue")
        let again = try ablate(["grid", "run", grid])
        XCTAssertEqual(again.status, 0, again.output)
        for s in 1...2 {
            let id = "learned-d16-L1-v256-s\(s)"
            let a = try fingerprint(runFolder("intr", id, root: "ref")), b = try fingerprint(runFolder("intr", id))
            XCTAssertEqual(a.metrics, b.metrics)
            XCTAssertTrue(a.weights == b.weights)
        }
    }

    /// A run whose folder is locked by another process is skipped (reported busy), the rest of the grid runs;
    /// once the lock is released, re-running trains it.
    func testLockContention() throws {
        let grid = try writeGrid("lock", axes: "  seed: [1, 2]")
        let locked = runFolder("lock", "learned-d16-L1-v256-s1")
        let lock = try XCTUnwrap(try RunLock.tryAcquire(folder: locked))
        let first = try ablate(["grid", "run", grid, "--log-every", "0"])
        XCTAssertEqual(first.status, 3, first.output)
        XCTAssertTrue(first.output.contains("busy learned-d16-L1-v256-s1"), first.output)
        XCTAssertNil(RunFolder(locked).readStatus())
        XCTAssertEqual(RunFolder(runFolder("lock", "learned-d16-L1-v256-s2")).readStatus()?.state, .finished)
        lock.release()
        let second = try ablate(["grid", "run", grid])
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertEqual(RunFolder(locked).readStatus()?.state, .finished)
    }

    /// While one `grid run` holds the grid folder, a second `grid run` of that grid is refused at once (naming the
    /// holder and the folder; no worker started); Slurm tasks (`grid run-one`) are not: they lock only their run. A
    /// lock file left by a process that is gone (its text still names it) does not block.
    func testSecondGridRunOfOneGridIsRefused() throws {
        let grid = try writeGrid("twice", axes: "  seed: [1, 2]")
        let gridFolder = tmp.appendingPathComponent("runs/twice")
        let lock = try XCTUnwrap(try RunLock.tryAcquire(folder: gridFolder))
        let refused = try ablate(["grid", "run", grid, "--log-every", "0"])
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("twice.yaml: this grid is already being run by process \(getpid()) on host "), refused.output)
        XCTAssertTrue(refused.output.contains(gridFolder.path), refused.output)
        XCTAssertTrue(refused.output.contains("Fix: wait for that `ablate grid run` to finish"), refused.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runFolder("twice", "learned-d16-L1-v256-s1").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: runFolder("twice", "learned-d16-L1-v256-s2").path))
        let task = try ablate(["grid", "run-one", grid, "--run", "learned-d16-L1-v256-s1"])
        XCTAssertEqual(task.status, 0, task.output)
        lock.release()
        XCTAssertEqual(RunLock.holder(folder: gridFolder)?.hasPrefix("\(getpid()) "), true)  // stale text, no lock
        let after = try ablate(["grid", "run", grid, "--log-every", "0"])
        XCTAssertEqual(after.status, 0, after.output)
        XCTAssertTrue(after.output.contains("1 finished now, 1 already finished"), after.output)
    }

    /// A grid that can only fail at run time is refused by `grid plan` and `grid run` before any worker starts, at
    /// file:line with the fix: a corpus path that is not there, a corpus name not prepared under ABLATE_HOME (this
    /// test's is empty), a tied head on a strategy without a single trainable table.
    func testRunTimeFailuresAreReportedBeforeAnyWorker() throws {
        let gone = try writeGrid("gone", axes: "  seed: [1]")
        let unprepared = try writeGrid("unprepared", axes: "  seed: [1]")
        let tied = try writeGrid("tied", axes: "  strategy: [learned, hashed]\n  tie_embeddings: [true]")
        for (name, file) in [("gone", gone), ("unprepared", unprepared)] {
            var text = try String(contentsOfFile: file, encoding: .utf8)
            text = text.replacingOccurrences(of: "\(tmp.path)/tiny.txt", with: name == "gone" ? "/nonexistent/x.txt" : "shakespeare")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        let expected = [
            "gone": "gone.yaml:2:16: 'corpus': /nonexistent/x.txt: no such file or folder",
            "unprepared":
                "unprepared.yaml:2:16: 'corpus': corpus 'shakespeare' is not prepared (no \(tmp.path)/.ablate/corpus/shakespeare/manifest.json); run `make data`",
            "tied":
                "tied.yaml:7:20: 'tie_embeddings': strategy 'hashed' has no single trainable V×D table to share with the output head. Fix: set tie_embeddings: false",
        ]
        for (name, file) in [("gone", gone), ("unprepared", unprepared), ("tied", tied)] {
            for command in ["plan", "run"] {
                let r = try ablate(["grid", command, file])
                XCTAssertEqual(r.status, 1, "\(name) \(command): \(r.output)")
                XCTAssertTrue(r.output.contains(expected[name]!), "\(name) \(command): \(r.output)")
                XCTAssertTrue(r.output.contains("1 error in \(file); nothing was run."), "\(name) \(command): \(r.output)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("runs/\(name)").path), name)
        }
    }

    /// A diverging run (huge learning rate) is recorded; the rest of the grid finishes; the exit status says so.
    func testDivergingRunDoesNotStopTheGrid() throws {
        let grid = try writeGrid(
            "div",
            axes: """
                  lr: [{label: ok, learning_rate: 3e-3}, {label: huge, learning_rate: 1e6, grad_clip: 0, warmup_steps: 0}]
                  seed: [1]
                """)
        let r = try ablate(["grid", "run", grid, "--jobs", "1", "--log-every", "0"])
        XCTAssertEqual(r.status, 3, r.output)
        XCTAssertTrue(r.output.contains("DIVERGED learned-d16-L1-v256-huge-s1"), r.output)
        XCTAssertTrue(r.output.contains("diverged: learned-d16-L1-v256-huge-s1: non-finite"), r.output)
        XCTAssertEqual(RunFolder(runFolder("div", "learned-d16-L1-v256-ok-s1")).readStatus()?.state, .finished)
        let index = try JSONDecoder().decode(GridIndex.self, from: Data(contentsOf: tmp.appendingPathComponent("runs/div/grid.json")))
        XCTAssertEqual(index.runs.map(\.state), ["finished", "diverged"])
        // A re-run does not retrain the diverged run and still reports it.
        let again = try ablate(["grid", "run", grid, "--jobs", "1"])
        XCTAssertEqual(again.status, 3)
        XCTAssertTrue(again.output.contains("1 diverged"), again.output)
    }

    /// Changing the grid file under an existing run id is refused (listing what changed) unless --force.
    func testChangedConfigIsRefusedUnlessForced() throws {
        var grid = try writeGrid("chg", steps: 20, axes: "  seed: [1]")
        XCTAssertEqual(try ablate(["grid", "run", grid]).status, 0)
        grid = try writeGrid("chg", steps: 25, axes: "  seed: [1]")
        let refused = try ablate(["grid", "run", grid])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.output.contains("max_steps: 20 → 25"), refused.output)
        XCTAssertTrue(refused.output.contains("--force"), refused.output)
        let forced = try ablate(["grid", "run", grid, "--force"])
        XCTAssertEqual(forced.status, 0, forced.output)
        XCTAssertEqual(RunFolder(runFolder("chg", "learned-d16-L1-v256-s1")).readStatus()?.step, 25)
    }

    /// Not a terminal: plain lines (events and periodic status), no escape sequences. The runs are long enough
    /// (several seconds on a fast CPU, sparse checkpoints) for the 0.1 s status poll to see them mid-training.
    func testProgressWhenNotATerminal() throws {
        let grid = try writeGrid(
            "prog", steps: 3000,
            axes: "  cadence: [{label: long, eval_interval: 1000, checkpoint_interval: 1000, log_interval: 50}]\n  seed: [1, 2, 3]")
        let r = try ablate(["grid", "run", grid, "--log-every", "0"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.output.contains("\u{1B}["), "escape sequences in non-terminal output")
        XCTAssertTrue(r.output.contains("[prog] started learned-d16-L1-v256-long-s1"), r.output)
        XCTAssertTrue(r.output.contains("[prog] finished learned-d16-L1-v256-long-s3"), r.output)
        XCTAssertTrue(r.output.contains("[prog] grid prog: 3/3 runs done"), r.output)
        XCTAssertNotNil(r.output.range(of: #"\[prog\] learned-d16-L1-v256-long-s\d  step \d+/3000  loss \d"#, options: .regularExpression), r.output)
    }

    /// Each worker records where its process time went (summary.json's `timing`, counted from the kernel's start time
    /// of the process), `grid run` ends with the plan against the measurement, and `grid plan` then calibrates its
    /// per-run start-up on the finished runs. Structural checks only: a worker's process lies inside the grid's.
    func testGridReportsWhereTheTimeWent() throws {
        let grid = try writeGrid("time", axes: "  seed: [1, 2]")
        let clock = ContinuousClock()
        let before = clock.now
        let r = try ablate(["grid", "run", grid, "--log-every", "0"])
        let gridWall = clock.now - before
        XCTAssertEqual(r.status, 0, r.output)
        for line in ["time: plan ", "(efficiency ", "worker time by category (2 run(s)): training ", "spawn/exit ", "grid: start-up "] {
            XCTAssertTrue(r.output.contains(line), "missing '\(line)' in\n\(r.output)")
        }
        var startups: [Double] = []
        for seed in 1...2 {
            let summary = try RunFolder(runFolder("time", "learned-d16-L1-v256-s\(seed)")).read(RunSummary.self)
            let t = try XCTUnwrap(summary.timing)
            XCTAssertEqual(t.origin, "process")
            XCTAssertEqual(t.fromStep, 0)
            XCTAssertNotNil(t.cpu)
            let categorized = t.startup + t.training + t.evaluation + t.checkpoints + t.snapshots + t.records
            XCTAssertLessThanOrEqual(categorized, t.wall)
            XCTAssertGreaterThan(t.startup, 0)
            XCTAssertLessThanOrEqual(summary.elapsed, t.wall)
            // The worker started after `grid run` and ended before it: its wall time lies inside the grid's.
            XCTAssertLessThan(Duration.seconds(t.wall), gridWall)
            startups.append(t.wall - summary.elapsed)
        }
        let plan = try ablate(["grid", "plan", grid])
        XCTAssertEqual(plan.status, 0, plan.output)
        XCTAssertTrue(plan.output.contains("finished: 2 run(s) with a timing record"), plan.output)
        let median = startups.sorted()[1]
        XCTAssertTrue(
            plan.output.contains(String(format: "start-up of %.2f s per run, measured on 2 finished runs", median)), plan.output)
    }

    /// `grid plan` prints every run and the total; invalid files print every error and exit 1.
    func testPlanAndValidationExitStatus() throws {
        let grid = try writeGrid("plan", axes: "  strategy: [learned, frozen-random]\n  seed: [1, 2]")
        let r = try ablate(["grid", "plan", grid])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("frozen-random-d16-L1-v256-s2"), r.output)
        XCTAssertTrue(r.output.contains("total: 4 runs"), r.output)
        let bad = try writeGrid("bad", axes: "  strategy: [lerned]\n  seeds: [1]")
        let b = try ablate(["grid", "run", bad])
        XCTAssertEqual(b.status, 1)
        XCTAssertTrue(b.output.contains("bad.yaml:7:3: unknown axis 'seeds'. Did you mean 'seed'?"), b.output)
        XCTAssertTrue(b.output.contains("bad.yaml:6:14: unknown embedding strategy 'lerned'"), b.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("runs/bad").path))
    }

    /// A grid that opts in to an OpenBLAS kernel has its steps timed under that kernel, in a child (`grid time-step`):
    /// OpenBLAS picks its kernel when it loads, so the planning process can only time the environment's.
    func testPlanTimesStepsUnderTheGridsKernel() throws {
        let grid = try writeGrid("kernel", axes: "  seed: [1]", extra: "blas_kernel: Haswell")
        let r = try ablate(["grid", "plan", grid])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("timed now, a child process with OpenBLAS kernel Haswell (blas_kernel) with 1 thread(s)"), r.output)
        XCTAssertTrue(r.output.contains("learned-d16-L1-v256-s1 ") && r.output.contains(" ms/step"), r.output)
        let plain = try ablate(["grid", "plan", try writeGrid("plain", axes: "  seed: [1]")])
        XCTAssertTrue(plain.output.contains("timed now, one process with 1 thread(s)"), plain.output)
    }
}
