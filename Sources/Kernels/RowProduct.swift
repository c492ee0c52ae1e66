/// Gathered rows times a small matrix, one output row at a time:
///
///     out[i, :] = Σ_k table[indices[i], k] · matrix[k, :]      (k ascending)
///
/// This is what a factorised embedding (lowrank's A·P) needs. It is deliberately *not* an sgemm: an optimised
/// sgemm may round a row differently depending on where it falls in its blocking (edge blocks use other
/// micro-kernels, and the blocking differs between OpenBLAS kernels and CPU generations). Here every output element is
/// the same chain of multiplies and adds in the same order, whatever the row's position, the batch size or the CPU's
/// vector width, so "same token ⇒ same vector" holds by construction. Products and sums are separate roundings (Swift
/// does not contract them into FMAs), so the vector lanes and the scalar tail give identical results.
///
/// Cost: count·r·D multiply-adds, four rows sharing each load of P. Measured for 1024 tokens, r = 32, one thread:
/// 65 / 130 / 330 µs at D = 128 / 256 / 512, against 75 / 144 / 278 µs for gather + sgemm and 74 / 361 / 1275 µs for
/// materialising the V×D table and gathering (V = 512 / 2048 / 4096) — noise next to a training step either way.
public enum RowProduct {
    /// out (count, width) = table[indices] (count, inner) · matrix (inner, width); `out` is overwritten.
    public static func forward(
        out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        count: Int, inner: Int, matrix: UnsafePointer<Float>, width: Int
    ) {
        guard inner > 0 else {
            out.update(repeating: 0, count: count * width)
            return
        }
        // Four rows at a time share each load of `matrix` (the rows are independent; an element's chain of operations
        // is the same in the four-row loop and in the one-row tail, so which loop a row lands in changes nothing).
        var i = 0
        while i + 4 <= count {
            let a0 = table + Int(indices[i]) * inner, a1 = table + Int(indices[i + 1]) * inner
            let a2 = table + Int(indices[i + 2]) * inner, a3 = table + Int(indices[i + 3]) * inner
            let o = out + i * width
            var j = 0
            while j + lanes <= width {
                let m0 = load(matrix + j)
                var c0 = Vec(repeating: a0[0]) * m0, c1 = Vec(repeating: a1[0]) * m0
                var c2 = Vec(repeating: a2[0]) * m0, c3 = Vec(repeating: a3[0]) * m0
                var k = 1
                while k < inner {
                    let m = load(matrix + k * width + j)
                    c0 = c0 + Vec(repeating: a0[k]) * m; c1 = c1 + Vec(repeating: a1[k]) * m
                    c2 = c2 + Vec(repeating: a2[k]) * m; c3 = c3 + Vec(repeating: a3[k]) * m
                    k += 1
                }
                store(c0, o + j); store(c1, o + width + j); store(c2, o + 2 * width + j); store(c3, o + 3 * width + j)
                j += lanes
            }
            if j < width {
                rowTail(out: o, row: a0, from: j, inner: inner, matrix: matrix, width: width)
                rowTail(out: o + width, row: a1, from: j, inner: inner, matrix: matrix, width: width)
                rowTail(out: o + 2 * width, row: a2, from: j, inner: inner, matrix: matrix, width: width)
                rowTail(out: o + 3 * width, row: a3, from: j, inner: inner, matrix: matrix, width: width)
            }
            i += 4
        }
        while i < count {
            let a = table + Int(indices[i]) * inner
            let o = out + i * width
            var j = 0
            while j + lanes <= width {
                var c = Vec(repeating: a[0]) * load(matrix + j)
                var k = 1
                while k < inner {
                    c = c + Vec(repeating: a[k]) * load(matrix + k * width + j)
                    k += 1
                }
                store(c, o + j)
                j += lanes
            }
            rowTail(out: o, row: a, from: j, inner: inner, matrix: matrix, width: width)
            i += 1
        }
    }

    /// Columns j0 ..< width of one output row, one element at a time (the same chain of operations as the lanes).
    @inline(__always)
    static func rowTail(
        out o: UnsafeMutablePointer<Float>, row a: UnsafePointer<Float>, from j0: Int, inner: Int,
        matrix: UnsafePointer<Float>, width: Int
    ) {
        var j = j0
        while j < width {
            var c = a[0] * matrix[j]
            var k = 1
            while k < inner {
                c = c + a[k] * matrix[k * width + j]
                k += 1
            }
            o[j] = c
            j += 1
        }
    }
}
