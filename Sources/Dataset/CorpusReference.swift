import Foundation

/// What a config's `corpus` names: a path to text (a `.txt` file or a folder, prepared under its file name on first
/// use) or the name of a corpus prepared under `$ABLATE_HOME/corpus/`. One rule for training, `grid plan` and the
/// tools that find a run's corpus again.
public enum CorpusReference {
    public static func isPath(_ corpus: String) -> Bool {
        corpus.contains("/") || corpus.hasSuffix(".txt") || FileManager.default.fileExists(atPath: corpus)
    }

    /// The prepared corpus name `corpus` refers to.
    public static func preparedName(_ corpus: String) -> String {
        isPath(corpus) ? URL(fileURLWithPath: corpus).deletingPathExtension().lastPathComponent : corpus
    }

    /// Throws the error loading `corpus` would stop with when it is not there (no such file or folder; a name that is
    /// not prepared, saying how to prepare it), without reading or preparing anything.
    public static func checkAvailable(_ corpus: String, home: AblateHome) throws {
        if isPath(corpus) {
            let path = URL(fileURLWithPath: corpus).path
            guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.pathNotFound(path) }
        } else {
            _ = try Corpus.manifest(name: corpus, home: home)
        }
    }
}
