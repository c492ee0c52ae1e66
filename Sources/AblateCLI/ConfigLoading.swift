import Foundation
import Grid
import RunFormat
import Trainer
import Yams

/// Reads a YAML or JSON config file into a flat key → value object (YAML is a superset of JSON).
enum ConfigLoading {
    static func load(path: String) throws -> [String: JSONValue] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("\(path): no such config file. Fix: check the path (configs are YAML or JSON).")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CLIError("\(path): cannot be read as UTF-8 text (\(error.localizedDescription)).")
        }
        let parsed: Any?
        do { parsed = try YAMLLimit.compose(text, path: path).map(\.any) } catch let e as YAMLTooLarge {
            throw CLIError(e.description)
        } catch let e as YamlError {
            throw CLIError(GridFile.yamlDiagnostic(e, path: path, text: text).description)
        } catch {
            throw CLIError("\(path): not valid YAML/JSON: \(error)")
        }
        guard var dict = parsed as? [String: Any] else {
            throw CLIError("\(path): the top level must be a mapping of keys to values.")
        }
        // A run folder's config.json (RunConfigFile: format, config, model, …, provenance) is read through its resolved
        // `config` section, so `--config runs/<grid>/<run>/config.json` repeats that run.
        if let section = dict["config"] as? [String: Any], dict["provenance"] != nil || dict["format"] != nil {
            dict = section
        }
        return try dict.mapValues { try JSONValue(any: $0) }
    }

    /// `key=value` overrides; the value is parsed as a YAML scalar (so 3e-4, true, [1,2] and {a: 1} work).
    static func parseOverrides(_ items: [String]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "=") else {
                throw CLIError("--set \(item): expected key=value, e.g. --set learning_rate=3e-4")
            }
            let key = String(item[..<eq]), raw = String(item[item.index(after: eq)...])
            let node: Node?
            do { node = try YAMLLimit.compose(raw, path: "--set \(key)") } catch let e as YAMLTooLarge {
                throw CLIError(e.description)
            } catch { node = nil }
            out[key] = try JSONValue(any: node.map(\.any) ?? raw)
        }
        return out
    }
}

/// A user-facing error: one clear message, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
