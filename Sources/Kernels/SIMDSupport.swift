// Internal vector helpers shared by the kernels: unaligned 16-lane loads/stores, partial (tail) loads, and a
// vectorised exp. Everything here is @inline(__always) so the loops that use it compile to straight SIMD code.

/// The lane type of every elementwise loop: 16 Floats (four SSE or two AVX registers, one AVX-512 register).
typealias Vec = SIMD16<Float>
/// (Computed properties, not global lets, so they fold to constants instead of going through a lazy initialiser.)
@inline(__always) var lanes: Int { 16 }
/// (0, 1, …, 15): compared against a count to mask the lanes of a partial block.
@inline(__always) var laneIndex: Vec { Vec(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}
@inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}
@inline(__always) func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

// Lane-wise max/min as compare + blend. (The standard library's `clamped`, `pointwiseMax` and `pointwiseMin` are
// compiled lane by lane with NaN handling, ~10× slower; checked in the generated assembly.)
@inline(__always) func lanewiseMax(_ a: Vec, _ b: Vec) -> Vec { a.replacing(with: b, where: b .> a) }
@inline(__always) func lanewiseMin(_ a: Vec, _ b: Vec) -> Vec { a.replacing(with: b, where: b .< a) }

// Horizontal reductions as a tree over halves: a few vector ops instead of the standard library's lane-by-lane
// `sum()` / `max()` loops (which also branch per lane for NaN ordering in `max`).
@inline(__always) func hsum(_ v: Vec) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}
@inline(__always) func hmax(_ v: Vec) -> Float {
    let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
    let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
    let c = b.lowHalf.replacing(with: b.highHalf, where: b.highHalf .> b.lowHalf)
    return c[0] > c[1] ? c[0] : c[1]
}

/// Loads the first `n` (< 16) floats of `p`; the other lanes hold `fill` (e.g. 0 for sums, -inf for maxima).
@inline(__always) func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float) -> Vec {
    var v = Vec(repeating: fill)
    for i in 0..<n { v[i] = p[i] }
    return v
}
/// Stores the first `n` (< 16) lanes of `v` to `p`.
@inline(__always) func storePartial(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = v[i] }
}

/// eˣ per lane, relative error ≈ 1e-7 (a few ulp) on [-87, 88]; below -87 the result is exactly 0 (so exp(-inf) = 0),
/// above 88 it saturates at e⁸⁸ ≈ 1.65e38 (finite).
/// exp(x) = 2ⁿ · exp(r) with n = round(x / ln 2), r = x − n·ln 2 ∈ [−ln2/2, ln2/2]; exp(r) by the degree-7 minimax
/// polynomial of Cephes `expf` (Moshier); 2ⁿ built directly in the exponent bits.
/// Transparent (inlined before optimisation): with @inline(__always) alone the optimiser left it an out-of-line call
/// in the softmax loops, each call moving 16 lanes through xmm registers.
@_transparent func vexp(_ input: Vec) -> Vec {
    let x = lanewiseMin(lanewiseMax(input, Vec(repeating: -87)), Vec(repeating: 88))
    // Adding 1.5·2²³ rounds x/ln2 to the nearest integer n and leaves n in the low mantissa bits of t.
    let magic = Vec(repeating: 12_582_912)
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    // Cody–Waite: ln 2 split into an exactly representable high part and a correction.
    let r = (x - n * 0.693_359_375) - n * -2.121_944_4e-4
    var p = Vec(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * (r * r) + r + 1
    let nBits = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000  // = n, as an integer
    let twoToN = unsafeBitCast((nBits &+ 127) &<< 23, to: Vec.self)
    return (p * twoToN).replacing(with: 0, where: input .< -87)
}

/// Σ p[0..<n] (Float lanes, one horizontal sum at the end).
@inline(__always) func vsum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec(repeating: 0)
    var i = 0
    while i + lanes <= n { acc += load(p + i); i += lanes }
    if i < n { acc += loadPartial(p + i, n - i, fill: 0) }
    return hsum(acc)
}

/// max p[0..<n] (n ≥ 1).
@inline(__always) func vmax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec(repeating: -.infinity)
    var i = 0
    while i + lanes <= n { acc = lanewiseMax(acc, load(p + i)); i += lanes }
    if i < n { acc = lanewiseMax(acc, loadPartial(p + i, n - i, fill: -.infinity)) }
    return hmax(acc)
}

/// Σ a[i]·b[i] over n.
@inline(__always) func vdot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec(repeating: 0)
    var i = 0
    while i + lanes <= n { acc += load(a + i) * load(b + i); i += lanes }
    if i < n { acc += loadPartial(a + i, n - i, fill: 0) * loadPartial(b + i, n - i, fill: 0) }
    return hsum(acc)
}

/// dst[0..<n] = softmax(src[0..<n]) = exp(src − max) / Σ exp(src − max); max-subtracted so no exp overflows.
/// src may equal dst (in place). Returns (max, Σ exp(src − max)) so a caller can form log-sum-exp = max + log Σ.
@inline(__always) @discardableResult
func softmax(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, _ n: Int) -> (max: Float, sum: Float) {
    let m = vmax(src, n)
    return (m, softmax(from: src, max: m, to: dst, n))
}

/// `softmax(from:to:_:)` with the maximum `m` of src[0..<n] already known; returns Σ exp(src − m).
@inline(__always) @discardableResult
func softmax(from src: UnsafePointer<Float>, max m: Float, to dst: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    let s = exponentials(src, max: m, storingTo: dst, n)
    let inv = Vec(repeating: 1 / s)
    var i = 0
    while i + lanes <= n { store(load(dst + i) * inv, dst + i); i += lanes }
    while i < n { dst[i] *= inv[0]; i += 1 }
    return s
}

/// Σ exp(src[0..<n] − m), storing nothing: a loss without the probabilities, equal to the bit to the sum
/// `softmax` returns.
@inline(__always)
func exponentialSum(_ src: UnsafePointer<Float>, max m: Float, _ n: Int) -> Float {
    exponentials(src, max: m, storingTo: nil, n)
}

/// Σ exp(src − m) over n, storing each exp(src − m) to `dst` when given: the one loop behind every softmax, so the
/// terms are added in the same order whether or not they are kept.
@inline(__always)
func exponentials(_ src: UnsafePointer<Float>, max m: Float, storingTo dst: UnsafeMutablePointer<Float>?, _ n: Int) -> Float {
    let mv = Vec(repeating: m)
    var acc = Vec(repeating: 0)
    var i = 0
    while i + lanes <= n {
        let e = vexp(load(src + i) - mv)
        acc += e
        if let dst { store(e, dst + i) }
        i += lanes
    }
    if i < n {
        let e = vexp(loadPartial(src + i, n - i, fill: -.infinity) - mv)  // padding lanes: exp(-inf) = 0
        acc += e
        if let dst { storePartial(e, dst + i, n - i) }
    }
    return hsum(acc)
}

@inline(__always) @discardableResult
func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> (max: Float, sum: Float) {
    softmax(from: p, to: p, n)
}
