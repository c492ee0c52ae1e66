/// The project's own random number generator: xoshiro256** (Blackman & Vigna, 2018), seeded through SplitMix64.
/// Never the system RNG: a (seed, stream) pair must give the same numbers on every machine and in every run.
public struct Xoshiro256: Sendable, Equatable, Codable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// A generator for an independent stream derived from `seed` and `stream` (e.g. seed × step, or a tensor index).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ 0x2545_F491_4F6C_DD1D)
    }

    public static func == (l: Xoshiro256, r: Xoshiro256) -> Bool {
        l.state.0 == r.state.0 && l.state.1 == r.state.1 && l.state.2 == r.state.2 && l.state.3 == r.state.3
    }

    enum CodingKeys: String, CodingKey { case s }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let s = try c.decode([UInt64].self, forKey: .s)
        guard s.count == 4 else { throw DecodingError.dataCorruptedError(forKey: .s, in: c, debugDescription: "xoshiro256 state needs 4 words") }
        state = (s[0], s[1], s[2], s[3])
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([state.0, state.1, state.2, state.3], forKey: .s)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform integer in 0..<bound, without modulo bias (Lemire's multiply-shift with rejection).
    @inline(__always)
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Uniform Float in [0, 1) from the top 24 bits.
    @inline(__always)
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform Double in [0, 1) from the top 53 bits.
    @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Standard normal by Box–Muller (computed in Double so the result is the same on every platform's libm
    /// to within its last bit; two uniforms per sample, the second root discarded for simplicity of state).
    @inline(__always)
    public mutating func nextNormal() -> Double {
        let u1 = 1.0 - nextDouble()  // (0, 1]: log is finite
        let u2 = nextDouble()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
