#!/bin/bash
# make test-isa: compiles Sources/Kernels and KernelFingerprints.swift on their own (swiftc, the Kernels module's flags)
# for baseline x86-64 and for each -target-cpu this CPU can execute, and checks every build's fingerprints against the
# pinned ones: the project's kernels must give the same bits on every instruction set. About 20 s per build.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
# The flags each target needs, read from Sources/Kernels/KernelBuild.swift (`requiredFlags`: the AVX-512 list first,
# then the AVX2 one), which Package.swift's detection repeats (a manifest cannot share code).
required() { grep 'static let requiredFlags = \["' "$root/Sources/Kernels/KernelBuild.swift" | sed -n "${1}p" | grep -o '"[a-z0-9]*"' | tr -d '"'; }
avx512=$(required 1 || true); avx2=$(required 2 || true)
[ -n "$avx512" ] && [ -n "$avx2" ] || { echo "cannot read requiredFlags from Sources/Kernels/KernelBuild.swift" >&2; exit 1; }
targets=(portable)
# shellcheck disable=SC2086 # the lists split into one flag per word on purpose
has $avx2 && targets+=(haswell)
# shellcheck disable=SC2086
has $avx512 && targets+=(skylake-avx512)
cat > "$work/main.swift" <<'SWIFT'
import Glibc
let mismatches = kernelFingerprintMismatches()
for m in mismatches { print("  differs: \(m)") }
exit(mismatches.isEmpty ? 0 : 1)
SWIFT
status=0
for target in "${targets[@]}"; do
    out="$work/$target"; mkdir -p "$out"
    cpu=()  # the flags Package.swift gives the Kernels module for this target
    [ "$target" = haswell ] && cpu=(-target-cpu haswell -D ABLATE_AVX2)
    [ "$target" = skylake-avx512 ] && cpu=(-target-cpu skylake-avx512 -D ABLATE_AVX512)
    swiftc -Ounchecked -Xcc -fno-math-errno "${cpu[@]}" -parse-as-library -module-name Kernels -emit-library -static \
        -emit-module -emit-module-path "$out/Kernels.swiftmodule" -I "$root/Sources/COpenBLAS" "$root"/Sources/Kernels/*.swift \
        -o "$out/libKernels.a"
    swiftc -O "${cpu[@]}" -I "$out" -I "$root/Sources/COpenBLAS" -L "$out" -lKernels -lopenblas \
        "$root/Tests/KernelsTests/KernelFingerprints.swift" "$work/main.swift" -o "$out/fingerprints"
    if "$out/fingerprints"; then echo "$target: the pinned fingerprints"; else echo "$target: DIFFERENT"; status=1; fi
done
exit $status
