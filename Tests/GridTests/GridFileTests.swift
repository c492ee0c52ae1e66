import Embeddings
import Foundation
import Grid
import RunFormat
import Trainer
import XCTest

/// Grid files: expansion, filters, budget, run ids, and the exact validation messages (golden).
final class GridFileTests: XCTestCase {
    static let tinyBase = "{preset: tiny, corpus: tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4, max_steps: 10, warmup_steps: 2}"

    func expand(_ text: String, path: String = "g.yaml") throws -> (GridFile, [GridRun]) {
        let g = try GridFile.parse(text, path: path)
        return (g, try GridExpansion.expand(g))
    }

    /// The golden lines of a file that must not validate.
    func errors(_ text: String, path: String = "bad.yaml") -> [String] {
        do { _ = try expand(text, path: path); XCTFail("expected errors"); return [] } catch let e as GridFileError {
            return e.diagnostics.map(\.description)
        } catch { XCTFail("unexpected \(error)"); return [] }
    }

    func testCartesianProductFirstAxisOutermost() throws {
        let (_, runs) = try expand(
            """
            base: \(Self.tinyBase)
            axes:
              strategy: [learned, frozen-random]
              size: [{d_model: 16, n_layer: 1, n_head: 2}, {d_model: 32, n_layer: 2, n_head: 2}]
              seed: [1, 2, 3]
            """)
        XCTAssertEqual(runs.count, 12)
        XCTAssertEqual(runs.map(\.index), Array(0..<12))
        XCTAssertEqual(
            runs.prefix(4).map(\.id),
            [
                "learned-d16-L1-v256-s1", "learned-d16-L1-v256-s2", "learned-d16-L1-v256-s3",
                "learned-d32-L2-v256-s1",
            ])
        XCTAssertEqual(runs.last?.id, "frozen-random-d32-L2-v256-s3")
        XCTAssertEqual(runs[0].axisLabels.map(\.label), ["learned", "d16-L1-h2", "1"])
        XCTAssertEqual(Set(runs.map(\.configHash)).count, 12)
    }

    func testExcludeAndOnlyFilters() throws {
        let (_, runs) = try expand(
            """
            base: \(Self.tinyBase)
            axes:
              strategy: [learned, {name: hashed, options: {target_std: 0.02}}, {name: mup, parametrization: mup}]
              size: [{preset: tiny}, {d_model: 32, n_layer: 1, n_head: 2}]
              seed: [1, 2]
            exclude: [{strategy: hashed, size: tiny}, {strategy: mup, seed: 2}]
            only: [{size: [tiny, {d_model: 32}]}]
            """)
        let ids = runs.map(\.id)
        XCTAssertEqual(
            ids,
            [
                "learned-d64-L2-v256-s1", "learned-d64-L2-v256-s2", "learned-d32-L1-v256-s1", "learned-d32-L1-v256-s2",
                "hashed-d32-L1-v256-s1", "hashed-d32-L1-v256-s2", "mup-d64-L2-v256-s1", "mup-d32-L1-v256-s1",
            ])
        XCTAssertEqual(runs.first { $0.id.hasPrefix("mup") }?.config.parametrization, "mup")
        XCTAssertEqual(runs.first { $0.id.hasPrefix("hashed") }?.config.strategyOptions["target_std"], .double(0.02))
    }

    /// Parametrization as an axis crossed with every strategy, with the decomposition arms of μP's gain (SP network +
    /// μP-scaled table, μP network + plain table) pinned to their parametrization, a per-strategy learning rate, and
    /// base_width: readable distinct ids, and an arm pinned to one parametrization never runs under the other.
    func testParametrizationAxisCrossedWithStrategiesAndDecompositionArms() throws {
        let (_, runs) = try expand(
            """
            base: {preset: tiny, corpus: tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4, max_steps: 10, base_width: 32}
            axes:
              parametrization: [sp, mup]
              strategy:
                - learned
                - {name: frozen-random, learning_rate: 0.002}
                - hashed
                - {name: mup, parametrization: mup}
                - {name: learned, label: learned-mup-table, parametrization: sp, options: {init_std: 0.08, input_multiplier: 10}}
                - {name: learned, label: learned-plain-table, parametrization: mup, options: {init_std: 0.02, input_multiplier: 1}}
            """)
        XCTAssertEqual(
            runs.map(\.id),
            [
                "learned-d64-L2-v256-sp-s1", "frozen-random-d64-L2-v256-sp-s1", "hashed-d64-L2-v256-sp-s1",
                "learned-mup-table-d64-L2-v256-sp-s1", "learned-d64-L2-v256-mup-s1", "frozen-random-d64-L2-v256-mup-s1",
                "hashed-d64-L2-v256-mup-s1", "mup-d64-L2-v256-mup-s1", "learned-plain-table-d64-L2-v256-mup-s1",
            ])
        XCTAssertEqual(Set(runs.map(\.configHash)).count, runs.count)
        for run in runs {
            XCTAssertEqual(run.config.parametrization, run.id.hasSuffix("-mup-s1") ? "mup" : "sp", run.id)
            XCTAssertEqual(run.config.baseWidth, 32, run.id)
            XCTAssertEqual(run.config.learningRate, run.config.strategy == "frozen-random" ? 0.002 : TrainConfig().learningRate, run.id)
        }
        let plain = try XCTUnwrap(runs.first { $0.id.hasPrefix("learned-plain-table") })
        XCTAssertEqual(plain.config.strategyOptions["input_multiplier"], .int(1))
        XCTAssertEqual(plain.config.strategyOptions["init_std"], .double(0.02))
    }

    /// Combinations whose axis values pin one key differently are skipped (and counted for `grid plan`); an axis
    /// value that meets no combination at all is an error at its place instead of silently yielding no run.
    func testAxisValueThatNeverYieldsARunIsAnError() throws {
        let (grid, runs) = try expand(
            """
            base: \(Self.tinyBase)
            axes:
              parametrization: [sp, mup]
              strategy: [learned, {name: mup, parametrization: mup}]
            """)
        XCTAssertEqual(runs.count, 3)
        XCTAssertEqual(GridExpansion.conflictingCombinations(grid), 1)
        let lines = errors(
            """
            base: \(Self.tinyBase)
            axes:
              parametrization: [sp, mup]
              strategy: [{name: mup, parametrization: mup}, {name: learned, label: plain, parametrization: mup}]
            """)
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines.first?.contains("value 'sp' of axis 'parametrization'") ?? false, "\(lines)")
        XCTAssertTrue(lines.first?.contains("never yields a run") ?? false, "\(lines)")
    }

    /// Filters may also name a trainer key: it matches the run's resolved config.
    func testFilterOnTrainerKey() throws {
        let (_, runs) = try expand(
            """
            base: \(Self.tinyBase)
            axes:
              size: [{d_model: 16, n_layer: 1, n_head: 2}, {d_model: 32, n_layer: 1, n_head: 2}]
              learning_rate: [1e-3, 3e-3]
            exclude: [{d_model: 32, learning_rate: 0.001}]
            """)
        XCTAssertEqual(runs.map(\.id), ["learned-d16-L1-v256-lr0.001-s1", "learned-d16-L1-v256-lr0.003-s1", "learned-d32-L1-v256-lr0.003-s1"])
    }

    /// Budget: tokens ∝ non-embedding parameters, clamped; an axis value's own max_tokens/max_steps wins.
    func testBudget() throws {
        let (_, runs) = try expand(
            """
            base: \(Self.tinyBase)
            axes:
              size: [{d_model: 16, n_layer: 1, n_head: 2}, {d_model: 32, n_layer: 2, n_head: 2}, {d_model: 32, n_layer: 1, n_head: 2, max_steps: 7}]
            budget: {tokens_per_parameter: 2, min_tokens: 20000, max_tokens: 60000}
            """)
        let n0 = runs[0].model.nonEmbeddingParameters, n1 = runs[1].model.nonEmbeddingParameters
        XCTAssertEqual(runs[0].config.maxTokens, max(20000, 2 * n0))
        XCTAssertEqual(runs[1].config.maxTokens, min(60000, 2 * n1))
        XCTAssertNil(runs[2].config.maxTokens)
        XCTAssertEqual(runs[2].config.totalSteps, 7)
    }

    /// Run ids are part of the on-disk layout: they must not change between versions for the same file.
    func testRunIDsAreStable() throws {
        let text = """
            name: ids
            base: \(Self.tinyBase)
            axes:
              strategy: [learned, {name: hashed, options: {target_std: 0.02}}, {name: hashed, options: {target_std: 0.05}}, {name: mup, parametrization: mup, label: mup-base}]
              size: [tiny, {d_model: 32, n_layer: 2, n_head: 4, label: narrow}]
              weight_decay: [0.1]
              schedule: [{label: short, warmup_steps: 1}]
              seed: [7]
            """
        let (_, a) = try expand(text)
        let (_, b) = try expand(text)
        XCTAssertEqual(a.map(\.id), b.map(\.id))
        XCTAssertEqual(a.map(\.configHash), b.map(\.configHash))
        XCTAssertEqual(
            a.map(\.id),
            [
                "learned-d64-L2-v256-wd0.1-short-s7", "learned-d32-L2-narrow-v256-wd0.1-short-s7",
                "hashed-target_std0.02-d64-L2-v256-wd0.1-short-s7", "hashed-target_std0.02-d32-L2-narrow-v256-wd0.1-short-s7",
                "hashed-target_std0.05-d64-L2-v256-wd0.1-short-s7", "hashed-target_std0.05-d32-L2-narrow-v256-wd0.1-short-s7",
                "mup-base-d64-L2-v256-wd0.1-short-s7", "mup-base-d32-L2-narrow-v256-wd0.1-short-s7",
            ])
        // The hash ignores the thread count (a resource setting), nothing else.
        var c = a[0].config
        c.threads = 2
        XCTAssertEqual(try ConfigHash.of(c), a[0].configHash)
        c.learningRate *= 2
        XCTAssertNotEqual(try ConfigHash.of(c), a[0].configHash)
    }

    /// A run id names a folder, so it follows `PathName`'s rule: a label that would make a hidden folder (which the
    /// report never finds) or a name longer than the rule allows is an error at the label's value.
    func testRunIDsFollowThePathRule() throws {
        XCTAssertEqual(
            errors(
                """
                base: \(Self.tinyBase)
                axes:
                  strategy: [learned, {name: hashed, label: "../../x"}]
                  seed: [1]
                """),
            [
                "bad.yaml:3:23: the run id '.._.._x-d64-L2-v256-s1' starts with '.'; it names the run's folder, so it must be "
                    + "letters, digits, '.', '_' and '-', not starting with '.', at most 128 bytes. Fix: give the strategy a "
                    + "`label:` that starts with a letter or digit"
            ])
        // 129 bytes: within the old limit of 200, beyond the path rule's 128.
        let label = String(repeating: "x", count: 129 - "learned-d64-L2-v256--s1".count)
        let long = errors(
            """
            base: \(Self.tinyBase)
            axes:
              strategy: [learned]
              schedule: [{label: \(label), warmup_steps: 1}]
              seed: [1]
            """)
        guard long.count == 1 else { return XCTFail(long.joined(separator: "\n")) }
        XCTAssertTrue(long[0].hasPrefix("bad.yaml:4:14: the run id 'learned-d64-L2-v256-xxx"), long[0])
        XCTAssertTrue(long[0].contains("is 129 bytes long (at most 128)"), long[0])
        XCTAssertTrue(long[0].hasSuffix("Fix: give the axis values shorter `label:`s"), long[0])
        // One byte shorter is a valid id.
        let (_, runs) = try expand(
            """
            base: \(Self.tinyBase)
            axes:
              strategy: [learned]
              schedule: [{label: \(label.dropLast()), warmup_steps: 1}]
              seed: [1]
            """)
        XCTAssertEqual(runs.map(\.id.utf8.count), [128])
    }

    /// A combination the model cannot build is an error of the file, not of every worker: `tie_embeddings` with a
    /// strategy that has no single trainable V×D table (the model's own rule, on the dry-built strategy).
    func testTiedHeadNeedsASingleTrainableTable() {
        XCTAssertEqual(
            errors(
                """
                base: {preset: tiny, corpus: tiny.txt, vocab_size: 256, max_steps: 10, tie_embeddings: true}
                axes:
                  strategy: [learned, hashed, frozen-random]
                """),
            [
                "bad.yaml:1:88: 'tie_embeddings': strategy 'hashed' has no single trainable V×D table to share with the output head. Fix: set tie_embeddings: false (tying needs a trainable table, e.g. 'learned' or 'mup').",
                "bad.yaml:1:88: 'tie_embeddings': strategy 'frozen-random' has no single trainable V×D table to share with the output head. Fix: set tie_embeddings: false (tying needs a trainable table, e.g. 'learned' or 'mup').",
            ])
    }

    /// A corpus that is not there is reported at the key that sets it, once per corpus, when the caller checks corpora
    /// (the CLI does; see `GridProcessTests`), and only for the runs the filters keep.
    func testMissingCorpusIsReportedAtItsKey() throws {
        let text = """
            base: {preset: tiny, vocab_size: 256, max_steps: 10}
            axes:
              data: [{label: here, corpus: here.txt}, {label: gone, corpus: /nonexistent/x.txt}]
              seed: [1, 2]
            """
        var asked: [String] = []
        let check = { (corpus: String) -> String? in
            asked.append(corpus)
            return corpus == "here.txt" ? nil : "\(corpus): no such file or folder"
        }
        do {
            _ = try GridExpansion.expand(try GridFile.parse(text, path: "bad.yaml"), corpusProblem: check)
            XCTFail("expected an error")
        } catch let e as GridFileError {
            XCTAssertEqual(e.diagnostics.map(\.description), ["bad.yaml:3:65: 'corpus': /nonexistent/x.txt: no such file or folder"])
        }
        XCTAssertEqual(asked, ["here.txt", "/nonexistent/x.txt"])
        asked = []
        let (_, runs) = try expand(text + "\nexclude: [{data: gone}]")
        XCTAssertEqual(runs.count, 2)  // unchecked without a checker
        _ = try GridExpansion.expand(try GridFile.parse(text + "\nexclude: [{data: gone}]", path: "ok.yaml"), corpusProblem: check)
        XCTAssertEqual(asked, ["here.txt"])
    }

    /// Every problem at once, each at its place, with the nearest valid key.
    func testValidationMessagesGolden() {
        let lines = errors(
            """
            name: bad
            base: {corpus: tiny.txt, vocab_size: 256, context_lenght: 16, batch_size: eight}
            axes:
              strategy: [learned, lerned, mup, {name: hashed, options: {target_sd: 0.02}}]
              size: [{d_model: 30, n_head: 4, n_layer: 1}, {preset: tiny}, {preset: huge}]
              seed: [1]
            budget: {tokens_per_parameter: 20, max_token: 5}
            jbos: 2
            exclude: [{strategy: hashd}]
            """)
        XCTAssertEqual(
            lines,
            [
                "bad.yaml:2:43: unknown key 'context_lenght' in base. Did you mean 'context_length'? (`ablate train --help` lists the trainer keys)",
                "bad.yaml:2:75: 'batch_size': must be a whole number, got 'eight'. Fix: give 'batch_size' such a value (e.g. 16).",
                // The registry's names, not a list: a newly added strategy must not break this test.
                "bad.yaml:4:23: unknown embedding strategy 'lerned'. Did you mean 'learned'? Known strategies: \(StrategyRegistry.names.joined(separator: ", ")) (see `ablate strategies`).",
                "bad.yaml:4:31: strategy 'mup': requires the μP parametrization (the model must apply μP to the hidden matrices, readout and attention); set `parametrization: mup` and `base_width` (e.g. 256) in the run config, or use strategy 'learned' for SP.",
                "bad.yaml:4:61: strategy 'hashed' has no option 'target_sd'. Valid options: hash_seed, init_std, input_multiplier, ngram_sizes, prime.",
                "bad.yaml:5:32: 'n_head': d_model 30 is not divisible by n_head 4. Fix: choose n_head dividing d_model (e.g. 6, 10, 15, 30) or change d_model.",
                "bad.yaml:5:73: 'preset': unknown preset 'huge'. Fix: use one of base, large, medium, small, tiny or give d_model, n_layer and n_head.",
                "bad.yaml:7:36: unknown budget key 'max_token'. Did you mean 'max_tokens'? Valid: tokens_per_parameter, min_tokens, max_tokens.",
                "bad.yaml:8:1: unknown key 'jbos'. Did you mean 'jobs'? Valid top-level keys: name, description, base, axes, budget, exclude, only, jobs, blas_kernel.",
                "bad.yaml:9:12: filter value 'hashd' matches no value of axis 'strategy' (labels: learned, lerned, mup, hashed)",
            ])
    }

    /// A misspelt strategy is reported even when every size is invalid too (the strategy cannot be built then).
    func testUnknownStrategyReportedWhenNoSizeIsValid() {
        let lines = errors(
            """
            name: bad
            base: {corpus: tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4}
            axes:
              strategy: [learned, hashd]
              size: [{d_model: 30, n_head: 4, n_layer: 1}]
            """)
        XCTAssertEqual(lines.count, 2, lines.joined(separator: "\n"))
        XCTAssertTrue(
            lines.contains { $0.hasPrefix("bad.yaml:4:23: unknown embedding strategy 'hashd'. Did you mean 'hashed'?") },
            lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("bad.yaml:5:") && $0.contains("not divisible") }, lines.joined(separator: "\n"))
    }

    func testStructuralErrorsGolden() {
        XCTAssertEqual(
            errors(
                """
                base: {preset: tiny}
                axes:
                  strategy: learned
                  learning_rat: [1e-3]
                  seed: [1, two]
                jobs: 0
                """),
            [
                "bad.yaml:3:13: axis 'strategy' must be a non-empty list of values, e.g. strategy: [a, b]",
                "bad.yaml:4:3: unknown axis 'learning_rat'. Did you mean 'learning_rate'? An axis is a trainer key (its values are that key's values), 'size', or a named bundle whose values are mappings of trainer keys",
                "bad.yaml:5:13: 'seed': must be a whole number ≥ 0, got 'two'. Fix: give 'seed' such a value (e.g. 1).",
                "bad.yaml:6:7: 'jobs' must be a positive integer (parallel runs on one machine), got '0'",
            ])
        XCTAssertEqual(errors("axes: {seed: [1]\nbase: [", path: "syntax.yaml").count, 1)
        XCTAssertTrue(errors("axes: {seed: [1]\nbase: [", path: "syntax.yaml")[0].hasPrefix("syntax.yaml:2:"))
    }

    func testDuplicateLabelsAndEmptyGridAreErrors() {
        XCTAssertEqual(
            errors(
                """
                base: \(Self.tinyBase)
                axes:
                  schedule: [{label: a, warmup_steps: 1}, {label: a, warmup_steps: 2}]
                """), ["bad.yaml:3:43: axis 'schedule' has two values labelled 'a' (the first at line 3); give them distinct `label:`s"])
        XCTAssertEqual(
            errors(
                """
                base: \(Self.tinyBase)
                axes: {seed: [1]}
                only: [{seed: 1, learning_rate: 5}]
                """), ["bad.yaml:1:7: the grid has no runs: the filters (`exclude`/`only`) removed every combination"])
    }

    /// Numbers a key cannot take name the key, what it must be and the value, at the value's place: never the
    /// decoder's "not valid JSON" or the encoder's EncodingError (NaN and infinity).
    func testBadNumbersNameTheKeyAndTheValue() {
        XCTAssertEqual(
            errors(
                """
                base: \(Self.tinyBase)
                axes:
                  seed: [-1, 1.5]
                  max_steps: [1e30]
                  vocab_size: [256.7]
                  learning_rate: [.inf, .nan]
                  strategy_options: [[1]]
                """),
            [
                "bad.yaml:3:10: 'seed': must be a whole number ≥ 0, got -1. Fix: give 'seed' such a value (e.g. 1).",
                "bad.yaml:3:14: 'seed': must be a whole number ≥ 0, got 1.5. Fix: give 'seed' such a value (e.g. 1).",
                "bad.yaml:4:15: 'max_steps': must be a whole number, got 1e+30. Fix: give 'max_steps' such a value (e.g. 1000), or null to leave it unset.",
                "bad.yaml:5:16: 'vocab_size': must be a whole number, got 256.7. Fix: give 'vocab_size' such a value (e.g. 2048).",
                "bad.yaml:6:19: 'learning_rate': must be a finite number, got inf. Fix: give 'learning_rate' such a value (e.g. 0.001).",
                "bad.yaml:6:25: 'learning_rate': must be a finite number, got nan. Fix: give 'learning_rate' such a value (e.g. 0.001).",
                "bad.yaml:7:22: 'strategy_options': expected a mapping (e.g. {init_std: 0.02}), got [1]. Fix: give 'strategy_options' such a value.",
            ])
        // A non-finite option inside a strategy's options names the option.
        XCTAssertEqual(
            errors(
                """
                base: \(Self.tinyBase)
                axes:
                  strategy: [{name: hashed, options: {init_std: .nan}}]
                """),
            ["bad.yaml:3:38: 'strategy_options.init_std': must be a finite number, got nan. Fix: give 'strategy_options.init_std' a finite number."])
    }

    /// Values that are each of the right type but impossible are all reported, each at its own line, together with a
    /// bad shape: one edit of the file mends them all (before, the first stopped the checks of its run).
    func testEveryImpossibleValueIsReportedAtOnce() {
        XCTAssertEqual(
            errors(
                """
                base: \(Self.tinyBase)
                axes:
                  warmup_steps: [-1]
                  weight_decay: [-0.5]
                  lr_schedule: [cosin]
                  size: [{d_model: 30, n_head: 4, n_layer: 1}]
                """),
            [
                "bad.yaml:3:18: 'warmup_steps': must be ≥ 0, got -1. Fix: use e.g. 100.",
                "bad.yaml:4:18: 'weight_decay': must be ≥ 0, got -0.5. Fix: use e.g. 0.1.",
                "bad.yaml:5:17: 'lr_schedule': unknown schedule 'cosin' (did you mean 'cosine'?). Fix: use one of cosine, wsd.",
                "bad.yaml:6:32: 'n_head': d_model 30 is not divisible by n_head 4. Fix: choose n_head dividing d_model (e.g. 6, 10, 15, 30) or change d_model.",
            ])
    }

    /// A key written twice is reported at its second place with the first one's line; a tab in the indentation says so.
    func testDuplicateKeysAndTabsInYAML() {
        let base = "base: \(Self.tinyBase)\n"
        XCTAssertEqual(
            errors("name: g\n" + base + "axes:\n  seed: [1]\n# a comment\n\n\nbase: {max_steps: 2}\n"),
            ["bad.yaml:8:1: duplicate key 'base' (first at line 2); keep one of them"])
        XCTAssertEqual(
            errors("name: g\n" + base + "axes:\n  strategy: [{name: hashed, label: h}]\n  seed: [1]\nname: h\n"),
            ["bad.yaml:6:1: duplicate key 'name' (first at line 1); keep one of them"])
        XCTAssertEqual(
            errors(base + "axes:\n  strategy:\n    - name: learned\n    - name: hashed\n      label: h\n      name: mup\n"),
            ["bad.yaml:7:7: duplicate key 'name' (first at line 5); keep one of them"])
        XCTAssertEqual(
            errors(base + "axes:\n  seed: [1]\n  schedule: [{warmup_steps: 1, warmup_steps: 2}]\n"),
            ["bad.yaml:4:32: duplicate key 'warmup_steps' (first at line 4); keep one of them"])
        let tab = errors(base + "axes:\n\tseed: [1]\n")
        XCTAssertEqual(tab.count, 1, tab.joined(separator: "\n"))
        XCTAssertTrue(tab[0].hasPrefix("bad.yaml:3:1: ") && tab[0].contains("tabs are not allowed for indentation in YAML: use spaces"), tab[0])
    }

    /// The shipped grid files validate (transplant.yaml needs its source run, so it is checked by `grid plan` once that
    /// exists), and default.yaml has the shape the issue asks for.
    func testShippedGridFilesValidate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["default", "scaling", "vocab", "lr-sweep", "stabilisation", "plateau", "plateau-wsd"] {
            let path = root.appendingPathComponent("ablations/\(name).yaml").path
            let (grid, runs) = try GridExpansion.load(path: path)
            XCTAssertEqual(grid.name, name)
            XCTAssertFalse(runs.isEmpty)
        }
        let (_, runs) = try GridExpansion.load(path: root.appendingPathComponent("ablations/default.yaml").path)
        XCTAssertEqual(Set(runs.map(\.config.strategy)), ["learned", "frozen-random", "hashed", "mup"])
        XCTAssertEqual(Set(runs.map(\.config.seed)).count, 3)
        let sizes = Set(runs.map(\.model.nonEmbeddingParameters))
        XCTAssertEqual(sizes.count, 3)
        XCTAssertGreaterThanOrEqual(Double(sizes.max()!) / Double(sizes.min()!), 4)
        let (_, scaling) = try GridExpansion.load(path: root.appendingPathComponent("ablations/scaling.yaml").path)
        XCTAssertGreaterThanOrEqual(Set(scaling.map(\.model.nonEmbeddingParameters)).count, 5)
    }

    func testLockIsExclusiveAcrossOpenFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grid-lock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try XCTUnwrap(try RunLock.tryAcquire(folder: dir))
        XCTAssertNil(try RunLock.tryAcquire(folder: dir))
        XCTAssertTrue(RunLock.isLocked(folder: dir))
        first.release()
        XCTAssertFalse(RunLock.isLocked(folder: dir))
        XCTAssertNotNil(try RunLock.tryAcquire(folder: dir))
    }

    func testWallTimeSchedulesLongestFirst() {
        XCTAssertEqual(GridPlan.wallSeconds([5, 4, 3, 3, 3], jobs: 2), 10)  // LPT: 5+3, 4+3+3
        XCTAssertEqual(GridPlan.wallSeconds([1, 1, 1], jobs: 1), 3)
    }

    /// A grid name becomes runs/<name> and reports/<name>: `..`, a path or a hidden name is an error, from `name:` or
    /// from the file name; and the name `grid run` uses is the one `report` reads (RunFormat's GridName).
    func testGridNamesAreCheckedByThePathRule() throws {
        let axes = "axes:\n  seed: [1]\nbase: {preset: tiny, max_steps: 2, vocab_size: 256}\n"
        for bad in ["..", "../../w1", ".hidden", "a/b"] {
            XCTAssertTrue(errors("name: \(bad)\n" + axes).contains { $0.contains("'name' must be a plain name") }, bad)
        }
        XCTAssertTrue(errors(axes, path: "dir/.hidden.yaml").contains { $0.contains("add `name: <grid>`") })
        let (named, _) = try expand("name: \"quoted\"  # comment\n" + axes)
        XCTAssertEqual(named.name, "quoted")
        XCTAssertEqual(try GridName.of(gridFile: "g.yaml", text: "name: \"quoted\"  # comment\n" + axes), named.name)
        let (unnamed, _) = try expand(axes, path: "ablations/my-grid.yaml")
        XCTAssertEqual(unnamed.name, "my-grid")
        XCTAssertEqual(try GridName.of(gridFile: "ablations/my-grid.yaml", text: axes), unnamed.name)
    }
}
