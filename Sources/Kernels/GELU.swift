/// GELU with the tanh approximation (GPT-2's): gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
/// Computed through the identity ½(1 + tanh u) = σ(2u) = 1 / (1 + e^(−2u)), so one vectorised exp and one
/// division per element, and the derivative needs no tanh either.
public enum GELU {
    /// 2·√(2/π) and 2·√(2/π)·0.044715: 2u = x·(c0 + c1·x²).
    static let c0: Float = 1.595_769_121_605_730_7
    static let c1: Float = 0.071_354_816_272_919_5

    /// out[n] = x·σ(2u(x)) (equal to the tanh form above).
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, minimumPerThread: 1 << 15, alignment: lanes) { start, end in
            forwardSerial(out: out + start, inp: inp + start, count: end - start)
        }
    }

    @inline(__always)
    static func forwardSerial(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count {
            store(gelu(load(inp + i)), out + i)
            i += lanes
        }
        if i < count { storePartial(gelu(loadPartial(inp + i, count - i, fill: 0)), out + i, count - i) }
    }

    /// dinp[n] = dout · gelu'(x), gelu'(x) = σ + x·σ(1−σ)·(c0 + 3c1·x²), with σ(1−σ) = e·σ² (e = e^(−2u))
    /// to avoid the cancellation in 1 − σ. Overwrites dinp (no zeroing needed).
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, minimumPerThread: 1 << 15, alignment: lanes) { start, end in
            backwardSerial(dinp: dinp + start, inp: inp + start, dout: dout + start, count: end - start)
        }
    }

    @inline(__always)
    static func backwardSerial(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count {
            store(load(dout + i) * derivative(load(inp + i)), dinp + i)
            i += lanes
        }
        if i < count {
            let n = count - i
            storePartial(loadPartial(dout + i, n, fill: 0) * derivative(loadPartial(inp + i, n, fill: 0)), dinp + i, n)
        }
    }

    @inline(__always) static func gelu(_ x: Vec) -> Vec {
        let e = vexp(-(x * (c0 + c1 * (x * x))))
        return x / (1 + e)
    }

    @inline(__always) static func derivative(_ x: Vec) -> Vec {
        let x2 = x * x
        let e = vexp(-(x * (c0 + c1 * x2)))
        let s = 1 / (1 + e)
        return s + x * ((e * s) * s) * (c0 + (3 * c1) * x2)
    }
}
