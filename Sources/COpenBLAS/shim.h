// OpenBLAS's CBLAS interface plus its own extensions (openblas_set_num_threads, openblas_get_corename, ...).
#include <cblas.h>
#include <stdint.h>

// Sets the calling thread's floating-point unit to flush subnormal results to zero and to read subnormal inputs as
// zero (x86: MXCSR FTZ bit 15 and DAZ bit 6; AArch64: FPCR.FZ bit 24). The setting is per thread. Here because the
// kernels' only C module is this one; Kernels' FloatEnvironment says why the kernels want it.
static inline void ablate_flush_subnormals_to_zero(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040u);
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (UINT64_C(1) << 24)));
#endif
}
