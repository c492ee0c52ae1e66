import COpenBLAS

/// Subnormal floats (|x| < 1.18e-38) are flushed to zero on every thread that runs a kernel.
///
/// Why: late in long runs some values fall into the subnormal range (softmax probabilities of very unlikely tokens,
/// exponential tails, Adam moments of rarely seen rows), and x86 cores handle subnormal operands and results in
/// microcode, up to ~100× slower per instruction. Measured on a Sapphire Rapids VM: a μP d48 run slowed from 42k to
/// 10k tokens/s after ~4,000 steps, almost all of it in sgemm on subnormal gradients; with flushing, the same run
/// resumed from its checkpoint ran at full speed. The flushed values are far below the rounding unit of the sums they
/// enter, so a run's losses agree with those of an unflushed run to about 1e-8 relative, like another OpenBLAS
/// kernel; runs that never produce a subnormal are unchanged to the bit. (TensorFlow and oneDNN set the same flags.)
public enum FloatEnvironment {
    /// Sets flush-to-zero and denormals-are-zero for the calling thread (idempotent; a few cycles).
    @inline(__always)
    public static func flushSubnormalsToZero() { ablate_flush_subnormals_to_zero() }
}
