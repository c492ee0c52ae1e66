/// Row gather/scatter shared by every table-backed strategy.
public enum EmbeddingTable {
    /// out[i, :] = table[tokens[i], :]
    @inline(__always)
    public static func gather(
        into out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, count: Int, width: Int
    ) {
        for i in 0..<count {
            (out + i * width).update(from: table + Int(tokens[i]) * width, count: width)
        }
    }

    /// grad[tokens[i], :] += dout[i, :]
    @inline(__always)
    public static func scatterAdd(
        into grad: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, count: Int, width: Int
    ) {
        for i in 0..<count {
            let g = grad + Int(tokens[i]) * width
            let d = dout + i * width
            for j in 0..<width { g[j] += d[j] }
        }
    }
}
