/// Every bad input a strategy or the registry can reject: unknown names and keys, invalid values, and
/// combinations a strategy cannot serve (e.g. `mup` without the μP parametrization). Messages say what to do.
public enum StrategyError: Error, CustomStringConvertible, Equatable {
    case unknownStrategy(name: String, suggestion: String?, known: [String])
    case unknownOption(strategy: String, key: String, valid: [String])
    case invalidOption(strategy: String, key: String, message: String)
    case incompatible(strategy: String, message: String)

    public var description: String {
        switch self {
        case let .unknownStrategy(name, suggestion, known):
            let hint = suggestion.map { " Did you mean '\($0)'?" } ?? ""
            return "unknown embedding strategy '\(name)'.\(hint) Known strategies: \(known.joined(separator: ", ")) (see `ablate strategies`)."
        case let .unknownOption(strategy, key, valid):
            let hint = StrategyRegistry.nearest(key, in: valid).map { " Did you mean '\($0)'?" } ?? ""
            let list = valid.isEmpty ? "none (this strategy takes no options)" : valid.sorted().joined(separator: ", ")
            return "strategy '\(strategy)' has no option '\(key)'.\(hint) Valid options: \(list)."
        case let .invalidOption(strategy, key, message):
            return "strategy '\(strategy)', option '\(key)': \(message)."
        case let .incompatible(strategy, message):
            return "strategy '\(strategy)': \(message)."
        }
    }
}
