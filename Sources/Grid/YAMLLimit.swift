import Yams

/// A bound on the work a YAML document may ask for. Aliases (`*a`) share their anchor's node, so a few hundred
/// bytes of nested aliases ("billion laughs") expand to billions of nodes once converted to values; configs and
/// grids are small, so a document that expands to more than `maxNodes` nodes is rejected before any conversion.
public enum YAMLLimit {
    public static let maxNodes = 100_000

    /// Composes `text` and checks its expanded size; the message names `path`.
    public static func compose(_ text: String, path: String) throws -> Node? {
        guard let node = try Yams.compose(yaml: text) else { return nil }
        try check(node, path: path)
        return node
    }

    /// Throws when `node`, with every alias expanded, has more than `maxNodes` nodes (stops counting there).
    public static func check(_ node: Node, path: String) throws {
        var budget = maxNodes
        func visit(_ n: Node) -> Bool {
            budget -= 1
            if budget < 0 { return false }
            switch n {
            case let .mapping(m): return m.allSatisfy { visit($0.key) && visit($0.value) }
            case let .sequence(s): return s.allSatisfy(visit)
            case .scalar, .alias: return true
            }
        }
        if !visit(node) { throw YAMLTooLarge(path: path) }
    }
}

public struct YAMLTooLarge: Error, CustomStringConvertible {
    public let path: String
    public var message: String {
        "the YAML expands to more than \(YAMLLimit.maxNodes) values (nested aliases `*name`?). Fix: write the values out instead of repeating aliases."
    }
    public var description: String { "\(path): \(message)" }
}
