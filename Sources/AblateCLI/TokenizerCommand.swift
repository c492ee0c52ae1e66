import ArgumentParser
import Dataset
import Foundation
import RunFormat
import Trainer

/// `ablate tokenizer`: train (cached), inspect, encode, bench the byte-level BPE tokenizer of a corpus.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Byte-level BPE tokenizer of a prepared corpus: train (cached), inspect, encode, bench.",
        subcommands: [Train.self, Inspect.self, Encode.self, Bench.self])

    struct Options: ParsableArguments {
        @Option(help: "Vocabulary size (256 = bytes only ... 32768); the trainer's default vocab_size unless given.")
        var vocab: Int = TrainConfig().vocabSize

        @Option(help: "Prepared corpus name (see `ablate data inspect`).")
        var name: String = "shakespeare"

        func validate() throws {
            guard (BPETokenizer.minVocabSize...BPETokenizer.maxVocabSize).contains(vocab) else {
                throw ValidationError("--vocab must be in \(BPETokenizer.minVocabSize)...\(BPETokenizer.maxVocabSize), got \(vocab)")
            }
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train the tokenizer on the corpus's train split, or reuse the cached one.")
        @OptionGroup var options: Options

        func run() throws {
            try reportingErrors {
                let home = AblateHome.fromEnvironment()
                let m = try Corpus.manifest(name: options.name, home: home)
                let start = Date()
                let t = try TokenizerCache.loadOrTrain(corpus: options.name, vocabSize: options.vocab, home: home)
                let path = home.tokenizerURL(corpusSHA256: m.corpusSHA256, vocabSize: options.vocab).appendingPathComponent("tokenizer.json").path
                if t.loadedFromCache {
                    print("cached: \(path)")
                } else {
                    print(String(format: "trained in %.2f s: %@", Date().timeIntervalSince(start), path))
                }
                print("vocab size \(t.vocabSize) (requested \(t.requestedVocabSize)), \(t.merges.count) merges, sha256 \(t.sha256)")
                if t.vocabSize < t.requestedVocabSize {
                    print("note: the corpus ran out of pairs to merge before reaching \(t.requestedVocabSize) tokens")
                }
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Size, a sample of merges and tokens, and the compression (bytes/token) on the validation split.")
        @OptionGroup var options: Options

        @Option(help: "How many merges and tokens to show.")
        var sample: Int = 20

        func run() throws {
            try reportingErrors {
                let home = AblateHome.fromEnvironment()
                let t = try TokenizerCache.loadOrTrain(corpus: options.name, vocabSize: options.vocab, home: home)
                let val = try Corpus.splitBytes("val", name: options.name, home: home)
                let ids = t.encode(val)
                print(
                    "tokenizer \(options.name) v\(options.vocab): \(t.vocabSize) tokens, \(t.merges.count) merges, sha256 \(t.sha256)\(t.loadedFromCache ? " (cached)" : " (trained now)")"
                )
                print(
                    String(
                        format: "validation: %d bytes -> %d tokens, %.3f bytes/token", val.count, ids.count,
                        Double(val.count) / Double(max(ids.count, 1))))
                func show(_ id: Int) -> String { "\(id) \"\(t.displayText(of: id).replacingOccurrences(of: "\n", with: "\\n"))\"" }
                print("first merges:")
                for (i, m) in t.merges.prefix(sample).enumerated() {
                    print("  \(256 + i) = \(show(Int(m.left))) + \(show(Int(m.right)))")
                }
                print("last tokens:")
                for id in max(256, t.vocabSize - sample)..<t.vocabSize { print("  \(show(id))") }
                var counts = [Int](repeating: 0, count: t.vocabSize)
                for id in ids { counts[Int(id)] += 1 }
                print("most frequent tokens on validation:")
                for id in counts.indices.sorted(by: { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }).prefix(sample) {
                    print("  \(show(id))  \(counts[id])")
                }
                print("tokens never seen on validation: \(counts.filter { $0 == 0 }.count)")
            }
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the token ids of --text or --file (or write them with --out); without either, write the cached train.bin/val.bin streams.")
        @OptionGroup var options: Options

        @Option(help: "Text to encode.")
        var text: String?

        @Option(help: "File to encode.")
        var file: String?

        @Option(help: "Write the ids of --text or --file here as raw little-endian uint16, the format `ablate eval --tokens` reads.")
        var out: String?

        func validate() throws {
            if text != nil && file != nil { throw ValidationError("give --text or --file, not both") }
            if out != nil && text == nil && file == nil { throw ValidationError("--out needs --text or --file") }
        }

        func run() throws {
            try reportingErrors {
                let home = AblateHome.fromEnvironment()
                if text == nil && file == nil {
                    let d = try PreparedData.load(corpus: options.name, vocabSize: options.vocab, home: home)
                    print("\(d.streamsWereCached ? "cached" : "wrote") \(d.cacheURL!.path)/{train,val}.bin (uint16 little-endian)")
                    print(
                        String(
                            format: "train %d tokens (%.3f bytes/token), val %d tokens (%.3f bytes/token)",
                            d.train.count, Double(d.trainBytes) / Double(max(d.train.count, 1)),
                            d.val.count, Double(d.valBytes) / Double(max(d.val.count, 1))))
                    print("corpus sha256 \(d.corpusSHA256)\ntokenizer sha256 \(d.tokenizerSHA256)")
                    return
                }
                let t = try TokenizerCache.loadOrTrain(corpus: options.name, vocabSize: options.vocab, home: home)
                let bytes: [UInt8]
                if let text {
                    bytes = Array(text.utf8)
                } else {
                    guard FileManager.default.fileExists(atPath: file!) else { throw DatasetError.pathNotFound(file!) }
                    guard let d = FileManager.default.contents(atPath: file!) else {
                        throw DatasetError.io(path: file!, detail: "cannot read the file")
                    }
                    bytes = [UInt8](d)
                }
                let ids = t.encode(bytes)
                guard let out else { print(ids.map(String.init).joined(separator: " ")); return }
                var data = Data(capacity: 2 * ids.count)
                for id in ids { withUnsafeBytes(of: UInt16(id).littleEndian) { data.append(contentsOf: $0) } }
                try AtomicWrite.write(data, to: URL(fileURLWithPath: out))
                print("wrote \(ids.count) token ids to \(out) (uint16 little-endian, vocabulary \(options.vocab))")
            }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time tokenizer training (from scratch, no cache) on the train split and encoding of the whole corpus.")
        @OptionGroup var options: Options

        func run() throws {
            try reportingErrors {
                let home = AblateHome.fromEnvironment()
                let train = try Corpus.splitBytes("train", name: options.name, home: home)
                let val = try Corpus.splitBytes("val", name: options.name, home: home)
                let r = try TokenizerBench.run(train: train, encode: train + val, vocabSize: options.vocab)
                print(r)
            }
        }
    }
}
