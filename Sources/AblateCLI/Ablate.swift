import ArgumentParser
import Foundation
import Kernels
import Trainer

@main
struct Ablate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "How much do trained input embeddings matter, and how does that change with model size?",
        version: AblateVersion.string,
        subcommands: [
            TrainCommand.self,
            EvalCommand.self,
            SampleCommand.self,
            ExportCommand.self,
            GridCommand.self,
            ReportCommand.self,
            ProbeCommand.self,
            StrategiesCommand.self,
            CoordCheckCommand.self,
            BenchCommand.self,
            DataCommand.self,
            TokenizerCommand.self,
            DoctorCommand.self,
        ]
    )

    static func main() {
        BLASThreadTimeout.apply()
        if let problem = KernelBuild.unsupportedCPU {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(1)
        }
        Ablate.main(nil)
    }
}

/// OpenBLAS's idle worker threads spin for ~2²⁸ cycles after each threaded call (OPENBLAS_THREAD_TIMEOUT, read
/// once when the library loads). Our own parallel kernels (attention heads, AdamW, GELU, …) run between BLAS calls
/// on the same cores, so a spinning worker steals a core from them: measured 2-thread training MFU rises by
/// 5–15 points when the workers sleep at once. The variable must be set before OpenBLAS loads, so the process
/// re-executes itself once with it set (a user's own value is always kept). It changes timing, never results.
enum BLASThreadTimeout {
    static func apply() {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed: carry on with OpenBLAS's default (slower at 2 threads, same numbers).
    }
}
