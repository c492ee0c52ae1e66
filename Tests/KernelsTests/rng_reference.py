#!/usr/bin/env python3
"""Reference outputs for RNGTests: xoshiro256** seeded by SplitMix64, transcribed from the authors' C reference
implementations (https://prng.di.unimi.it/xoshiro256starstar.c and splitmix64.c), independent of the Swift code."""
M = (1 << 64) - 1

def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M

class Xoshiro256:
    def __init__(self, seed):
        s, out = seed, []
        for _ in range(4):
            s, z = splitmix64(s)
            out.append(z)
        self.s = out

    @classmethod
    def stream(cls, seed, stream):  # the project's derivation of an independent stream
        return cls(((seed ^ ((stream * 0xD1B54A32D192ED03) & M)) + 0x2545F4914F6CDD1D) & M)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def next_int_below(self, b):  # Lemire's multiply-shift with rejection
        m = self.next() * b
        if (m & M) < b:
            threshold = ((1 << 64) - b) % b
            while (m & M) < threshold:
                m = self.next() * b
        return m >> 64

if __name__ == "__main__":
    g = Xoshiro256(42); print("seed 42:", [hex(g.next()) for _ in range(4)])
    g = Xoshiro256.stream(7, 0xE1); print("seed 7 stream 0xE1:", [hex(g.next()) for _ in range(3)])
    g = Xoshiro256(7); print("seed 7 nextInt(below: 10):", [g.next_int_below(10) for _ in range(12)])
    g = Xoshiro256(9); print("seed 9 next() >> 11 (nextDouble numerators):", [g.next() >> 11 for _ in range(3)])
