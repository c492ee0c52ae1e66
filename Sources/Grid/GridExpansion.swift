import Embeddings
import Foundation
import Model
import RunFormat
import Trainer

/// One run of a grid: its stable id, its resolved config, and where each key came from.
public struct GridRun: Sendable {
    /// Position in the expansion (after filters), stable for a given file.
    public var index: Int
    /// Readable and stable: `<strategy>-d<D>-L<L>-v<V>[-<extra axes>]-s<seed>`; the run folder's name.
    public var id: String
    public var config: TrainConfig
    /// The hash of the config (threads excluded): identifies "the same run" across invocations.
    public var configHash: String
    /// Axis name → label of this run's value, in axis order.
    public var axisLabels: [(axis: String, label: String)]
    public var model: ModelConfig
    /// Parameters of the embedding strategy's tensors (trainable or not) plus the positional table.
    public var embeddingParameters: Int
    /// The training split's tokens and bytes under this run's tokenizer, once known: a byte budget's steps need it.
    public var trainSplit: TrainSplit? = nil
    /// Optimizer steps of the budget (0 for a byte budget whose `trainSplit` is not known yet).
    public var totalSteps: Int { config.totalSteps(trainSplit: trainSplit) ?? 0 }
}

/// Expands a grid file into runs and validates each one (config, model shape, strategy and its options, built dry).
public enum GridExpansion {
    /// All runs, or a `GridFileError` listing every problem at its place in the file. `corpusProblem` says why a
    /// run's `corpus` cannot be loaded (nil when it can): given by callers that know where corpora live, it is asked
    /// once per corpus of the runs the filters keep, so a missing corpus is an error here rather than in every worker.
    public static func expand(_ grid: GridFile, corpusProblem: ((String) -> String?)? = nil) throws -> [GridRun] {
        var diags = Diagnostics(file: grid.path)
        for d in grid.parseDiagnostics { diags.add(d.location, d.message) }
        // Filter keys must name an axis or a trainer key; axis filters must match some value (typos otherwise
        // silently keep or drop nothing).
        for f in grid.exclude + grid.only {
            for c in f.conditions {
                if let axis = grid.axes.first(where: { $0.name == c.key }) {
                    for v in c.values where !axis.values.contains(where: { matches($0, v) }) {
                        diags.add(
                            c.location,
                            "filter value '\(v)' matches no value of axis '\(c.key)' (labels: \(axis.values.map(\.label).joined(separator: ", ")))")
                    }
                } else if !TrainConfig.keys.contains(c.key) {
                    diags.add(
                        c.location,
                        "filter key '\(c.key)' is neither an axis nor a trainer key.\(GridFile.nearestHint(c.key, in: grid.axes.map(\.name) + TrainConfig.keys))"
                    )
                }
            }
        }
        var runs: [GridRun] = []
        var ids: [String: (Int, [String])] = [:]
        // Per distinct strategy build: its embedding parameters, and whether a tied head can share its table.
        var strategyOK: [String: (embedding: Int, tied: Result<Void, Error>)] = [:]
        var corpusChecked = Set<String>()
        var strategyFailed = Set<String>()
        // Axis value (axis index, value index) → a key it was found to conflict on, until it meets a combination.
        var unmet: [[Int]: String] = [:]
        var met = Set<[Int]>()
        for combo in combinations(grid) {
            let values = zip(grid.axes, combo).map { ($0.name, $0.values[$1]) }
            // Two axis values that set one key to different values never meet: e.g. a strategy entry pinned to
            // `parametrization: sp` crossed with a parametrization axis runs under sp only (no run would be labelled
            // `mup` while training under SP).
            if let key = Self.conflictingKey(values.map(\.1.settings)) {
                for (a, v) in combo.enumerated() where unmet[[a, v]] == nil { unmet[[a, v]] = key }
                continue
            }
            for (a, v) in combo.enumerated() { met.insert([a, v]) }
            // Lay base, then each axis value, over the defaults; remember which node set each key.
            var object: [String: JSONValue] = [:]
            var origin: [String: SourceLocation] = [:]
            func apply(_ settings: [String: GridFile.Located]) {
                if settings["max_steps"] != nil && settings["max_tokens"] == nil { object["max_tokens"] = .null }
                // One budget per run: a later layer's budget replaces an earlier layer's of another kind; one mapping
                // with a byte budget and a step or token budget is an error.
                if let bytes = settings["max_train_bytes"] {
                    let others = ["max_steps", "max_tokens"].filter { settings[$0] != nil }
                    if !others.isEmpty {
                        let e = TrainConfig.budgetConflict(others)
                        diags.add(bytes.location, "'max_train_bytes': \(e.message). Fix: \(e.fix).")
                    }
                    object["max_steps"] = .null; object["max_tokens"] = .null
                } else if settings["max_steps"] != nil || settings["max_tokens"] != nil {
                    object["max_train_bytes"] = .null
                }
                for (k, v) in settings {
                    origin[k] = v.location
                    if !k.contains(".") { object[k] = v.value }
                }
            }
            apply(grid.base)
            for (_, v) in values { apply(v.settings) }
            let setByAxis = values.contains { v in ["max_tokens", "max_steps", "max_train_bytes"].contains { v.1.settings[$0] != nil } }
            var config: TrainConfig
            do { config = try TrainConfig.from(object) } catch { continue }  // types were reported by GridFile
            func report(_ error: Error) {
                switch error {
                case let e as ConfigError:
                    var key = e.key
                    if origin[key] == nil, ["d_model", "n_layer", "n_head"].contains(key) { key = "preset" }
                    let message = e.message.hasSuffix(".") || e.message.hasSuffix("?") ? e.message : e.message + "."
                    diags.add(origin[key] ?? origin["strategy"] ?? grid.baseLocation, "'\(e.key)': \(message) Fix: \(e.fix).")
                case let e as StrategyError:
                    let loc: SourceLocation?
                    switch e {
                    case let .unknownOption(_, key, _), let .invalidOption(_, key, _):
                        loc = origin["strategy_options." + key] ?? origin["strategy_options"]
                    default: loc = nil
                    }
                    diags.add(loc ?? origin["strategy"] ?? grid.baseLocation, e.description)
                default:
                    diags.add(grid.baseLocation, "\(error)")
                }
            }
            // An unknown strategy name is an error whatever the shape; its options are checked below, once the shape
            // is valid (building the strategy needs d_model), so a bad size does not hide a misspelt strategy.
            let names = StrategyRegistry.names
            if !names.contains(config.strategy), strategyFailed.insert("name:" + config.strategy).inserted {
                report(
                    StrategyError.unknownStrategy(
                        name: config.strategy, suggestion: StrategyRegistry.nearest(config.strategy, in: names),
                        known: names))
            }
            let model: ModelConfig
            do { model = try config.modelConfig() } catch {
                config.problems().forEach(report)  // the shape's first problem and every other value's
                continue
            }
            if let budget = grid.budget, !setByAxis, config.maxTrainBytes != nil {
                diags.add(
                    budget.location,
                    "'budget' sets max_tokens per run, but max_train_bytes is set too: a run has one budget. Fix: drop 'budget' or max_train_bytes.")
                continue
            }
            if let budget = grid.budget, !setByAxis {
                config.maxTokens = budget.tokens(nonEmbeddingParameters: model.nonEmbeddingParameters)
                origin["max_tokens"] = budget.location
            }
            let problems = config.problems()
            if !problems.isEmpty {
                problems.forEach(report)
                continue
            }
            // Filters (after the budget, so a filter on max_tokens sees the resolved value).
            let resolved = (try? JSONValue.encode(config)) ?? .null
            func matchesFilter(_ f: GridFile.Filter) -> Bool {
                f.conditions.allSatisfy { c in
                    if let i = grid.axes.firstIndex(where: { $0.name == c.key }) {
                        return c.values.contains { matches(values[i].1, $0) }
                    }
                    guard case let .object(o) = resolved, let have = o[c.key] else { return false }
                    return c.values.contains { same($0, have) }
                }
            }
            if grid.exclude.contains(where: matchesFilter) { continue }
            if !grid.only.isEmpty && !grid.only.contains(where: matchesFilter) { continue }
            if let corpusProblem, corpusChecked.insert(config.corpus).inserted, let problem = corpusProblem(config.corpus) {
                diags.add(origin["corpus"] ?? grid.baseLocation, "'corpus': \(problem)")
            }
            // The strategy, built once per distinct (strategy, options, shape) on a stand-in vocabulary.
            let strategyKey = "\(config.strategy)|\(config.strategyOptions)|\(config.vocabSize)|\(model.dModel)|\(model.resolvedParametrization)"
            let built: (embedding: Int, tied: Result<Void, Error>)
            if let b = strategyOK[strategyKey] {
                built = b
            } else if strategyFailed.contains(strategyKey) || !names.contains(config.strategy) {
                continue
            } else {
                do {
                    let context = EmbeddingContext(
                        vocabulary: .standIn(size: config.vocabSize), dModel: model.dModel, seed: config.seed,
                        parametrization: model.resolvedParametrization)
                    let s = try StrategyRegistry.make(name: config.strategy, options: config.strategyOptionsObject, context: context)
                    built = (
                        s.tensors.reduce(0) { $0 + $1.count } + model.contextLength * model.dModel,
                        Result { _ = try GPT.tiedTable(strategy: s, vocabSize: model.vocabSize, dModel: model.dModel) }
                    )
                    strategyOK[strategyKey] = built
                } catch {
                    strategyFailed.insert(strategyKey)
                    report(error); continue
                }
            }
            let embedding = built.embedding
            if model.tieEmbeddings, case let .failure(error) = built.tied { report(error); continue }
            let id = RunID.make(config: config, model: model, axes: values.map { ($0.0, $0.1) })
            let labels = values.map { (axis: $0.0, label: $0.1.label) }
            // The id names the run's folder, so it follows the path rule: labels were made of the allowed characters
            // by `RunID.sanitize`, which leaves the length and a leading '.' (a hidden folder the report never finds).
            if let problem = PathName.problem(id) {
                let longest = values.max { $0.1.label.utf8.count < $1.1.label.utf8.count }
                let first = values.first { $0.0 == "strategy" }
                let leadingDot = id.hasPrefix(".")
                let shown = id.utf8.count > 60 ? "\(id.prefix(60))…" : id
                diags.add(
                    (leadingDot ? first?.1.location : longest?.1.location) ?? origin["strategy"] ?? grid.baseLocation,
                    "the run id '\(shown)' \(problem); it names the run's folder, so it must be letters, digits, '.', '_' "
                        + "and '-', not starting with '.', at most \(RunID.maxLength) bytes. Fix: give "
                        + (leadingDot ? "the strategy a `label:` that starts with a letter or digit" : "the axis values shorter `label:`s")
                )
                continue
            }
            if let (other, otherLabels) = ids[id] {
                let here = labels.map { "\($0.axis)=\($0.label)" }.joined(separator: ", ")
                diags.add(
                    values.first?.1.location ?? grid.baseLocation,
                    "runs \(other) (\(otherLabels.joined(separator: ", "))) and \(runs.count) (\(here)) would share the run id '\(id)'; give the axis values distinct `label:`s"
                )
                continue
            }
            ids[id] = (runs.count, labels.map { "\($0.axis)=\($0.label)" })
            var hash = ""
            do { hash = try ConfigHash.of(config) } catch { report(error); continue }
            runs.append(
                GridRun(
                    index: runs.count, id: id, config: config, configHash: hash, axisLabels: labels,
                    model: model, embeddingParameters: embedding))
        }
        // An axis value that conflicts with every combination it is in would vanish without a run: say so.
        for (av, key) in unmet.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where !met.contains(av) {
            let axis = grid.axes[av[0]], value = axis.values[av[1]]
            let setting = value.settings[key].map { " (\(key): \($0.value))" } ?? ""
            diags.add(
                value.location,
                "value '\(value.label)' of axis '\(axis.name)'\(setting) never yields a run: every combination with it has "
                    + "another axis value setting '\(key)' differently. Fix: drop or change that setting, or add an axis value it agrees with"
            )
        }
        if grid.axes.isEmpty && !grid.parseDiagnostics.isEmpty { throw GridFileError(diagnostics: diags.sorted) }
        if diags.isEmpty && runs.isEmpty {
            diags.add(grid.baseLocation, "the grid has no runs: the filters (`exclude`/`only`) removed every combination")
        }
        if !diags.isEmpty { throw GridFileError(diagnostics: diags.sorted) }
        return runs
    }

    /// Loads, parses and expands in one go.
    public static func load(path: String, corpusProblem: ((String) -> String?)? = nil) throws -> (GridFile, [GridRun]) {
        let grid = try GridFile.load(path: path)
        return (grid, try expand(grid, corpusProblem: corpusProblem))
    }

    /// Does an axis value match a filter value? By label, by its raw value, or as a sub-mapping of its settings.
    static func matches(_ value: GridFile.AxisValue, _ filter: JSONValue) -> Bool {
        if case let .string(s) = filter, s == value.label { return true }
        if filter.description == value.label { return true }
        if same(filter, value.raw) { return true }
        if case let .object(o) = filter {
            return o.allSatisfy { k, v in
                if k == "name", let s = value.settings["strategy"] { return same(v, s.value) }
                if k == "options", let s = value.settings["strategy_options"] { return same(v, s.value) }
                return value.settings[k].map { same(v, $0.value) } ?? false
            }
        }
        return false
    }

    /// Every combination of axis values (one value index per axis), in axis order.
    static func combinations(_ grid: GridFile) -> [[Int]] {
        grid.axes.reduce([[Int]]([[]])) { acc, axis in acc.flatMap { p in axis.values.indices.map { p + [$0] } } }
    }

    /// How many combinations of axis values yield no run because two of their values set one key differently
    /// (e.g. a strategy pinned to `parametrization: sp` crossed with `parametrization: mup`): `grid plan` says so.
    public static func conflictingCombinations(_ grid: GridFile) -> Int {
        combinations(grid).filter { combo in
            conflictingKey(zip(grid.axes, combo).map { $0.values[$1].settings }) != nil
        }.count
    }

    /// A trainer key two of these axis values set to different values (the alphabetically first), if any.
    static func conflictingKey(_ settings: [[String: GridFile.Located]]) -> String? {
        var seen: [String: JSONValue] = [:]
        var conflicts: [String] = []
        for s in settings {
            for (key, v) in s where !key.contains(".") {
                if let earlier = seen[key], !same(earlier, v.value) { conflicts.append(key) }
                seen[key] = v.value
            }
        }
        return conflicts.min()
    }

    /// Equality that treats 3 and 3.0 as the same number.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.object(x), .object(y)): return x.keys == y.keys && x.allSatisfy { k, v in same(v, y[k]!) }
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        default: return a == b
        }
    }
}

/// Readable, stable run ids.
extension RunID {
    /// Axes already spelled by the fixed part of the id.
    static let covered: Set<String> = ["strategy", "size", "seed", "vocab_size", "d_model", "n_layer", "preset"]

    /// Ids name folders: `PathName`'s limit, as for every other name that becomes a path component.
    public static let maxLength = PathName.maxLength

    public static func make(config: TrainConfig, model: ModelConfig, axes: [(String, GridFile.AxisValue)]) -> String {
        let strategyLabel = axes.first { $0.0 == "strategy" }?.1.label ?? config.strategy
        let size = axes.first(where: { $0.0 == "size" })?.1
        var extra: [String] = []
        for (name, value) in axes where !covered.contains(name) {
            if TrainConfig.keys.contains(name) && !value.hasExplicitLabel {
                extra.append(name == "parametrization" ? value.label : abbreviation(name) + value.label)
            } else {
                extra.append(value.label)
            }
        }
        return compose(
            arm: strategyLabel, dModel: model.dModel, nLayer: model.nLayer,
            sizeLabel: size?.hasExplicitLabel == true ? size?.label : nil, vocabSize: config.vocabSize,
            extra: extra, seed: config.seed)
    }

    /// Short names for trainer keys in ids and labels.
    public static func abbreviation(_ key: String) -> String {
        let table = [
            "learning_rate": "lr", "batch_size": "b", "context_length": "T", "weight_decay": "wd",
            "warmup_steps": "wu", "max_tokens": "tok", "max_steps": "steps", "init_std": "std",
            "base_width": "bw", "n_head": "h", "tie_embeddings": "tie", "output_multiplier": "om",
            "grad_clip": "clip", "min_lr_ratio": "minlr", "lr_schedule": "sched", "lr_decay_fraction": "decay",
        ]
        return table[key] ?? key.replacingOccurrences(of: "_", with: "")
    }
}
