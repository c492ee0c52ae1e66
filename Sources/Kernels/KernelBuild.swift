/// The vector instruction set this module was compiled for (Package.swift picks the building CPU's widest, or
/// ABLATE_TARGET_CPU's): named by `ablate doctor` and the bench page, and checked against the running CPU at start-up.
/// It decides the speed of the non-matrix kernels, never their results (the same bits on each: InstructionSetTests).
public enum KernelBuild {
    // The CPU flags each build needs: the lists Package.swift detects them by (a manifest cannot share code);
    // Tests/KernelsTests/check_instruction_sets.sh reads them from here (keep each on one line, AVX-512 first).
    #if ABLATE_AVX512
        public static let instructionSet = "AVX-512"
        static let requiredFlags = ["avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    #elseif ABLATE_AVX2
        public static let instructionSet = "AVX2+FMA"
        static let requiredFlags = ["avx2", "fma"]
    #else
        public static let instructionSet = "baseline x86-64 (SSE2)"
        static let requiredFlags: [String] = []
    #endif

    /// nil when this CPU can run the kernels as built; else why not and what to do. A binary built on one machine and
    /// run on another without those instructions (a cluster's older compute nodes) would otherwise die of an illegal
    /// instruction in its first kernel.
    public static var unsupportedCPU: String? {
        guard CPUInfo.field("flags") != nil else { return nil }  // not Linux on x86: nothing to check against
        return unsupportedCPU(hasFlag: CPUInfo.hasFlag)
    }

    /// `unsupportedCPU` for a CPU described by `hasFlag` (a /proc/cpuinfo flag name → present).
    public static func unsupportedCPU(hasFlag: (String) -> Bool) -> String? {
        let missing = requiredFlags.filter { !hasFlag($0) }
        guard !missing.isEmpty else { return nil }
        return "this binary's kernels were built for \(instructionSet), which this CPU (\(CPUInfo.summary)) lacks (no "
            + missing.joined(separator: ", ") + "). Fix: build on this machine (make build), or build a binary for every node "
            + "with ABLATE_TARGET_CPU=haswell or ABLATE_TARGET_CPU=portable; the results are the same bits either way."
    }
}
