// swift-tools-version:6.0
// `ablate`: how much do trained input embeddings matter, and how does that change with model size?
// One module per concern; dependencies point one way (see README.md, "Layout").
import Foundation
import PackageDescription

// Hot loops live in Kernels: drop bounds/overflow checks there only (inputs are validated upstream), and let the
// compiler use the widest vectors the building CPU has (it is the CPU that trains): AVX2+FMA makes the non-matrix
// kernels (GELU, LayerNorm, softmax) ~1.7x faster than baseline SSE, and AVX-512 (one register per 16-lane `Vec`)
// another 1.2-1.5x. Their results are the same bits on every one of these (KernelsTests/InstructionSetTests). Set
// ABLATE_PORTABLE=1 to build a binary that runs on any x86-64. -fno-math-errno (for the C shims Swift's square root
// goes through) lets loops with a square root vectorise; nothing here reads errno.
// The first processor's flags, as whole words (a substring test would take "fma4" for "fma").
let cpuFlags = Set(
    ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
        .first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
let environment = ProcessInfo.processInfo.environment
// (LLVM's generic x86-64-v4 prefers 256-bit vectors and would split `Vec` in two; skylake-avx512 uses whole registers.)
// The same flag lists are in Kernels/KernelBuild.swift (checked at start-up; Tests/KernelsTests/check_instruction_sets.sh
// reads them from there).
let detectedTarget: String? =
    environment["ABLATE_PORTABLE"] != nil
    ? nil
    : ["avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(cpuFlags.contains)
        ? "skylake-avx512"
        : ["avx2", "fma"].allSatisfy(cpuFlags.contains) ? "haswell" : nil
// ABLATE_TARGET_CPU=haswell (or skylake-avx512, or portable) overrides the detection: to build on one machine for
// another (a cluster's compute nodes), or to check the kernels' fingerprints on each instruction set (make test-isa).
let targetCPU: String? =
    environment["ABLATE_TARGET_CPU"].map { requested in
        guard ["portable", "haswell", "skylake-avx512"].contains(requested) else {
            fatalError("ABLATE_TARGET_CPU=\(requested): use portable, haswell or skylake-avx512 (or unset it to detect this CPU's)")
        }
        return requested == "portable" ? nil : requested
    } ?? detectedTarget
let kernelDefine: [SwiftSetting] =
    targetCPU == "skylake-avx512" ? [.define("ABLATE_AVX512")] : targetCPU == "haswell" ? [.define("ABLATE_AVX2")] : []
let fastMath: [SwiftSetting] =
    [.unsafeFlags(["-Ounchecked", "-Xcc", "-fno-math-errno"] + (targetCPU.map { ["-target-cpu", $0] } ?? []))] + kernelDefine

let package = Package(
    name: "ablate",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ablate", targets: ["AblateCLI"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries. OpenBLAS is linked directly; GSL without `pkg-config gsl`, which would add -lgslcblas, GSL's
        // slow reference CBLAS, able to take over the cblas_* symbols from OpenBLAS.
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CGSL", providers: [.apt(["libgsl-dev"])]),

        // Tensor kernels: forward/backward pairs over flat Float buffers, sgemm, RNG.
        .target(name: "Kernels", dependencies: ["COpenBLAS"], swiftSettings: fastMath),
        // Every file of a run folder and a grid folder, declared once (types, names, versions, the atomic write).
        // A leaf: Foundation only, so the report can read runs without importing the trainer.
        .target(name: "RunFormat"),
        // Corpus preparation, byte-level BPE tokenizer, batches.
        .target(name: "Dataset", dependencies: ["Kernels", "RunFormat"]),
        // The safetensors file format (checkpoints, transplanted tables, snapshots).
        .target(name: "TensorFile"),
        // Embedding strategies (plugins) behind one protocol.
        .target(name: "Embeddings", dependencies: ["Kernels", "TensorFile", "RunFormat"], exclude: ["ADDING_A_STRATEGY.md"]),
        // The GPT-style transformer: parameters, activations, forward/backward.
        .target(name: "Model", dependencies: ["Embeddings", "Kernels"]),
        // AdamW, schedule, evaluation, checkpoints, run folders.
        .target(name: "Trainer", dependencies: ["Model", "Dataset", "Embeddings", "Kernels", "TensorFile", "RunFormat"]),
        // Ablation grids described by YAML files.
        .target(name: "Grid", dependencies: ["Trainer", "RunFormat", .product(name: "Yams", package: "Yams")]),
        // Statistics over GSL.
        .target(name: "Stats", dependencies: ["CGSL"]),
        // Embedding probes: geometry, word similarity, drift over snapshots; reads run folders from disk.
        .target(
            name: "Probes", dependencies: ["Kernels", "Stats", "CGSL", "Dataset", "Embeddings", "TensorFile", "RunFormat"],
            exclude: ["README.md", "fetch_wordsim.py"]),
        // Markdown + SVG report; reads run folders from disk.
        .target(name: "Report", dependencies: ["Stats", "RunFormat"]),
        // Benchmarks behind `ablate bench`, `ablate probe --bench`, `ablate report --bench`, and the bench page: kept out
        // of the modules they time, so no production module carries bench-only code or synthetic fixtures.
        .target(name: "Benchmarks", dependencies: ["Kernels", "Trainer", "Probes", "Report", "TestSupport"]),
        .executableTarget(
            name: "AblateCLI",
            dependencies: [
                "Grid", "Trainer", "Dataset", "Report", "Stats", "Kernels", "Embeddings", "Model", "TensorFile", "Probes", "RunFormat", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ], exclude: ["Python"]),

        // Tests mirror the modules. TestSupport: fixtures shared by test targets (the built binary, a tiny corpus,
        // synthetic run folders written with the real RunFormat types); never linked into the product.
        .target(name: "TestSupport", dependencies: ["RunFormat", "Embeddings"], path: "Tests/TestSupport"),
        // The whole pipeline through the built binary: grid run → probe → report, numbers checked against the runs.
        // `swift run report-fixtures`: rewrites the report's golden file (and, with --runs, its fixture grid).
        .executableTarget(name: "report-fixtures", dependencies: ["TestSupport", "Report"], path: "Tests/ReportFixtures"),
        // The bench page's verdicts (BenchReport).
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Trainer", "Kernels"]),
        .testTarget(name: "EndToEndTests", dependencies: ["RunFormat", "TestSupport", "Embeddings", "TensorFile"]),
        .testTarget(name: "RunFormatTests", dependencies: ["RunFormat"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], exclude: ["rng_reference.py", "check_instruction_sets.sh"]),
        .testTarget(name: "DatasetTests", dependencies: ["Dataset", "Kernels", "RunFormat", "TestSupport"]),
        .testTarget(name: "TensorFileTests", dependencies: ["TensorFile", "TestSupport"]),
        .testTarget(name: "EmbeddingsTests", dependencies: ["Embeddings", "Kernels", "TensorFile"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Embeddings", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TrainerTests", dependencies: ["Trainer", "Model", "Dataset", "Embeddings", "Kernels", "TensorFile", "RunFormat"],
            exclude: ["Reference"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GridTests", dependencies: ["Grid", "Trainer", "RunFormat", "TestSupport"], exclude: ["slurm"]),
        .testTarget(name: "StatsTests", dependencies: ["Stats"], exclude: ["scipy_reference.py"]),
        .testTarget(
            name: "ProbesTests",
            dependencies: ["Probes", "Trainer", "Model", "Embeddings", "Dataset", "Kernels", "Stats", "TensorFile", "RunFormat", "Benchmarks"],
            exclude: ["scipy_reference.py", "retrieval_reference.py"]),
        .testTarget(
            name: "ReportTests", dependencies: ["Report", "Stats", "RunFormat", "TestSupport"],
            exclude: ["vocab_reference.py", "setting_effects_reference.py"],
            resources: [.copy("Fixtures")]),
    ],
    // Swift 5 language mode: the trainer shares raw buffers between a model and its optimizer by design;
    // strict concurrency checking would only add annotations here, not safety.
    swiftLanguageModes: [.v5]
)
