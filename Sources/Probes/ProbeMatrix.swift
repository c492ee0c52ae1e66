import Kernels

/// A row-major float matrix: an embedding table (rows = tokens, columns = model width) or an output head.
public struct ProbeMatrix: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    /// rows × cols, row-major.
    public var values: [Float]

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(rows >= 0 && cols >= 0 && values.count == rows * cols, "ProbeMatrix: \(values.count) values for \(rows)×\(cols)")
        self.rows = rows; self.cols = cols; self.values = values
    }

    public init(rows: [[Float]]) {
        self.init(rows: rows.count, cols: rows.first?.count ?? 0, values: rows.flatMap { $0 })
    }

    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * cols)..<((i + 1) * cols)] }

    /// The rows at `indices`, in that order.
    public func selecting(rows indices: [Int]) -> ProbeMatrix {
        var out = [Float]()
        out.reserveCapacity(indices.count * cols)
        for i in indices { out.append(contentsOf: row(i)) }
        return ProbeMatrix(rows: indices.count, cols: cols, values: out)
    }

    /// Euclidean norm of each row (accumulated in Double).
    public func rowNorms() -> [Double] {
        (0..<rows).map { i in
            var s = 0.0
            for x in row(i) { s += Double(x) * Double(x) }
            return s.squareRoot()
        }
    }

    /// Frobenius norm of the whole matrix (Double accumulation).
    public var frobeniusNorm: Double {
        var s = 0.0
        for x in values { s += Double(x) * Double(x) }
        return s.squareRoot()
    }

    /// Whether every value is finite (diverged runs hold NaN).
    public var allFinite: Bool { values.allSatisfy(\.isFinite) }
}

/// Flattened comparisons of two same-shape tables (for drift over training).
public enum TableDistance {
    /// ‖a − b‖_F (Double accumulation).
    public static func distance(_ a: ProbeMatrix, _ b: ProbeMatrix) -> Double {
        precondition(a.values.count == b.values.count, "TableDistance: shapes differ")
        var s = 0.0
        for i in 0..<a.values.count { let d = Double(a.values[i]) - Double(b.values[i]); s += d * d }
        return s.squareRoot()
    }

    /// Cosine similarity of the flattened tables; nil when either is all zeros.
    public static func cosine(_ a: ProbeMatrix, _ b: ProbeMatrix) -> Double? {
        precondition(a.values.count == b.values.count, "TableDistance: shapes differ")
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in 0..<a.values.count {
            let x = Double(a.values[i]), y = Double(b.values[i])
            ab += x * y; aa += x * x; bb += y * y
        }
        guard aa > 0, bb > 0 else { return nil }
        return max(-1, min(1, ab / (aa * bb).squareRoot()))
    }
}
