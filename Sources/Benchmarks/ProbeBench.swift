import Foundation
import Kernels
import Probes

/// Times the probes on a random V×D table (`ablate probe --bench`): is probing a large table seconds, not minutes?
public enum ProbeBench {
    public struct Result: Sendable {
        public var rows: Int, cols: Int
        public var singularValues: Double, isotropy: Double, normFrequency: Double, wordSimilarity: Double, all: Double
        /// Passages of the retrieval probe; the time to build them with the TF-IDF baseline (once per tokenizer), of one MAP and of all variants of one run (trained, init,
        /// random, cropped, padded).
        public var passages: Int, retrievalSetup: Double, retrievalOne: Double, retrievalRun: Double
    }

    public static func run(rows: Int = 8192, cols: Int = 512, pairsPerSet: Int = 1000) throws -> Result {
        var rng = Xoshiro256(seed: 7)
        let table = ProbeMatrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float(rng.nextNormal()) * 0.02 })
        let counts = (0..<rows).map { i in i % 7 == 0 ? 0 : 1 + (i * 7919) % 1000 }
        // A synthetic word set: random 1–3 token "words".
        let pairs = (0..<pairsPerSet).map { _ in
            EncodedWordPairSet.Pair(
                first: (0..<(1 + rng.nextInt(below: 3))).map { _ in Int32(rng.nextInt(below: rows)) },
                second: (0..<(1 + rng.nextInt(below: 3))).map { _ in Int32(rng.nextInt(below: rows)) },
                score: rng.nextDouble(), inCorpus: rng.nextUniform() < 0.5)
        }
        let corpus = ProbeCorpus(tokenCounts: counts, wordSets: ["a", "b", "c"].map { EncodedWordPairSet(name: $0, pairs: pairs) })
        func time(_ f: () throws -> Void) rethrows -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try f()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        let sv = try time { _ = try Geometry.singularValues(table) }
        let iso = time { _ = Geometry.isotropy(table) }
        let nf = try time { _ = try Geometry.normFrequencySpearman(table, counts: counts) }
        let ws = try time { for s in corpus.wordSets { _ = try WordSimilarity.evaluate(s, table: table) } }
        let all = try time { _ = try TableProbe.measure(table, corpus: corpus) }
        // Retrieval at the real probe's size: 42 works (the Shakespeare corpus) of 3,500 validation tokens each,
        // with word-like repetition (a Zipf-ish draw) so TF-IDF and pooling see realistic overlap.
        let works = (0..<42).map { _ in (0..<3500).map { _ in Int32(min(rows - 1, Int(exp(rng.nextUniform() * log(Float(rows)))))) } }
        var retrieval: RetrievalCorpus?
        let setup = time { retrieval = RetrievalCorpus(works: works) }
        let one = time { _ = retrieval!.meanAveragePrecision(table) }
        let run = time { _ = retrieval!.scores(trained: table, initial: table, cropWidth: cols / 2, padWidth: cols * 2) }
        return Result(
            rows: rows, cols: cols, singularValues: sv, isotropy: iso, normFrequency: nf, wordSimilarity: ws, all: all,
            passages: retrieval!.passages.count, retrievalSetup: setup, retrievalOne: one, retrievalRun: run)
    }
}
