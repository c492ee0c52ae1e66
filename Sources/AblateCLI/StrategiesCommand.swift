import ArgumentParser
import Embeddings
import Foundation

/// `ablate strategies`: every registered embedding strategy with its options (defaults, types, valid values), its
/// tensors and parameter counts at an example size, and what freezing saves in gradient + AdamW memory.
struct StrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategies",
        abstract: "List the embedding strategies: options with defaults, tensors, parameter counts, memory.",
        discussion:
            "Options are set per strategy in a grid, under the strategy axis, e.g. axes: {strategy: [learned, {name: lowrank, options: {rank: 16}}]}; with ablate train, --strategy lowrank --set 'strategy_options={rank: 16}'."
    )

    @Option(name: .customLong("vocab"), help: "Vocabulary size V for the example counts.")
    var vocabSize = 4096

    @Option(name: .customLong("d-model"), help: "Model width D for the example counts.")
    var dModel = 256

    func validate() throws {
        guard vocabSize >= 1 else { throw ValidationError("--vocab must be ≥ 1") }
        guard dModel >= 1 else { throw ValidationError("--d-model must be ≥ 1") }
    }

    func run() throws {
        let vocabulary = Vocabulary.standIn(size: vocabSize)
        print("Embedding strategies (\(StrategyRegistry.all.count)); example sizes V = \(vocabSize), D = \(dModel).")
        print("AdamW keeps, per trainable parameter, a gradient and two moments: 3 × 4 B; frozen tensors have none.")
        for type in StrategyRegistry.all {
            print("")
            print("\(type.name) — \(type.summary)")
            printOptions(of: type, vocabulary: vocabulary)
            printTensors(of: type, vocabulary: vocabulary)
        }
        print("")
        print("Adding a strategy: Sources/Embeddings/ADDING_A_STRATEGY.md")
    }

    /// The defaults in the parametrization the strategy is shown in (μP only for one that refuses SP), and a
    /// default that μP changes (a table's scale, `TableScale`) with its μP value beside it.
    private func printOptions(of type: any EmbeddingStrategy.Type, vocabulary: Vocabulary) {
        let sp = EmbeddingContext(vocabulary: vocabulary, dModel: dModel, seed: 0)
        var mup = sp
        mup.parametrization = .mup(baseWidth: dModel)
        var refusesSP = false
        do { _ = try StrategyRegistry.make(name: type.name, context: sp) } catch StrategyError.incompatible { refusesSP = true } catch {}
        let defaults = StrategyRegistry.defaultOptions(of: type, in: refusesSP ? mup : sp)
        let mupDefaults = StrategyRegistry.defaultOptions(of: type, in: mup)
        guard !defaults.isEmpty else { print("  options:    none"); return }
        let types = StrategyRegistry.optionTypes(of: type)
        let choices = StrategyRegistry.optionChoices(of: type)
        print("  options:")
        let width = defaults.keys.map(\.count).max()!
        for key in defaults.keys.sorted() {
            let value = Self.render(defaults[key]!)
            let kind = choices[key].map { "one of: " + $0.joined(separator: ", ") } ?? types[key] ?? "?"
            let underMuP = mupDefaults[key].map(Self.render).flatMap { $0 == value ? nil : ", under μP: \($0)" } ?? ""
            print(
                "    \(key.padding(toLength: width, withPad: " ", startingAt: 0))  = \(value.padding(toLength: 12, withPad: " ", startingAt: 0)) (\(kind)\(underMuP))"
            )
        }
    }

    private func printTensors(of type: any EmbeddingStrategy.Type, vocabulary: Vocabulary) {
        var context = EmbeddingContext(vocabulary: vocabulary, dModel: dModel, seed: 0)
        let strategy: any EmbeddingStrategy
        do {
            do {
                strategy = try StrategyRegistry.make(name: type.name, context: context)
            } catch StrategyError.incompatible {
                context.parametrization = .mup(baseWidth: dModel)
                strategy = try StrategyRegistry.make(name: type.name, context: context)
                print("  requires:   parametrization: mup (shown with base_width = \(dModel))")
            }
        } catch {
            print("  (cannot be built at V = \(vocabSize), D = \(dModel): \(error))")
            return
        }
        if strategy.outputMultiplier != 1 { print("  output ×:   \(strategy.outputMultiplier)") }
        if !strategy.dependsOnRunSeed { print("  seed:       tensors do not vary with the run seed") }
        let tensors = strategy.tensors.map { "\($0.name) \($0.shape) \($0.trainable ? "trainable" : "frozen")" }
        print("  tensors:    \(tensors.isEmpty ? "none" : tensors.joined(separator: ", "))")
        let trainable = strategy.tensors.filter(\.trainable).reduce(0) { $0 + $1.count }
        let frozen = strategy.tensors.filter { !$0.trainable }.reduce(0) { $0 + $1.count }
        print("  parameters: \(Self.grouped(trainable)) trainable, \(Self.grouped(frozen)) frozen")
        var memory = "gradient + AdamW state \(Self.mebibytes(12 * trainable))"
        if frozen > 0 { memory += "; frozen tensors save \(Self.mebibytes(12 * frozen)) (3 × 4 B × \(Self.grouped(frozen)))" }
        print("  memory:     \(memory)")
    }

    static func render(_ value: Any) -> String {
        if let s = value as? String { return s }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]),
            let text = String(data: data, encoding: .utf8)
        {
            return text
        }
        return "\(value)"
    }

    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
