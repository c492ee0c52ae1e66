import ArgumentParser
import Foundation
import Kernels
import Trainer

/// `ablate doctor`: is this machine set up right, and how fast is its BLAS?
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Print the BLAS/GSL set-up, measured sgemm speed, and corpus/cache status.")

    func run() throws {
        print("ablate \(AblateVersion.string)")
        print("OpenBLAS config : \(BLAS.config)")
        print("OpenBLAS core   : \(BLAS.coreName)")
        let lib = BLAS.sgemmLibraryPath
        let ok = lib.contains("openblas")
        print("cblas_sgemm from: \(lib) \(ok ? "(OpenBLAS: good)" : "(NOT OpenBLAS: matrix products will be ~30x slower)")")
        for t in [1, 2] {
            BLAS.setThreads(t)
            let g = BLAS.measureGFLOPS(m: 1024, n: 1024, k: 1024)
            print(String(format: "sgemm 1024^3, %d thread%@: %.0f GFLOP/s", t, t == 1 ? "" : "s", g))
        }
    }
}
