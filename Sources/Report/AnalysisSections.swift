import Foundation
import Stats

/// The figures and per-analysis sections of one `GridAnalysis` — a whole unsliced grid, or one slice of a sliced grid
/// (`GridSlices`) — built in one place for both report paths, so a slice carries every section and figure the
/// ordinary report has (vocabulary, figures, tables, embedding probes with their figures, samples).
struct AnalysisSections {
    let analysis: GridAnalysis
    let probes: ProbeAnalysis
    /// The vocabulary axis (nil unless the runs span several vocabularies).
    let vocabulary: VocabularyAnalysis?
    /// File-name prefix of this analysis' figures: "" for an unsliced grid, e.g. "mup-" for a slice.
    let prefix: String
    /// The figures, named with `prefix`, in figure order.
    let figures: [Figures.Output]

    init(_ a: GridAnalysis, prefix: String = "") {
        analysis = a
        self.prefix = prefix
        let vocabulary = VocabularyAnalysis(a)
        self.vocabulary = vocabulary
        let probes = ProbeAnalysis(a)
        self.probes = probes
        var figures = [Figures.lossCurves(a)]
        // Across vocabularies the figures over N would treat vocabularies as sizes; the vocabulary figures replace them.
        if let vocabulary {
            figures += [VocabularyFigures.bitsPerByte(a, vocabulary)]
            if a.hasBaseline { figures += [VocabularyFigures.gap(a, vocabulary)] }
        } else {
            figures += [Figures.scaling(a)]
            if a.hasBaseline { figures += [Figures.gap(a), Figures.tokensToTarget(a)] }
        }
        if probes.hasProbes {
            // Probes over N likewise: every vocabulary has the same N there (the probe tables list each one).
            if vocabulary == nil { figures.append(Figures.probesVsSize(a, probes)) }
            figures.append(Figures.probeDrift(a, probes))
        }
        if probes.retrieval.hasRetrieval { figures.append(Figures.retrieval(a, probes.retrieval)) }
        self.figures = figures.map { Figures.Output(fileName: prefix + $0.fileName, svg: $0.svg) }
    }

    /// The sections between the findings and the runs not analysed, in report order: (heading, body). Each body
    /// ends as the top-level report lays it out; a slice demotes its headings.
    var sections: [(title: String, body: String)] {
        let a = analysis
        let unprefixed = figures.map { String($0.fileName.dropFirst(prefix.count)) }
        var out = [(title: String, body: String)]()
        if let vocabulary { out.append(("Vocabulary", linked(VocabularyMarkdown.section(a, vocabulary, figures: unprefixed)))) }
        out.append(("Figures", Markdown.figureSection(a, figures.map(\.fileName), prefix: prefix) + "\n"))
        out.append(("Tables", Markdown.tables(a) + "\n"))
        out.append(("Embedding probes", linked(Markdown.probeSection(a, probes, figures: unprefixed)) + "\n"))
        if let samples = Markdown.samplesSection(a) { out.append(("Samples", samples)) }
        return out
    }

    /// Points the sections' image links at this analysis' prefixed figure files (the section builders name the
    /// unprefixed files).
    func linked(_ markdown: String) -> String {
        guard !prefix.isEmpty else { return markdown }
        return figures.reduce(markdown) { text, figure in
            let name = String(figure.fileName.dropFirst(prefix.count))
            return text.replacingOccurrences(of: "](\(name))", with: "](\(figure.fileName))")
        }
    }
}
