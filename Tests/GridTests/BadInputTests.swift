import Foundation
import Grid
import Trainer
import XCTest

/// Bad input to the release binary, end to end: every case exits with a non-zero status and one clear message
/// (never a Swift trap, exit status 132) and changes nothing outside the run folder it names. Two writers on one
/// run cannot both proceed; a failed checkpoint write marks the run failed and leaves no `step-N.tmp`.
final class BadInputTests: BinaryTestCase {
    /// Tiny training settings on the generated corpus (`tiny`, prepared by `trainBase`).
    func tinyTraining(corpus: String = "tiny") -> [String] {
        [
            "--corpus", corpus, "--set", "vocab_size=256", "--set", "context_length=16", "--set", "batch_size=4",
            "--set", "d_model=16", "--set", "n_layer=1", "--set", "n_head=2", "--set", "warmup_steps=1",
            "--set", "checkpoint_interval=2", "--set", "eval_batches=2", "--set", "final_eval_batches=2",
        ]
    }

    /// Prepares corpus `tiny` and a finished 3-step run in `base/` (and so the tokenizer caches).
    func trainBase() throws {
        let prepared = try ablate(["data", "prepare", "--corpus", "tiny.txt"])
        XCTAssertEqual(prepared.status, 0, prepared.output)
        let r = try ablate(["train", "--out", "base", "--steps", "3"] + tinyTraining())
        XCTAssertEqual(r.status, 0, r.output)
    }

    /// A run folder's own config.json, given to `--config`, repeats the run: same metrics to the bit.
    func testARunsConfigFileRepeatsTheRun() throws {
        try trainBase()
        let r = try ablate(["train", "--config", "base/config.json", "--out", "again"])
        XCTAssertEqual(r.status, 0, r.output)
        func metrics(_ folder: String) throws -> [String] {
            try String(contentsOf: tmp.appendingPathComponent("\(folder)/metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").map { line in
                    // Wall-clock fields differ between any two runs; everything else must not.
                    var row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                    row["elapsed_s"] = nil; row["tokens_per_s"] = nil
                    return String(decoding: try JSONSerialization.data(withJSONObject: row, options: .sortedKeys), as: UTF8.self)
                }
        }
        XCTAssertEqual(try metrics("again"), try metrics("base"))
        XCTAssertFalse(try metrics("base").isEmpty)
    }

    struct Case {
        var name: String
        var args: [String]
        /// A piece of the error message.
        var message: String
        var status: Int32 = 1
        /// The folder (relative to the temp dir) the command may change; nothing else may change.
        var own: String? = nil
        /// Prepares the inputs (given the temp dir).
        var setUp: (URL) throws -> Void = { _ in }
    }

    /// Every file and folder under the temp dir except `own`, with size and modification time.
    func listing(excluding own: String?) -> [String] {
        let root = tmp.path
        guard let e = FileManager.default.enumerator(at: tmp, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey]) else {
            return []
        }
        var out: [String] = []
        for case let url as URL in e {
            let rel = String(url.path.dropFirst(root.count + 1))
            if let own, rel == own || rel.hasPrefix(own + "/") { continue }
            let v = try? url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
            out.append("\(rel) \(v?.fileSize ?? -1) \(v?.contentModificationDate?.timeIntervalSince1970 ?? 0)")
        }
        return out.sorted()
    }

    func copy(_ from: String, _ to: String) throws {
        try FileManager.default.copyItem(at: tmp.appendingPathComponent(from), to: tmp.appendingPathComponent(to))
    }

    /// Rewrites the JSON header of a safetensors file (the tensor bytes stay as they are).
    func editHeader(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
        let url = tmp.appendingPathComponent(path)
        let data = try Data(contentsOf: url)
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        var header = try XCTUnwrap(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any])
        edit(&header)
        let h = try JSONSerialization.data(withJSONObject: header)
        var out = Data()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(h)
        out.append(data.subdata(in: (8 + n)..<data.count))
        try out.write(to: url)
    }

    func setTensor(_ path: String, _ tensor: String, _ key: String, _ value: Any) throws {
        try editHeader(path) { h in
            var entry = h[tensor] as! [String: Any]
            entry[key] = value
            h[tensor] = entry
        }
    }

    func write(_ text: String, _ path: String) throws {
        let url = tmp.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// ~600 bytes of YAML whose aliases expand to 9¹⁰ values.
    static let aliasBomb =
        (["x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
        + (1...9).map { i in "x\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]" })
        .joined(separator: "\n")

    func testBadInputsGiveOneClearErrorAndChangeNothingElse() throws {
        try trainBase()
        let model = "checkpoints/step-0000003/model.safetensors"
        let tiny = tinyTraining()
        let cases: [Case] = [
            Case(
                name: "--force on a folder holding other files", args: ["train", "--out", "victim", "--force", "--steps", "3"] + tiny,
                message: "holds files that `ablate train` did not write (sub)"
            ) { _ in
                try self.copy("base", "victim"); try self.write("my thesis", "victim/sub/thesis.tex")
            },
            Case(
                name: "a new run in a folder holding other files", args: ["train", "--out", "mine", "--steps", "3"] + tiny,
                message: "holds other files (notes.txt); a run needs a folder of its own"
            ) { _ in try self.write("my notes", "mine/notes.txt") },
            Case(
                name: "--force with a config.json that is not a run's", args: ["train", "--out", "notrun", "--force", "--steps", "3"] + tiny,
                message: "is not the config of an `ablate` run"
            ) { _ in try self.write("{}", "notrun/config.json") },
            Case(
                name: "--force validates before deleting",
                args: ["train", "--out", "victim2", "--force", "--steps", "3"] + tinyTraining(corpus: "no-such-corpus"),
                message: "corpus 'no-such-corpus' is not prepared"
            ) { _ in try self.copy("base", "victim2") },
            Case(
                name: "d_model with a huge divisor search",
                args: ["train", "--out", "x"] + tiny + ["--set", "d_model=1000000000001", "--set", "n_head=2"],
                message: "'d_model': must be at most 65536"),
            Case(
                name: "d_model not divisible by n_head", args: ["train", "--out", "x"] + tiny + ["--set", "d_model=65535", "--set", "n_head=2"],
                message: "d_model 65535 is not divisible by n_head 2"),
            Case(
                name: "max_tokens = Int.max", args: ["train", "--out", "x"] + tiny + ["--set", "max_tokens=9223372036854775807"],
                message: "'max_tokens': must be at most"),
            Case(
                name: "max_train_bytes with max_steps",
                args: ["train", "--out", "x"] + tiny + ["--set", "max_train_bytes=100000", "--set", "max_steps=3"],
                message:
                    "'max_train_bytes': max_train_bytes cannot be combined with max_steps: a run has one budget. Fix: keep max_train_bytes and remove max_steps"
            ),
            Case(
                name: "max_train_bytes with max_tokens in a grid mapping", args: ["grid", "plan", "bytes.yaml"],
                message: "'max_train_bytes': max_train_bytes cannot be combined with max_tokens"
            ) { _ in
                _ = try self.writeGrid("bytes", axes: "  b: [{label: both, max_train_bytes: 100000, max_tokens: 5000}]")
            },
            Case(
                name: "batch_size = 2^62", args: ["train", "--out", "x"] + tiny + ["--set", "batch_size=4611686018427387904"],
                message: "'batch_size': must be at most"),
            Case(
                name: "d_model = 2^32", args: ["train", "--out", "x"] + tiny + ["--set", "d_model=4294967296"],
                message: "'d_model': must be at most"),
            Case(
                name: "max_steps × tokens per step overflowing", args: ["train", "--out", "x"] + tiny + ["--steps", "9223372036854775807"],
                message: "'max_steps': 9223372036854775807 steps of 64 tokens exceed"),
            Case(
                name: "--seed beyond Int.max", args: ["train", "--out", "x", "--seed", "18446744073709551615"] + tiny,
                message: "--seed 18446744073709551615: must be at most"),
            Case(
                name: "data prepare --context Int.max",
                args: ["data", "prepare", "--corpus", "tiny.txt", "--name", "t2", "--context", "9223372036854775807"],
                message: "--context must be in 1…65536", status: 64),
            Case(
                name: "a model too large to train", args: ["train", "--out", "x"] + tiny + ["--set", "d_model=65536", "--set", "n_layer=1024"],
                message: "GiB to train"),
            Case(
                name: "config file alias bomb", args: ["train", "--config", "bomb.yaml", "--out", "x"],
                message: "bomb.yaml: the YAML expands to more than"
            ) { _ in try self.write(Self.aliasBomb + "\nstrategy_options: {o: *a9}\n", "bomb.yaml") },
            Case(
                name: "--set alias bomb",
                args: [
                    "train", "--out", "x", "--set",
                    "strategy_options={a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c], e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d], f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]}",
                ],
                message: "--set strategy_options: the YAML expands to more than"),
            Case(name: "grid alias bomb", args: ["grid", "plan", "bomb-grid.yaml"], message: "the YAML expands to more than") { _ in
                try self.write(Self.aliasBomb + "\naxes:\n  strategy:\n    - {name: learned, options: {o: *a9}}\n", "bomb-grid.yaml")
            },
            Case(name: "grid plan --jobs 0", args: ["grid", "plan", "g.yaml", "--jobs", "0"], message: "jobs must be in 1…4096, got 0") { _ in
                _ = try self.writeGrid("g", axes: "  seed: [1]")
            },
            Case(name: "grid plan --threads 0", args: ["grid", "plan", "g.yaml", "--threads", "0"], message: "threads must be in 1…1024, got 0") {
                _ in
                _ = try self.writeGrid("g", axes: "  seed: [1]")
            },
            Case(
                name: "budget tokens_per_parameter 1e30", args: ["grid", "plan", "budget.yaml"],
                message: "'tokens_per_parameter' must be a positive number up to 1e6"
            ) { _ in
                _ = try self.writeGrid("budget", axes: "  seed: [1]", extra: "budget: {tokens_per_parameter: 1e30}")
            },
            Case(name: "an over-long label", args: ["grid", "plan", "label.yaml"], message: "give the axis values shorter `label:`s") { _ in
                _ = try self.writeGrid("label", axes: "  schedule: [{label: \(String(repeating: "x", count: 300)), warmup_steps: 2}]")
            },
            Case(name: "--runs pointing at a file", args: ["grid", "run", "g.yaml", "--runs", "afile"], message: "is a file, not a folder") { _ in
                _ = try self.writeGrid("g", axes: "  seed: [1]"); try self.write("not a folder", "afile")
            },
            Case(name: "probe --bench --rows=-1", args: ["probe", "--bench", "--rows=-1"], message: "--rows must be in 2…", status: 64),
            Case(
                name: "tokenizer --name ../../x", args: ["tokenizer", "train", "--name", "../../evilcorpus", "--vocab", "256"],
                message: "'../../evilcorpus' is not a valid corpus name"
            ) { _ in try self.copy(".ablate/corpus/tiny", "evilcorpus") },
            Case(
                name: "a manifest whose corpusSHA256 is a path", args: ["tokenizer", "train", "--name", "bad", "--vocab", "300"],
                message: "corpusSHA256 '../../../pwned/x' is not a hash"
            ) { tmp in
                try self.copy(".ablate/corpus/tiny", ".ablate/corpus/bad")
                let url = tmp.appendingPathComponent(".ablate/corpus/bad/manifest.json")
                var m = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
                m["corpusSHA256"] = "../../../pwned/x"
                try JSONSerialization.data(withJSONObject: m).write(to: url)
            },
            Case(name: "eval of a checkpoint naming another corpus path", args: ["eval", "other"], message: "is not prepared in") { _ in
                try self.copy("base", "other"); try self.write("some other text\n", "other.txt")
                try self.editHeader("other/" + model) { h in
                    var meta = h["__metadata__"] as! [String: String]
                    var config = try! JSONSerialization.jsonObject(with: Data(meta["config"]!.utf8)) as! [String: Any]
                    config["corpus"] = self.tmp.appendingPathComponent("other.txt").path
                    meta["config"] = String(decoding: try! JSONSerialization.data(withJSONObject: config), as: UTF8.self)
                    h["__metadata__"] = meta
                }
            },
            Case(name: "safetensors shape [2^62, 4]", args: ["eval", "st1"], message: "is larger than the file") { _ in
                try self.copy("base", "st1"); try self.setTensor("st1/" + model, "embedding.wte", "shape", [1 << 62, 4])
            },
            Case(name: "safetensors data_offsets [5, -2^63]", args: ["eval", "st2"], message: "data [5, -9223372036854775808) does not fit") { _ in
                try self.copy("base", "st2"); try self.setTensor("st2/" + model, "embedding.wte", "data_offsets", [5, Int.min])
            },
            Case(name: "safetensors shape [-2]", args: ["eval", "st3"], message: "has a negative dimension in shape [-2]") { _ in
                try self.copy("base", "st3"); try self.setTensor("st3/" + model, "embedding.wte", "shape", [-2])
            },
            Case(name: "a snapshot table of shape [-1, -4]", args: ["probe", "sn1"], message: "has a negative dimension in shape [-1, -4]") { _ in
                try self.copy("base", "sn1"); try self.setTensor("sn1/snapshots/step-0000002.safetensors", "embedding.wte", "shape", [-1, -4])
            },
            Case(name: "a snapshot with the wrong row count", args: ["probe", "sn2"], message: "do not have the shape of the checkpoint's") { _ in
                try self.copy("base", "sn2")
                try self.editHeader("sn2/snapshots/step-0000002.safetensors") { h in
                    var e = h["embedding.wte"] as! [String: Any]
                    let shape = e["shape"] as! [Int], offsets = e["data_offsets"] as! [Int]
                    e["shape"] = [shape[0] / 2, shape[1]]
                    e["data_offsets"] = [offsets[0], offsets[0] + (offsets[1] - offsets[0]) / 2]
                    h["embedding.wte"] = e
                }
            },
            Case(
                name: "a corrupt state.json", args: ["train", "--resume", "--out", "state"],
                message: "state.json: cannot be read as a checkpoint state (not valid JSON)",
                own: "state"
            ) { _ in
                try self.copy("base", "state"); try self.write("{\"step\": 3, \"tok", "state/checkpoints/step-0000003/state.json")
            },
            Case(
                name: "--resume on a folder without a run", args: ["train", "--resume", "--out", "norun"],
                message: "norun holds no run to continue (no config.json). Fix: to start a run there, drop --resume and give its config"),
            Case(
                name: "--resume on an empty folder", args: ["train", "--resume", "--out", "emptyrun"],
                message: "emptyrun holds no run to continue (no config.json)"
            ) { tmp in try FileManager.default.createDirectory(at: tmp.appendingPathComponent("emptyrun"), withIntermediateDirectories: true) },
            Case(name: "--resume with neither --out nor a run", args: ["train", "--resume"], message: "holds no run to continue (no config.json)"),
            Case(
                name: "--set seed=-1", args: ["train", "--out", "x"] + tiny + ["--set", "seed=-1"],
                message: "Error: 'seed': must be a whole number ≥ 0, got -1. Fix: give 'seed' such a value (e.g. 1)."),
            Case(
                name: "--set learning_rate=.nan", args: ["train", "--out", "x"] + tiny + ["--set", "learning_rate=.nan"],
                message: "Error: 'learning_rate': must be a finite number, got nan. Fix: give 'learning_rate' such a value (e.g. 0.001)."),
            Case(
                name: "--set strategy_options=[1]", args: ["train", "--out", "x"] + tiny + ["--set", "strategy_options=[1]"],
                message: "Error: 'strategy_options': expected a mapping (e.g. {init_std: 0.02}), got [1]. Fix: give 'strategy_options' such a value."
            ),
            Case(
                name: "a bad --set value is not blamed on --config", args: ["train", "--config", "ok.yaml", "--out", "x", "--set", "seed=1.5"],
                message: "Error: 'seed': must be a whole number ≥ 0, got 1.5."
            ) { _ in try self.write("vocab_size: 256\n", "ok.yaml") },
            Case(
                name: "every bad value of a config file at once", args: ["train", "--config", "two.yaml", "--out", "x"],
                message: "  two.yaml: 'weight_decay': must be ≥ 0, got -0.5. Fix: use e.g. 0.1."  // the second of two: both listed
            ) { _ in try self.write("vocab_size: 256\nwarmup_steps: -1\nweight_decay: -0.5\n", "two.yaml") },
            Case(
                name: "a config file with a duplicate key", args: ["train", "--config", "dup.yaml", "--out", "x"],
                message: "dup.yaml:3:1: duplicate key 'seed' (first at line 1); keep one of them"
            ) { _ in try self.write("seed: 1\nvocab_size: 256\nseed: 2\n", "dup.yaml") },
            Case(
                name: "train --out an existing file", args: ["train", "--out", "afile", "--steps", "3"] + tiny,
                message: "afile is a file, not a folder. Fix: give --out a folder path."
            ) { _ in try self.write("not a folder", "afile") },
            Case(
                name: "train --out under a file", args: ["train", "--out", "bfile/run", "--steps", "3"] + tiny,
                message: "bfile is a file, not a folder. Fix: give --out a folder path."
            ) { _ in try self.write("not a folder", "bfile") },
            Case(
                name: "train --out where no folder can be made", args: ["train", "--out", "/proc/ablate-no-such-folder", "--steps", "3"] + tiny,
                message: "Error: '--out': cannot create the folder /proc/ablate-no-such-folder: "),
            Case(
                name: "report --out an existing file", args: ["report", "rg", "--out", "cfile"],
                message: "Error: '--out': \(tmp.path)/cfile is a file, not a folder. Fix: give --out a folder path."
            ) { _ in
                try FileManager.default.createDirectory(at: self.tmp.appendingPathComponent("rg"), withIntermediateDirectories: true)
                try self.copy("base", "rg/base"); try self.write("not a folder", "cfile")
            },
            // An incomplete newest checkpoint is not an error: resume falls back to the newest complete one and says so.
            Case(
                name: "a missing optimizer.safetensors", args: ["train", "--resume", "--out", "opt"],
                message: "names step-0000003, which is missing or incomplete: using step-0000002, the newest complete checkpoint",
                status: 0, own: "opt"
            ) { tmp in
                try self.copy("base", "opt")
                try FileManager.default.removeItem(at: tmp.appendingPathComponent("opt/checkpoints/step-0000003/optimizer.safetensors"))
            },
        ]
        for c in cases {
            try c.setUp(tmp)
            let before = listing(excluding: c.own)
            let r = try ablate(c.args, timeout: 30)
            XCTAssertEqual(r.status, c.status, "\(c.name): \(r.output)")
            XCTAssertTrue(r.output.split(separator: "\n").contains { $0.contains(c.message) }, "\(c.name): expected '\(c.message)' in: \(r.output)")
            // Never Foundation's error dump, nor a sentence ending in ".." (paths may hold "../").
            XCTAssertFalse(r.output.contains("NSCocoaErrorDomain"), "\(c.name): \(r.output)")
            XCTAssertFalse(r.output.replacingOccurrences(of: "../", with: "").contains(".."), "\(c.name): \(r.output)")
            let after = listing(excluding: c.own)
            XCTAssertEqual(
                after, before,
                "\(c.name): changed outside \(c.own ?? "nothing"): before \(Set(before).subtracting(after).sorted()), after \(Set(after).subtracting(before).sorted())"
            )
        }
    }

    /// A diverged run is an error report: on stderr, naming the step as metrics.jsonl does and the fix; exit status 2.
    func testDivergenceIsReportedOnStderrWithTheFix() throws {
        try trainBase()
        let args =
            ["train", "--out", "div", "--steps", "20"] + tinyTraining() + [
                "--set", "learning_rate=1e6", "--set", "grad_clip=0", "--set", "warmup_steps=0", "--set", "log_interval=1",
            ]
        let r = try ablate(args)
        XCTAssertEqual(r.status, 2, r.output)
        let steps = try RunFolder(tmp.appendingPathComponent("div")).readMetrics().map(\.step)
        let line = try XCTUnwrap(r.output.split(separator: "\n").first { $0.hasPrefix("Error: diverged: non-finite") }, r.output)
        XCTAssertTrue(line.contains("at step \((steps.last ?? 0) + 1)"), "\(line); logged steps \(steps)")
        XCTAssertTrue(
            line.hasSuffix("Fix: lower learning_rate (now 1000000.0) or raise warmup_steps (now 0), then start over with --force."), String(line))
        // stdout alone (stderr dropped) holds no error report.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "exec \"$0\" \"$@\" 2>/dev/null", binary.url.path] + args.map { $0 == "div" ? "div2" : $0 }
        p.currentDirectoryURL = tmp
        p.environment = ProcessInfo.processInfo.environment.merging(["ABLATE_HOME": tmp.appendingPathComponent(".ablate").path]) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let stdout = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 2, stdout)
        XCTAssertFalse(stdout.contains("diverged"), stdout)
        // Diverged before its first checkpoint: eval and sample say so and how to mend it, not "train it first".
        let early = args.map { $0 == "div" ? "early" : $0 } + ["--set", "checkpoint_interval=1000"]
        XCTAssertEqual(try ablate(early).status, 2)
        for command in [["eval", "early"], ["sample", "early", "--tokens", "4"]] {
            let e = try ablate(command)
            XCTAssertEqual(e.status, 1, e.output)
            XCTAssertTrue(e.output.contains("early: the run diverged before its first checkpoint (non-finite"), e.output)
            XCTAssertTrue(e.output.contains("so it has no weights. Fix: train it again with a lower learning_rate"), e.output)
        }
        let saved = try ablate(["sample", "early", "--save", "--tokens", "4"])
        XCTAssertTrue(saved.output.contains("the run diverged before its first checkpoint"), saved.output)
    }

    /// A checkpoint that cannot be written (the file-size limit stands in for a full disk): the run is marked
    /// failed with the reason, the half-written `step-N.tmp` is removed, nothing else changes.
    func testFailedWriteMarksTheRunFailedAndLeavesNoTemporaryCheckpoint() throws {
        try trainBase()
        let before = listing(excluding: "full")
        let r = try ablate(["train", "--out", "full", "--steps", "3", "--set", "snapshots=false"] + tinyTraining(), fileSizeLimitKB: 20)
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("the checkpoint of step 2 could not be written (write failed: File too large)"), r.output)
        let status = try XCTUnwrap(RunFolder(tmp.appendingPathComponent("full")).readStatus())
        XCTAssertEqual(status.state, .failed)
        XCTAssertTrue(status.reason?.contains("could not be written") ?? false, "\(status)")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: tmp.appendingPathComponent("full/checkpoints").path)
        XCTAssertFalse(checkpoints.contains { $0.hasSuffix(".tmp") }, "\(checkpoints)")
        XCTAssertEqual(listing(excluding: "full"), before, "files outside the run folder changed")
    }

    /// Temporary files a killed writer leaves (`kill -9` mid-write; planted here under a pid that has exited, beside
    /// a live writer's): `--force` accepts the folder as a run's, and a resume removes the dead writer's, keeping the
    /// live one's.
    func testTemporaryFilesOfAKilledWriterAreTheRunsOwn() throws {
        try trainBase()
        let base = tmp.appendingPathComponent("base")
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = exited.processIdentifier
        let stale = [".config.json.\(dead).3636466370.tmp", ".metrics.jsonl.\(dead).17.tmp", "checkpoints/.latest.\(dead).9.tmp"]
        let live = ".status.json.\(getpid()).4.tmp"
        func plant() throws {
            for path in stale + [live] { try Data([1]).write(to: base.appendingPathComponent(path)) }
        }
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: base.appendingPathComponent(path).path) }

        try plant()
        let resumed = try ablate(["train", "--resume", "--out", "base"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        for path in stale { XCTAssertFalse(exists(path), "\(path) was left") }
        XCTAssertTrue(exists(live), "a live writer's temporary file was removed")

        try plant()
        let forced = try ablate(["train", "--out", "base", "--force", "--steps", "3"] + tinyTraining())
        XCTAssertEqual(forced.status, 0, forced.output)
        XCTAssertEqual(RunFolder(base).readStatus()?.state, .finished)
    }

    /// `ablate train --resume` on a run a grid worker is training, and a second `ablate train` on a run being
    /// trained: the second writer is refused ("busy: pid host") and the first is undisturbed.
    func testTwoWritersOnOneRunCannotBothProceed() throws {
        let grid = try writeGrid("two", steps: 1_000_000, axes: "  seed: [1]")
        let folder = runFolder("two", "learned-d16-L1-v256-s1")
        let (worker, _) = try start(["grid", "run-one", grid, "--run", "learned-d16-L1-v256-s1", "--threads", "1"])
        defer { if worker.isRunning { worker.terminate() } }
        let deadline = Date().addingTimeInterval(60)
        while !RunLock.isLocked(folder: folder) || RunFolder(folder).readStatus() == nil {
            guard Date() < deadline else { return XCTFail("the worker did not start training within a minute") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let second = try ablate(["train", "--resume", "--out", folder.path])
        XCTAssertEqual(second.status, 1, second.output)
        XCTAssertTrue(second.output.contains("busy: \(folder.path) is being trained by another process (\(worker.processIdentifier) "), second.output)
        let forced = try ablate(["train", "--force", "--out", folder.path] + tinyTraining())
        XCTAssertEqual(forced.status, 1, forced.output)
        XCTAssertTrue(forced.output.contains("busy: "), forced.output)
        XCTAssertTrue(worker.isRunning, "the first writer was disturbed")
        kill(worker.processIdentifier, SIGINT)
        worker.waitUntilExit()
        XCTAssertEqual(worker.terminationStatus, 130)
        // One writer's metrics: strictly increasing steps.
        let steps = try RunFolder(folder).readMetrics().map(\.step)
        XCTAssertEqual(steps, steps.sorted(), "\(steps)")
        XCTAssertEqual(Set(steps).count, steps.count, "\(steps)")
    }
}
