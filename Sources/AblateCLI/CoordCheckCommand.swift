import ArgumentParser
import Dataset
import Foundation
import Report
import RunFormat
import Trainer

/// `ablate coord-check`: the μP coordinate check, as a Markdown page with SVG plots.
struct CoordCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coord-check",
        abstract: "μP coordinate check: mean |activation| per module vs width, under SP and μP.",
        discussion: """
            Trains each width for a few Adam steps on one fixed batch with a large learning rate (Yang et al., Tensor \
            Programs V, §D). Under μP the curves are flat in width; under SP they grow. Writes README.md + SVGs.
            """)

    @Option(help: "Widths to train.") var widths: String = "64,128,256,512"
    @Option(help: "Adam steps per width.") var steps: Int = 8
    @Option(help: "Learning rate (large on purpose).") var lr: Double = 1e-2
    @Option(help: "μP base width.") var baseWidth: Int = 64
    @Option(help: "Output folder.") var out: String = "reports/coord-check"

    func validate() throws {
        guard widths.split(separator: ",").allSatisfy({ Int($0).map { $0 > 0 && $0 % 16 == 0 } ?? false }) else {
            throw ValidationError("--widths must be positive multiples of 16 (the head size), e.g. 64,128,256,512")
        }
        guard steps > 0 else { throw ValidationError("--steps must be ≥ 1") }
    }

    func run() throws {
        // Before minutes of training: a path that cannot be a folder fails now.
        let folder = URL(fileURLWithPath: out)
        try FolderCreation.create(folder, option: "--out")
        var s = CoordinateCheck.Settings()
        s.widths = widths.split(separator: ",").compactMap { Int($0) }
        s.steps = steps; s.learningRate = lr; s.baseWidth = baseWidth
        var records = try CoordinateCheck.run(s) {
            print("coord-check: \($0)"); fflush(stdout)
        }
        // Frozen tables follow μP's table scale too: check that they are width-stable like the trained one.
        for strategy in Self.frozenUnderMuP {
            records += try CoordinateCheck.run(s, parametrizations: ["mup"], strategy: strategy) {
                print("coord-check: \($0)"); fflush(stdout)
            }
        }
        let modules = ["embedding", "h.0.attn", "h.0.mlp", "h.\(s.layers - 1).attn", "h.\(s.layers - 1).mlp", "logits"]
        for p in ["sp", "mup"] {
            try AtomicWrite.write(
                Self.figure(records, parametrization: p, modules: modules, settings: s).render(),
                to: folder.appendingPathComponent("coord-check-\(p).svg"))
        }
        try AtomicWrite.write(Self.page(records, modules: modules, settings: s), to: folder.appendingPathComponent("README.md"))
        print("wrote \(out)/README.md")
    }

    static let frozenUnderMuP = ["frozen-random", "hashed"]

    static func figure(
        _ records: [CoordinateCheck.Record], parametrization p: String, modules: [String],
        settings s: CoordinateCheck.Settings
    ) -> SVGPlot.Figure {
        let stepsShown = Array(Set([1, max(1, s.steps / 2), s.steps])).sorted()
        let panels = modules.map { module in
            SVGPlot.Panel(
                title: module, x: SVGPlot.Axis("width (d_model)", scale: .log10),
                y: SVGPlot.Axis("mean |activation|", scale: .log10),
                series: stepsShown.enumerated().map { i, step in
                    let pts = s.widths.compactMap { w in
                        records.first { $0.parametrization == p && $0.module == module && $0.step == step && $0.width == w }
                            .map { SVGPlot.Point(Double(w), $0.meanAbs) }
                    }
                    return .line(
                        pts,
                        SVGPlot.Style(
                            color: SVGPlot.palette[i % SVGPlot.palette.count],
                            marker: SVGPlot.markers[i % SVGPlot.markers.count]))
                })
        }
        let legend = stepsShown.enumerated().map { i, step in
            SVGPlot.LegendEntry(
                "step \(step)",
                SVGPlot.Style(
                    color: SVGPlot.palette[i % SVGPlot.palette.count],
                    marker: SVGPlot.markers[i % SVGPlot.markers.count]))
        }
        let name = p == "mup" ? "μP (base width \(s.baseWidth))" : "standard parametrization"
        return SVGPlot.Figure(
            title: "Coordinate check, \(name): flat in width = width-stable", panels: panels,
            columns: 3, panelWidth: 300, panelHeight: 230, legend: legend)
    }

    static func page(_ records: [CoordinateCheck.Record], modules: [String], settings s: CoordinateCheck.Settings) -> String {
        var md = "# μP coordinate check\n\n"
        md += "Written by `ablate coord-check`. Widths \(s.widths.map(String.init).joined(separator: ", ")); \(s.layers) layers, head size "
        md += "\(s.headSize), context \(s.context), batch \(s.batch), vocab \(s.vocab); \(s.steps) Adam steps at lr \(s.learningRate) "
        md += "(no warm-up, no clipping, no weight decay) on one fixed batch; seed \(s.seed). SP uses the `learned` strategy, "
        md += "μP the `mup` strategy with `parametrization: mup`, base width \(s.baseWidth). Each point is the mean |x| of a "
        md += "module's output before that step's update (Yang et al. 2022, Tensor Programs V, §D).\n\n"
        md += "![SP](coord-check-sp.svg)\n\n![μP](coord-check-mup.svg)\n\n"
        md += "## Spread across widths at the last step (max / min of mean |activation|)\n\n"
        md += "| module | SP | μP | μP, " + frozenUnderMuP.joined(separator: " | μP, ") + " |\n"
        md += "|---|---|---|" + String(repeating: "---|", count: frozenUnderMuP.count) + "\n"
        for m in modules {
            let frozen = frozenUnderMuP.map {
                String(format: "%.2f×", CoordinateCheck.spread(records, parametrization: "mup", strategy: $0, module: m, step: s.steps))
            }
            md += String(
                format: "| %@ | %.2f× | %.2f× | ", m,
                CoordinateCheck.spread(records, parametrization: "sp", module: m, step: s.steps),
                CoordinateCheck.spread(records, parametrization: "mup", module: m, step: s.steps))
            md += frozen.joined(separator: " | ") + " |\n"
        }
        md += "\nUnder μP every module stays within a small factor across an \(s.widths.last! / s.widths.first!)× range of widths; "
        md += "under SP the hidden activations grow with width (each Adam step moves every weight by ~lr and a fan-in of d sums d "
        md += "such moves). The test `CoordinateCheckTests` asserts μP < 1.5× and SP > 3× at the last step.\n\n"
        md += "The last columns train μP networks whose input table is frozen (`frozen-random`, `hashed`): under μP they "
        md += "get the same σ_base and α_in as the trained table (`TableScale`), and `CoordinateCheckTests` asserts their "
        md += "embedding and first-block outputs stay within 1.5× across widths. They are less flat than the trained table, "
        md += "and their logits least (not asserted).\n\n"
        md += "One expected non-flat curve: μP logits at step 1 shrink like 1/√width, because the readout is initialised "
        md += "with a width-independent σ and multiplied by α_out/m (microsoft/mup's `MuReadout`); what μP keeps width-stable "
        md += "is the change made by training, which the later steps show.\n"
        return md
    }
}
