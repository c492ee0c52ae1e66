import Foundation
import RunFormat
import XCTest

final class RunFormatTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("runformat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    // MARK: atomic write

    func testAtomicWriteReplacesAndLeavesNoTemporaries() throws {
        let url = tmp.appendingPathComponent("deep/er/file.bin")
        try AtomicWrite.write(Data([1, 2, 3]), to: url)
        try AtomicWrite.write(Data([4, 5]), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([4, 5]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path), ["file.bin"])
    }

    /// The temporary-file names of `AtomicWrite`, recognised by the one rule that makes them (their writer's pid read
    /// back), and the clean-up that removes a dead writer's and keeps a live one's, in subfolders too.
    func testTemporaryNamesAndRemovalOfStaleOnes() throws {
        XCTAssertEqual(AtomicWrite.temporaryWriter(".config.json.30848.3636466370.tmp"), 30848)
        XCTAssertEqual(AtomicWrite.temporaryWriter(".latest.7.0.tmp"), 7)
        XCTAssertEqual(AtomicWrite.temporaryTarget(".model.safetensors.12.3.tmp")?.file, "model.safetensors")
        for name in ["config.json", ".config.json", "step-0000002.tmp", ".x.tmp", ".12.34.tmp", ".a.b.34.tmp", ".a.-1.3.tmp", ".a.1.x.tmp"] {
            XCTAssertNil(AtomicWrite.temporaryWriter(name), name)
        }
        let made = AtomicWrite.temporaryName(for: "metrics.jsonl")
        XCTAssertEqual(AtomicWrite.temporaryWriter(made), getpid(), made)
        XCTAssertTrue(made.hasPrefix(".metrics.jsonl."), made)

        let dead = try Self.deadPID()
        let stale = [
            ".config.json.\(dead).3636466370.tmp", "checkpoints/.latest.\(dead).1.tmp",
            "checkpoints/step-0000004.tmp/.model.safetensors.\(dead).2.tmp",
        ]
        // Kept: a live writer's, files that are no temporaries, and a spared file's temporary whatever its pid says
        // (probes.json: written without the run's lock, perhaps by a process on another machine).
        let kept = [
            ".status.json.\(getpid()).5.tmp", "config.json", ".lock", "checkpoints/latest", "checkpoints/.latest.x.1.tmp",
            ".probes.json.\(dead).9.tmp",
        ]
        for path in stale + kept { try AtomicWrite.write(Data([1]), to: tmp.appendingPathComponent(path)) }
        XCTAssertEqual(AtomicWrite.removeStaleTemporaries(in: tmp, sparing: ["probes.json"]), stale.sorted())
        for path in stale { XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent(path).path), path) }
        for path in kept { XCTAssertTrue(FileManager.default.fileExists(atPath: tmp.appendingPathComponent(path).path), path) }
    }

    /// The pid of a process that has exited (and been reaped).
    static func deadPID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    func testMoveReplacesAFolderWhole() throws {
        let from = tmp.appendingPathComponent("step-0000001.tmp"), to = tmp.appendingPathComponent("step-0000001")
        try AtomicWrite.write(Data([7]), to: from.appendingPathComponent("a"))
        try AtomicWrite.move(from, to: to)
        XCTAssertEqual(try Data(contentsOf: to.appendingPathComponent("a")), Data([7]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: from.path))
    }

    // MARK: metrics.jsonl

    func write(_ text: String, _ name: String = "metrics.jsonl") throws -> URL {
        let url = tmp.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func testScanReadsValuesAndDropsOnlyAPartialLastLine() throws {
        let url = try write(
            """
            {"elapsed_s":0.1,"step":1,"tokens":2048,"train_loss":6.25}
            {"step":20,"tokens":40960,"train_loss":5.5,"val_loss":5.4321,"val_bpb":2.125,"lr":1e-05}
            {"step":30,"tokens":61440,"val_loss":"nan"}
            { "step" : 40 , "tokens" : 81920 , "val_loss" : 4.5e0 , "final_val_loss" : 4.25, "final_val_bpb": 2.5 }
            {"step":50,"tokens":102400,"val_lo
            """)
        let lines = try MetricsFile.lines(at: url)
        XCTAssertEqual(lines.map(\.step), [1, 20, 30, 40])
        XCTAssertEqual(lines[1].valLoss, 5.4321)
        XCTAssertNil(lines[0].valLoss)
        XCTAssertTrue(lines[2].valLoss!.isNaN)
        XCTAssertEqual(lines[3].valLoss, 4.5)
        XCTAssertEqual(lines[3].tokens, 81920)
        XCTAssertEqual(lines.map(\.trainLoss), [6.25, 5.5, nil, nil])
        XCTAssertEqual(lines.map(\.valBpb), [nil, 2.125, nil, nil])
        XCTAssertEqual(lines.map(\.finalValLoss), [nil, nil, nil, 4.25])
        XCTAssertEqual(lines.map(\.finalValBpb), [nil, nil, nil, 2.5])
    }

    func testMalformedOrNonUTF8LineIsAnErrorNamingFileAndLineAndNothingChanges() throws {
        let good = #"{"step":1,"tokens":1,"lr":1,"tokens_per_s":1,"elapsed_s":1}"#
        for (bad, why) in [("not json", "numeric step"), ("{\"step\":2,\"tokens\":\"\u{FFFD}\"}", "")] {
            var data = Data((good + "\n" + good + "\n").utf8)
            if why.isEmpty {
                data.append(contentsOf: [0x7B, 0x22, 0x73, 0xFF, 0x22, 0x7D, 0x0A])
            } else {
                data.append(contentsOf: Array((bad + "\n").utf8))
            }
            data.append(contentsOf: Array((good + "\n").utf8))
            let url = tmp.appendingPathComponent("m.jsonl")
            try data.write(to: url)
            XCTAssertThrowsError(try MetricsFile.truncate(at: url, toStep: 0)) { error in
                let m = String(describing: error)
                XCTAssertTrue(m.contains(url.path) && m.contains("line 3"), m)
                if why.isEmpty { XCTAssertTrue(m.contains("UTF-8"), m) }
            }
            XCTAssertThrowsError(try MetricsFile.records(at: url))
            XCTAssertEqual(try Data(contentsOf: url), data, "the file is left untouched")
        }
    }

    /// The writer's lines are what the reader reads; truncation keeps the kept lines byte for byte.
    func testAppendThenReadAndTruncate() throws {
        let url = tmp.appendingPathComponent("run/metrics.jsonl")
        let records = (1...5).map { s in
            MetricsRecord(
                step: s * 10, tokens: s * 100, trainLoss: 5 - Double(s) / 10, valLoss: s == 3 ? .nan : Double(s),
                lr: 1e-3, gradNorm: 0.5, tokensPerSecond: 123.5, elapsed: Double(s), valBpb: s == 2 ? 1.75 : nil)
        }
        for r in records { try MetricsFile.append(r, to: url) }
        let back = try MetricsFile.records(at: url)
        XCTAssertEqual(back.count, 5)
        XCTAssertEqual(back[0], records[0]); XCTAssertEqual(back[4], records[4]); XCTAssertTrue(back[2].valLoss!.isNaN)
        XCTAssertEqual(try MetricsFile.lines(at: url).map(\.valLoss?.description), records.map(\.valLoss?.description))
        XCTAssertEqual(try MetricsFile.lines(at: url).map(\.valBpb), records.map(\.valBpb))
        XCTAssertEqual(try MetricsFile.lines(at: url).map(\.trainLoss), records.map(\.trainLoss))
        let before = try Data(contentsOf: url)
        // A kill mid-append: a partial last line, dropped by truncation.
        let h = try FileHandle(forWritingTo: url); try h.seekToEnd(); try h.write(contentsOf: Data(#"{"step":60,"tok"#.utf8)); try h.close()
        try MetricsFile.truncate(at: url, toStep: 30)
        let kept = try Data(contentsOf: url)
        XCTAssertEqual(kept, before.prefix(kept.count))
        XCTAssertEqual(try MetricsFile.records(at: url).map(\.step), [10, 20, 30])
        XCTAssertNoThrow(try MetricsFile.truncate(at: tmp.appendingPathComponent("none.jsonl"), toStep: 0))
    }

    // MARK: format versions

    func testNewerFormatIsRejectedNamingTheFileOlderAndMissingAreRead() throws {
        let status = #"{"state":"finished","step":3,"total_steps":3,"updated_at":"x"}"#
        XCTAssertEqual(try RunJSON.read(RunStatus.self, from: try write(status, "status.json")).step, 3)
        let newer = try write(#"{"format":2,"state":"finished","step":3,"total_steps":3,"updated_at":"x"}"#, "s2.json")
        XCTAssertThrowsError(try RunJSON.read(RunStatus.self, from: newer)) { error in
            let m = String(describing: error)
            XCTAssertTrue(m.contains(newer.path) && m.contains("version 2"), m)
        }
        let written = tmp.appendingPathComponent("status2.json")
        try RunJSON.write(RunStatus(state: .running, step: 1, totalSteps: 2), to: written)
        XCTAssertTrue(String(decoding: try Data(contentsOf: written), as: UTF8.self).contains(#""format" : 1"#))
        XCTAssertEqual(
            try RunJSON.decode(FormatVersionBox.self, from: Data(#"{"format":"ablate-probes-1"}"#.utf8), file: "p", supported: 1).format.major, 1)
        XCTAssertThrowsError(try RunJSON.decode(FormatVersionBox.self, from: Data(#"{"format":"ablate-probes-3"}"#.utf8), file: "p", supported: 1))
    }
    struct FormatVersionBox: Codable { var format: FormatVersion }

    /// summary.json's `timing` is written and read back whole under its snake-case keys; a summary written before it
    /// existed still reads (timing nil); `other` is the wall time no category claimed, never negative.
    func testSummaryTimingRoundTripsAndOldSummariesStillRead() throws {
        var summary = RunSummary(
            finalValLoss: 4.25, steps: 200, tokens: 204_800, elapsed: 9.5, trainableParameters: 10, totalParameters: 12,
            nonEmbeddingParameters: 8)
        summary.timing = RunTiming(
            wall: 10.5, startup: 0.5, training: 8.75, firstStep: 0.125, evaluation: 0.625, checkpoints: 0.25, snapshots: 0.125,
            records: 0.0625, fromStep: 0, origin: "process", cpu: 10.25)
        let url = tmp.appendingPathComponent(RunSummary.fileName)
        try RunJSON.write(summary, to: url)
        let read = try RunJSON.read(RunSummary.self, from: url)
        XCTAssertEqual(read, summary)
        let timing = try XCTUnwrap(read.timing)
        XCTAssertEqual(timing.other, 10.5 - (0.5 + 8.75 + 0.625 + 0.25 + 0.125 + 0.0625))
        XCTAssertEqual(timing.categories.map(\.name), ["training", "evaluation", "start-up", "checkpoints", "snapshots", "records", "other"])
        XCTAssertEqual(timing.categories.reduce(0) { $0 + $1.seconds }, timing.wall, accuracy: 1e-12)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let keys = try XCTUnwrap(object["timing"] as? [String: Any]).keys.sorted()
        XCTAssertEqual(
            keys,
            [
                "checkpoints_s", "cpu_s", "evaluation_s", "first_step_s", "from_step", "origin", "other_s", "records_s", "snapshots_s",
                "startup_s", "training_s", "wall_s",
            ])

        let old = try write(
            #"{"format":1,"final_val_loss":4.25,"steps":200,"tokens":204800,"elapsed_s":9.5,"trainable_parameters":10,"total_parameters":12,"non_embedding_parameters":8}"#,
            "old-summary.json")
        let oldSummary = try RunJSON.read(RunSummary.self, from: old)
        XCTAssertNil(oldSummary.timing)
        XCTAssertEqual(oldSummary.elapsed, 9.5)

        let overlapping = RunTiming(
            wall: 1, startup: 0.5, training: 0.75, firstStep: 0, evaluation: 0, checkpoints: 0, snapshots: 0, records: 0, fromStep: 3,
            origin: "trainer")
        XCTAssertEqual(overlapping.other, 0)
        XCTAssertNil(overlapping.cpu)
    }

    func testParameterCountsReadTheOldKey() throws {
        let old = try RunJSON.decoder.decode(ParameterCounts.self, from: Data(#"{"total":10,"trainable":8,"embedding":2,"non_embedding":8}"#.utf8))
        XCTAssertEqual(old.nonEmbedding, 8)
        let new = try RunJSON.encode(old, pretty: false)
        XCTAssertTrue(String(decoding: new, as: UTF8.self).contains(#""non_embedding_parameters":8"#))
    }

    // MARK: names and checkpoints

    func testPathNameRule() throws {
        for ok in ["default", "hashed-d256-L4-v2048-s1", "step-0000030", "a.b_c-1", String(repeating: "x", count: 128)] {
            XCTAssertNil(PathName.problem(ok), ok)
        }
        for bad in ["", ".", "..", ".hidden", "../x", "a/b", "a b", "ü", "x\n", String(repeating: "x", count: 129)] {
            XCTAssertNotNil(PathName.problem(bad), bad)
        }
        let root = tmp.appendingPathComponent("root")
        for bad in ["..", "../x", "a/../../b"] {
            XCTAssertThrowsError(try PathName.resolve(bad, in: root, what: "grid name", source: "g.yaml")) {
                XCTAssertTrue(String(describing: $0).hasPrefix("g.yaml: grid name '\(bad)'"), "\($0)")
            }
        }
        XCTAssertEqual(try PathName.resolve("in", in: root, what: "grid name", source: "g.yaml").path, root.path + "/in")
        // The fix names what is wrong: a valid alphabet but too long is to be shortened, not re-spelled.
        XCTAssertThrowsError(try PathName.validate(String(repeating: "x", count: 129), what: "label", source: "g.yaml")) {
            XCTAssertTrue("\($0)".hasSuffix("Fix: shorten it to at most 128 bytes."), "\($0)")
        }
        XCTAssertThrowsError(try PathName.validate("a b", what: "label", source: "g.yaml")) {
            XCTAssertTrue("\($0)".contains("Fix: use only letters, digits"), "\($0)")
        }
    }

    func makeCheckpoint(_ run: URL, step: Int, complete: Bool = true) throws {
        let dir = run.appendingPathComponent("checkpoints").appendingPathComponent(CheckpointFiles.name(step: step))
        for f in complete ? [CheckpointFiles.model, CheckpointFiles.optimizer, CheckpointFiles.state] : [CheckpointFiles.model] {
            try AtomicWrite.write(Data([1]), to: dir.appendingPathComponent(f))
        }
    }

    func testLatestToleratesWhitespaceAndFallsBackToTheNewestCompleteCheckpoint() throws {
        let run = tmp.appendingPathComponent("run")
        XCTAssertNil(CheckpointFiles.newest(inRun: run))
        try makeCheckpoint(run, step: 10); try makeCheckpoint(run, step: 20); try makeCheckpoint(run, step: 30, complete: false)
        let latest = run.appendingPathComponent("checkpoints/latest")
        try AtomicWrite.write("step-0000020\n", to: latest)
        let named = try XCTUnwrap(CheckpointFiles.newest(inRun: run))
        XCTAssertEqual(named.folder.lastPathComponent, "step-0000020"); XCTAssertEqual(named.step, 20); XCTAssertNil(named.note)
        // latest names a missing or incomplete checkpoint, or leads outside: the newest complete one, with a note.
        for text in ["step-0000030", "step-0000040", "../../../r1/step-0000030", "garbage"] {
            try AtomicWrite.write(text, to: latest)
            let r = try XCTUnwrap(CheckpointFiles.newest(inRun: run))
            XCTAssertEqual(r.step, 20, text)
            XCTAssertNotNil(r.note, text)
        }
        XCTAssertThrowsError(try CheckpointFiles.readLatest(run.appendingPathComponent("checkpoints")))
    }

    func testRunIDsAreValidPathNames() {
        let id = RunID.compose(arm: "lowrank(r=8)", dModel: 64, nLayer: 2, vocabSize: 256, extra: ["lr1e+3"], seed: 1)
        XCTAssertEqual(id, "lowrank_r_8_-d64-L2-v256-lr1e_3-s1")
        XCTAssertNil(PathName.problem(id))
    }
}

/// `JSONValue(any:)` on what Foundation's JSON parser returns: on Linux a number 0 or 1 also casts to Bool, so a
/// number must not come back as a boolean (a table's `input_multiplier: 1` in config.json, hashed's `hash_seed: 0`).
final class JSONValueFoundationTests: XCTestCase {
    func testNumbersFromJSONSerializationKeepTheirType() throws {
        let text = #"{"one": 1, "zero": 0, "ten": 10, "third": 0.25, "yes": true, "no": false, "big": 18446744073709551615}"#
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        guard case let .object(o) = try JSONValue(any: parsed) else { return XCTFail("not an object") }
        XCTAssertEqual(o["one"], .int(1))
        XCTAssertEqual(o["zero"], .int(0))
        XCTAssertEqual(o["ten"], .int(10))
        XCTAssertEqual(o["third"], .double(0.25))
        XCTAssertEqual(o["yes"], .bool(true))
        XCTAssertEqual(o["no"], .bool(false))
        XCTAssertEqual(o["big"], .double(Double(UInt64.max)))
        // Swift's own values as before.
        XCTAssertEqual(try JSONValue(any: true), .bool(true))
        XCTAssertEqual(try JSONValue(any: 1), .int(1))
        XCTAssertEqual(try JSONValue(any: 1.0), .double(1))
    }
}
