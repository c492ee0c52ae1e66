import Embeddings
import Foundation
import Model
import RunFormat
import Trainer
import Yams

/// An ablation grid as written in `ablations/*.yaml`, with the file position of every value so that each error
/// can be reported as `file:line:column: message`.
///
/// Schema (every key but `axes` is optional; `base`, axis values and filters use `TrainConfig` keys, snake_case):
///
///     name: default                  # runs go to runs/<name>/<run-id>/ (default: the file name)
///     description: "…"               # free text, shown by `grid plan`
///     base: {corpus: shakespeare, vocab_size: 2048, learning_rate: 3e-3, …}   # laid over the trainer defaults
///     axes:                          # the cartesian product of all axes, first axis outermost
///       strategy: [learned, {name: hashed, options: {init_std: 0.02}}, {name: mup, parametrization: mup}]
///       size: [tiny, {d_model: 96, n_layer: 3, n_head: 3}, {preset: small, max_tokens: 400000}]
///       seed: [1, 2, 3]
///       learning_rate: [1e-3, 3e-3]  # any trainer key is an axis; its values are that key's values
///       schedule: [{label: short, warmup_steps: 10}, {label: long, warmup_steps: 100}]  # a named bundle of keys
///     budget: {tokens_per_parameter: 20, min_tokens: 100000, max_tokens: 2000000}   # sets max_tokens per run
///     exclude: [{strategy: hashed, size: tiny}]   # drop runs matching every key of an entry
///     only: [{seed: [1, 2]}]                      # keep only runs matching some entry
///     jobs: 2                        # parallel runs on one machine (default: cores / threads)
///     blas_kernel: SkylakeX          # opt in to an OpenBLAS kernel (checked against a reference before use)
///
/// Axis values: for `strategy`, a name or a mapping {name, options, label, + any trainer key (e.g. parametrization)};
/// for `size`, a preset name or a mapping of trainer keys (preset, d_model, n_layer, n_head, + any other, e.g. a
/// per-size max_tokens); for a trainer key, that key's values; for any other axis name, mappings of trainer keys
/// with an optional `label`. Later axes override earlier ones and `base`, except that two axis values setting one key
/// to different values never meet (no run: a strategy entry pinned to `parametrization: sp`, crossed with a
/// `parametrization: [sp, mup]` axis, runs under sp only); an axis value that sets `max_tokens`, `max_steps` or
/// `max_train_bytes` overrides the `budget` (a byte budget in `base` and a `budget` conflict), and a byte budget
/// replaces an earlier layer's step or token budget (and the reverse). Filters match an axis by its value's label (`tiny`, `hashed`, `3`), by its
/// value, or by a sub-mapping ({d_model: 96}); a trainer key in a filter matches the run's resolved config.
public struct GridFile: Sendable {
    public var path: String
    public var name: String
    public var description: String?
    public var base: [String: Located]
    public var baseLocation: SourceLocation
    public var axes: [Axis]
    public var budget: Budget?
    public var exclude: [Filter]
    public var only: [Filter]
    public var jobs: Int?
    public var blasKernel: String?
    /// Problems found while parsing; `GridExpansion.expand` reports them together with its own, so that every
    /// error of a file shows at once.
    public var parseDiagnostics: [GridDiagnostic] = []

    public static let topLevelKeys = ["name", "description", "base", "axes", "budget", "exclude", "only", "jobs", "blas_kernel"]

    /// A value with its position in the file.
    public struct Located: Sendable, Equatable {
        public var value: JSONValue
        public var location: SourceLocation
    }

    public struct Axis: Sendable {
        public var name: String
        public var location: SourceLocation
        public var values: [AxisValue]
    }

    /// One value of an axis: the trainer keys it sets, and a short label for run ids, filters and tables.
    public struct AxisValue: Sendable {
        public var label: String
        public var hasExplicitLabel: Bool
        public var settings: [String: Located]
        public var raw: JSONValue
        public var location: SourceLocation
    }

    /// Token budget proportional to non-embedding parameters, clamped.
    public struct Budget: Sendable {
        public var tokensPerParameter: Double
        public var minTokens: Int?
        public var maxTokens: Int?
        public var location: SourceLocation
        public static let keys = ["tokens_per_parameter", "min_tokens", "max_tokens"]

        public func tokens(nonEmbeddingParameters n: Int) -> Int {
            // Clamped in floating point first: Int(x) of an x beyond Int's range would trap.
            var t = Int(min((tokensPerParameter * Double(n)).rounded(), Double(TrainConfig.maxTokenBudget) * 2))
            if let minTokens { t = max(t, minTokens) }
            if let maxTokens { t = min(t, maxTokens) }
            return max(t, 1)
        }
    }

    /// One `exclude`/`only` entry: key → accepted values (any of).
    public struct Filter: Sendable {
        public var conditions: [(key: String, values: [JSONValue], location: SourceLocation)]
        public var location: SourceLocation
    }
}

public struct SourceLocation: Sendable, Equatable, Hashable, Comparable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    init(_ node: Node) { self.init(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1) }
    public static func < (a: Self, b: Self) -> Bool { (a.line, a.column) < (b.line, b.column) }
}

/// One problem in a grid file, printed as `file:line:column: message`.
public struct GridDiagnostic: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var file: String
    public var location: SourceLocation
    public var message: String
    public var description: String { "\(file):\(location.line):\(location.column): \(message)" }
}

/// Every problem found in a grid file (all at once).
public struct GridFileError: Error, CustomStringConvertible {
    public var diagnostics: [GridDiagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics, deduplicated, in file order.
struct Diagnostics {
    let file: String
    private(set) var items: [GridDiagnostic] = []
    private var seen = Set<GridDiagnostic>()
    init(file: String) { self.file = file }
    mutating func add(_ location: SourceLocation, _ message: String) {
        let d = GridDiagnostic(file: file, location: location, message: message)
        if seen.insert(d).inserted { items.append(d) }
    }
    var sorted: [GridDiagnostic] {
        items.enumerated().sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }.map(\.element)
    }
    var isEmpty: Bool { items.isEmpty }
}

extension GridFile {
    /// Reads and checks the structure of a grid file (types of every key and value; not yet the combinations,
    /// see `GridExpansion`). Throws only when the file cannot be parsed at all; other problems are collected in
    /// `parseDiagnostics` and thrown by `GridExpansion.expand` together with its own.
    public static func load(path: String) throws -> GridFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GridFileError(diagnostics: [
                GridDiagnostic(
                    file: path, location: .init(line: 1, column: 1),
                    message: "cannot read the grid file (no such file?)")
            ])
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String) throws -> GridFile {
        var diags = Diagnostics(file: path)
        let root: Node
        do {
            guard let n = try YAMLLimit.compose(text, path: path) else {
                throw GridFileError(diagnostics: [
                    GridDiagnostic(
                        file: path, location: .init(line: 1, column: 1),
                        message: "the grid file is empty; it needs at least `axes:`")
                ])
            }
            root = n
        } catch let e as YamlError {
            throw GridFileError(diagnostics: [yamlDiagnostic(e, path: path, text: text)])
        } catch let e as YAMLTooLarge {
            throw GridFileError(diagnostics: [GridDiagnostic(file: path, location: .init(line: 1, column: 1), message: e.message)])
        }
        let defaultName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        var grid = GridFile(
            path: path, name: defaultName, description: nil, base: [:], baseLocation: SourceLocation(root),
            axes: [], budget: nil, exclude: [], only: [], jobs: nil, blasKernel: nil)
        guard case let .mapping(top) = root else {
            diags.add(SourceLocation(root), "the top level must be a mapping with at least `axes:`")
            throw GridFileError(diagnostics: diags.sorted)
        }
        if GridName.declared(in: text) == nil, let problem = PathName.problem(defaultName) {
            diags.add(SourceLocation(root), "the grid is named after its file, and '\(defaultName)' \(problem); add `name: <grid>`")
        }
        var sawAxes = false
        for (k, v) in top {
            let key = k.string ?? ""
            switch key {
            case "name":
                if let s = scalarString(v), PathName.problem(s) == nil, GridName.declared(in: text) == s {
                    grid.name = s
                } else {
                    diags.add(
                        SourceLocation(v),
                        "'name' must be a plain name on its own top-level line (letters, digits, '.', '_', '-', not starting with '.'); it names the folder runs/<name>"
                    )
                }
            case "description":
                grid.description = v.string
            case "base":
                grid.baseLocation = SourceLocation(v)
                guard case let .mapping(m) = v else {
                    diags.add(SourceLocation(v), "'base' must be a mapping of trainer keys (e.g. {vocab_size: 2048, learning_rate: 3e-3})")
                    continue
                }
                for (bk, bv) in m {
                    let name = bk.string ?? ""
                    if checkTrainerKey(name, at: SourceLocation(bk), value: bv, context: "base", &diags) {
                        grid.base[name] = Located(value: jsonValue(bv), location: SourceLocation(bv))
                        if name == "strategy_options", case let .mapping(opts) = bv {
                            for (ok, ov) in opts {
                                grid.base["strategy_options." + (ok.string ?? "")] = Located(value: jsonValue(ov), location: SourceLocation(ok))
                            }
                        }
                    }
                }
            case "axes":
                sawAxes = true
                guard case let .mapping(m) = v, m.count > 0 else {
                    diags.add(SourceLocation(v), "'axes' must be a mapping of axis name → list of values (e.g. seed: [1, 2, 3])")
                    continue
                }
                for (ak, av) in m {
                    if let axis = parseAxis(name: ak.string ?? "", keyNode: ak, valueNode: av, &diags) { grid.axes.append(axis) }
                }
            case "budget":
                grid.budget = parseBudget(v, &diags)
            case "exclude", "only":
                let filters = parseFilters(v, key: key, &diags)
                if key == "exclude" { grid.exclude = filters } else { grid.only = filters }
            case "jobs":
                if case let .int(j) = jsonValue(v), j >= 1 {
                    grid.jobs = j
                } else {
                    diags.add(
                        SourceLocation(v), "'jobs' must be a positive integer (parallel runs on one machine), got '\(v.string ?? "a collection")'")
                }
            case "blas_kernel":
                if let s = scalarString(v), !s.isEmpty {
                    grid.blasKernel = s
                } else {
                    diags.add(SourceLocation(v), "'blas_kernel' must be an OpenBLAS core name such as SkylakeX or Haswell")
                }
            default:
                let near = nearestHint(key, in: topLevelKeys + TrainConfig.keys)
                let trainer = TrainConfig.keys.contains(key) ? " '\(key)' is a trainer key: put it under `base:` or `axes:`." : ""
                diags.add(
                    SourceLocation(k),
                    "unknown key '\(key)'.\(trainer.isEmpty ? near : trainer) Valid top-level keys: \(topLevelKeys.joined(separator: ", ")).")
            }
        }
        if !sawAxes { diags.add(SourceLocation(root), "missing 'axes:' (e.g. axes: {strategy: [learned, frozen-random], seed: [1, 2]})") }
        // Axis names that are also set in base: the axis wins; harmless, so no message.
        for (i, a) in grid.axes.enumerated() where grid.axes[..<i].contains(where: { $0.name == a.name }) {
            diags.add(a.location, "axis '\(a.name)' is declared twice")
        }
        grid.parseDiagnostics = diags.sorted
        return grid
    }

    // MARK: - parts

    static let bundleKeys = ["label"]

    private static func parseAxis(name: String, keyNode: Node, valueNode: Node, _ diags: inout Diagnostics) -> Axis? {
        let loc = SourceLocation(keyNode)
        guard case let .sequence(seq) = valueNode, seq.count > 0 else {
            diags.add(SourceLocation(valueNode), "axis '\(name)' must be a non-empty list of values, e.g. \(name): [a, b]")
            return nil
        }
        let isTrainerKey = TrainConfig.keys.contains(name)
        if !isTrainerKey && name != "size" {
            // A bundle axis: every value must be a mapping. A scalar value means a typo'd trainer key, most likely.
            if seq.contains(where: { if case .mapping = $0 { return false } else { return true } }) {
                diags.add(
                    loc,
                    "unknown axis '\(name)'.\(nearestHint(name, in: TrainConfig.keys + ["size"])) An axis is a trainer key (its values are that key's values), 'size', or a named bundle whose values are mappings of trainer keys"
                )
                return nil
            }
        }
        var values: [AxisValue] = []
        for node in seq {
            if let v = parseAxisValue(axis: name, node: node, &diags) { values.append(v) }
        }
        // Labels must tell values apart: fall back to label + compact settings, then to an error.
        var counts: [String: Int] = [:]
        for v in values { counts[v.label, default: 0] += 1 }
        for i in values.indices where counts[values[i].label]! > 1 && !values[i].hasExplicitLabel {
            let extra = compact(values[i].settings.filter { $0.key != name && $0.key != "strategy" && !$0.key.hasPrefix("strategy_options.") })
            values[i].label += extra.isEmpty ? "" : "-" + extra
        }
        var seen: [String: SourceLocation] = [:]
        var distinct = true
        for v in values {
            if let first = seen[v.label] {
                diags.add(
                    v.location, "axis '\(name)' has two values labelled '\(v.label)' (the first at line \(first.line)); give them distinct `label:`s")
                distinct = false
            } else {
                seen[v.label] = v.location
            }
        }
        return distinct ? Axis(name: name, location: loc, values: values) : nil
    }

    private static func parseAxisValue(axis: String, node: Node, _ diags: inout Diagnostics) -> AxisValue? {
        let loc = SourceLocation(node)
        let raw = jsonValue(node)
        switch (axis, node) {
        case ("strategy", .scalar):
            guard let s = scalarString(node) else { diags.add(loc, "a strategy must be a name or a mapping {name, options}"); return nil }
            return AxisValue(
                label: s, hasExplicitLabel: false, settings: ["strategy": .init(value: .string(s), location: loc)], raw: raw, location: loc)
        case ("size", .scalar):
            guard let s = scalarString(node) else {
                diags.add(loc, "a size must be a preset name or a mapping {d_model, n_layer, n_head}"); return nil
            }
            return AxisValue(
                label: s, hasExplicitLabel: false, settings: ["preset": .init(value: .string(s), location: loc)], raw: raw, location: loc)
        case (_, .mapping(let m)) where axis != "strategy_options":
            var settings: [String: Located] = [:]
            var label: String? = nil
            var ok = true
            for (k, v) in m {
                let key = k.string ?? ""
                if key == "label" {
                    if let s = scalarString(v), !s.isEmpty {
                        label = s
                    } else {
                        diags.add(SourceLocation(v), "'label' must be a short name"); ok = false
                    }
                    continue
                }
                if axis == "strategy" && key == "name" {
                    guard let s = scalarString(v) else { diags.add(SourceLocation(v), "a strategy 'name' must be a string"); ok = false; continue }
                    settings["strategy"] = .init(value: .string(s), location: SourceLocation(v))
                    continue
                }
                if axis == "strategy" && key == "options" {
                    guard case let .mapping(opts) = v else {
                        diags.add(SourceLocation(v), "strategy 'options' must be a mapping of option → value (see `ablate strategies`)"); ok = false;
                        continue
                    }
                    guard checkTrainerKey("strategy_options", at: SourceLocation(k), value: v, context: "axis 'strategy'", &diags) else {
                        ok = false; continue
                    }
                    settings["strategy_options"] = .init(value: jsonValue(v), location: SourceLocation(v))
                    for (ok, ov) in opts {
                        settings["strategy_options." + (ok.string ?? "")] = .init(value: jsonValue(ov), location: SourceLocation(ok))
                    }
                    continue
                }
                let extra = axis == "strategy" ? ["name", "options", "label"] : ["label"]
                if checkTrainerKey(key, at: SourceLocation(k), value: v, context: "axis '\(axis)'", extraKeys: extra, &diags) {
                    settings[key] = .init(value: jsonValue(v), location: SourceLocation(v))
                } else {
                    ok = false
                }
            }
            if axis == "strategy" && settings["strategy"] == nil {
                diags.add(loc, "a strategy mapping needs 'name' (e.g. {name: hashed, options: {init_std: 0.02}})"); return nil
            }
            guard ok else { return nil }
            let auto: String
            switch axis {
            case "strategy": auto = settings["strategy"]!.value.description
            case "size":
                if settings.keys.filter({ !["preset"].contains($0) && !$0.hasPrefix("max_") }).isEmpty, let p = settings["preset"] {
                    auto = p.value.description
                } else {
                    let parts = [("preset", ""), ("d_model", "d"), ("n_layer", "L"), ("n_head", "h")].compactMap { k, a in
                        settings[k].map { a + $0.value.description }
                    }
                    auto = parts.joined(separator: "-")
                }
            default:
                if TrainConfig.keys.contains(axis), let own = settings[axis] { auto = own.value.description } else { auto = compact(settings) }
            }
            return AxisValue(label: label ?? auto, hasExplicitLabel: label != nil, settings: settings, raw: raw, location: loc)
        case (_, .sequence) where axis != "strategy_options" && !isListKey(axis):
            diags.add(loc, "axis '\(axis)': a value cannot be a list here (each list element is one value of the axis)")
            return nil
        default:
            var d = Diagnostics(file: diags.file)
            guard checkTrainerKey(axis, at: loc, value: node, context: "axis", &d) else {
                for x in d.items { diags.add(x.location, x.message) }
                return nil
            }
            var settings: [String: Located] = [axis: .init(value: raw, location: loc)]
            if axis == "strategy_options", case let .mapping(opts) = node {
                for (ok, ov) in opts { settings["strategy_options." + (ok.string ?? "")] = .init(value: jsonValue(ov), location: SourceLocation(ok)) }
            }
            return AxisValue(label: raw.description, hasExplicitLabel: false, settings: settings, raw: raw, location: loc)
        }
    }

    private static func isListKey(_ key: String) -> Bool { false }

    private static func parseBudget(_ node: Node, _ diags: inout Diagnostics) -> Budget? {
        guard case let .mapping(m) = node else {
            diags.add(SourceLocation(node), "'budget' must be a mapping {tokens_per_parameter, min_tokens, max_tokens}")
            return nil
        }
        var b = Budget(tokensPerParameter: 0, minTokens: nil, maxTokens: nil, location: SourceLocation(node))
        var ok = true
        for (k, v) in m {
            let key = k.string ?? ""
            switch key {
            case "tokens_per_parameter":
                if let x = number(v), x > 0, x <= 1e6 {
                    b.tokensPerParameter = x
                } else {
                    diags.add(
                        SourceLocation(v),
                        "'tokens_per_parameter' must be a positive number up to 1e6 (tokens per non-embedding parameter; Chinchilla is 20)");
                    ok = false
                }
            case "min_tokens", "max_tokens":
                if let x = integer(v), x > 0 {
                    if key == "min_tokens" { b.minTokens = x } else { b.maxTokens = x }
                } else {
                    diags.add(SourceLocation(v), "'\(key)' must be a positive integer"); ok = false
                }
            default:
                diags.add(
                    SourceLocation(k),
                    "unknown budget key '\(key)'.\(nearestHint(key, in: Budget.keys)) Valid: \(Budget.keys.joined(separator: ", ")).")
                ok = false
            }
        }
        if b.tokensPerParameter == 0 && ok {
            diags.add(SourceLocation(node), "'budget' needs 'tokens_per_parameter' (or drop 'budget' and set max_tokens/max_steps in base)");
            ok = false
        }
        if let lo = b.minTokens, let hi = b.maxTokens, lo > hi {
            diags.add(SourceLocation(node), "budget: min_tokens \(lo) is larger than max_tokens \(hi)"); ok = false
        }
        return ok ? b : nil
    }

    private static func parseFilters(_ node: Node, key: String, _ diags: inout Diagnostics) -> [Filter] {
        guard case let .sequence(seq) = node else {
            diags.add(SourceLocation(node), "'\(key)' must be a list of mappings, e.g. \(key): [{strategy: hashed, size: tiny}]")
            return []
        }
        var out: [Filter] = []
        for entry in seq {
            guard case let .mapping(m) = entry, m.count > 0 else {
                diags.add(
                    SourceLocation(entry),
                    "each '\(key)' entry must be a mapping of axis or trainer key → value(s), e.g. {strategy: hashed, size: tiny}")
                continue
            }
            var f = Filter(conditions: [], location: SourceLocation(entry))
            for (k, v) in m {
                let values: [JSONValue]
                if case let .sequence(s) = v { values = s.map(jsonValue) } else { values = [jsonValue(v)] }
                f.conditions.append((k.string ?? "", values, SourceLocation(k)))
            }
            out.append(f)
        }
        return out
    }

    /// Is `key` a trainer key with a value of the right type? Reports the problem at the key or the value.
    @discardableResult
    static func checkTrainerKey(
        _ key: String, at location: SourceLocation, value: Node, context: String,
        extraKeys: [String] = [], _ diags: inout Diagnostics
    ) -> Bool {
        guard TrainConfig.keys.contains(key) else {
            diags.add(
                location,
                "unknown key '\(key)' in \(context).\(nearestHint(key, in: TrainConfig.keys + extraKeys)) (`ablate train --help` lists the trainer keys)"
            )
            return false
        }
        do { _ = try TrainConfig.from([key: jsonValue(value)]) } catch let e as ConfigError {
            diags.add(SourceLocation(value), e.description)  // the key, what it must be, the value it got, the fix
            return false
        } catch { diags.add(SourceLocation(value), "'\(key)': \(error)"); return false }
        return true
    }

    // MARK: - YAML helpers

    /// A YAML syntax error of `text` (read from `path`) at its place, in words with the fix where the cause is clear:
    /// a duplicated key at its second occurrence, a tab in the indentation.
    public static func yamlDiagnostic(_ e: YamlError, path: String, text: String) -> GridDiagnostic {
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let location = SourceLocation(line: mark.line, column: mark.column)
            if problem.contains("tab") || character(at: location, in: text) == "\t" {
                return GridDiagnostic(
                    file: path, location: location, message: "YAML syntax: a tab character; tabs are not allowed for indentation in YAML: use spaces")
            }
            let ctx = context.map { " (\($0.text))" } ?? ""
            return GridDiagnostic(file: path, location: location, message: "YAML syntax: \(problem)\(ctx)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams names the keys and the first one's place (its context text is the whole document).
            let key = duplicates.first ?? "?"
            let first = SourceLocation(line: context.mark.line, column: context.mark.column)
            let others = duplicates.dropFirst().map { "'\($0)'" }
            let also = others.isEmpty ? "" : " (that mapping also repeats \(others.joined(separator: ", ")))"
            return GridDiagnostic(
                file: path, location: repeatedKey(key, after: first, in: text) ?? first,
                message: "duplicate key '\(key)' (first at line \(first.line)); keep one of them\(also)")
        default:
            return GridDiagnostic(file: path, location: .init(line: 1, column: 1), message: "YAML: \(e)")
        }
    }

    /// The character at a (1-based) line and column of `text`.
    static func character(at location: SourceLocation, in text: String) -> Character? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard location.line >= 1, location.line <= lines.count else { return nil }
        let line = lines[location.line - 1]
        guard location.column >= 1, location.column <= line.count else { return nil }
        return line[line.index(line.startIndex, offsetBy: location.column - 1)]
    }

    /// Where `key`, first written at `first`, is written again in the same mapping: the next line with the key at the
    /// same column (block style), or the next `key:` after it on its own line (flow style, `{a: 1, a: 2}`).
    static func repeatedKey(_ key: String, after first: SourceLocation, in text: String) -> SourceLocation? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        guard first.line >= 1, first.line <= lines.count, first.column >= 1 else { return nil }
        let pattern = Array(key)
        /// Is `key` followed by optional spaces and ':' at (0-based) `column` of `line`?
        func keyAt(_ line: [Character], _ column: Int) -> Bool {
            guard column >= 0, column + pattern.count <= line.count, Array(line[column..<(column + pattern.count)]) == pattern else { return false }
            if column > 0, !" \t{,-?".contains(line[column - 1]) { return false }
            var i = column + pattern.count
            while i < line.count && line[i] == " " { i += 1 }
            return i < line.count && line[i] == ":"
        }
        let firstLine = lines[first.line - 1], column = first.column - 1
        let isBlock = firstLine.prefix(column).allSatisfy { $0 == " " || $0 == "-" }
        if isBlock {
            for n in first.line..<lines.count where keyAt(lines[n], column) && lines[n].prefix(column).allSatisfy({ $0 == " " || $0 == "-" }) {
                return SourceLocation(line: n + 1, column: first.column)
            }
            return nil
        }
        for c in (column + pattern.count)..<max(firstLine.count, column + pattern.count) where keyAt(firstLine, c) {
            return SourceLocation(line: first.line, column: c + 1)
        }
        return nil
    }

    static func scalarString(_ node: Node) -> String? {
        guard case let .scalar(s) = node else { return nil }
        return s.string
    }

    static func number(_ node: Node) -> Double? {
        if case .int = jsonValue(node) { return Double(node.int!) }
        if case let .double(d) = jsonValue(node) { return d }
        return nil
    }

    static func integer(_ node: Node) -> Int? {
        if case let .int(i) = jsonValue(node) { return i }
        if case let .double(d) = jsonValue(node), d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }

    /// A YAML node as a JSON value. Plain scalars that look like numbers (e.g. 3e-3, which YAML 1.1 reads as a
    /// string) become numbers.
    static func jsonValue(_ node: Node) -> JSONValue {
        switch node {
        case let .scalar(s):
            switch Tag.Name(rawValue: node.tag.description) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case .int: return node.int.map(JSONValue.int) ?? .string(s.string)
            case .float: return node.float.map(JSONValue.double) ?? .string(s.string)
            default:
                if s.style == .plain, let d = Double(s.string), s.string.contains(where: { $0.isNumber }) {
                    return .double(d)
                }
                return .string(s.string)
            }
        case let .mapping(m):
            var o: [String: JSONValue] = [:]
            for (k, v) in m { o[k.string ?? ""] = jsonValue(v) }
            return .object(o)
        case let .sequence(seq):
            return .array(seq.map(jsonValue))
        case .alias:
            return .null
        }
    }

    static func nearestHint(_ key: String, in candidates: [String]) -> String {
        StrategyRegistry.nearest(key, in: candidates).map { " Did you mean '\($0)'?" } ?? ""
    }

    /// `k1v1-k2v2` for labels and run-id parts.
    static func compact(_ settings: [String: Located]) -> String {
        settings.keys.filter { !$0.contains(".") }.sorted().map { k in
            let v = settings[k]!.value
            if case let .object(o) = v { return o.keys.sorted().map { "\($0)\(o[$0]!)" }.joined(separator: "-") }
            return "\(RunID.abbreviation(k))\(v)"
        }.joined(separator: "-")
    }
}
