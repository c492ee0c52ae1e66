import Kernels
import XCTest

final class RowProductTests: XCTestCase {
    /// Against a Double reference, for widths that exercise the vector lanes and the scalar tail and row counts that
    /// exercise the four-row blocks and the one-row tail. Tolerance: each element sums `inner` products of values in
    /// [−1, 1) in Float, so its rounding error is below inner · 2⁻²⁴ · Σ|a·m| ≤ 32 · 6e-8 · 32 ≈ 6e-5; 1e-4 holds with
    /// margin while a wrong index or a missing term is off by O(0.1).
    func testMatchesDoubleReference() {
        var rng = Xoshiro256(seed: 5)
        for (rows, inner, width) in [(1, 1, 1), (3, 5, 17), (4, 32, 16), (9, 32, 48), (13, 7, 50)] {
            let vocab = 11
            let table = (0..<(vocab * inner)).map { _ in rng.nextUniform() * 2 - 1 }
            let matrix = (0..<(inner * width)).map { _ in rng.nextUniform() * 2 - 1 }
            let indices = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            var out = [Float](repeating: .nan, count: rows * width + 3)
            RowProduct.forward(out: &out, table: table, indices: indices, count: rows, inner: inner, matrix: matrix, width: width)
            for i in 0..<rows {
                for j in 0..<width {
                    var expected = 0.0
                    for k in 0..<inner { expected += Double(table[Int(indices[i]) * inner + k]) * Double(matrix[k * width + j]) }
                    XCTAssertEqual(Double(out[i * width + j]), expected, accuracy: 1e-4, "rows \(rows) inner \(inner) width \(width) [\(i), \(j)]")
                }
            }
            XCTAssertTrue(out[(rows * width)...].allSatisfy(\.isNaN), "wrote past rows × width")
        }
    }

    /// A row's bits depend only on its own index: the same index gives the same row in the four-row blocks, in the
    /// one-row tail, and alone (this is what makes a token's embedding independent of its position in the batch).
    func testRowIsIndependentOfItsPosition() {
        var rng = Xoshiro256(seed: 6)
        let (vocab, inner, width) = (7, 32, 37)
        let table = (0..<(vocab * inner)).map { _ in rng.nextUniform() * 2 - 1 }
        let matrix = (0..<(inner * width)).map { _ in rng.nextUniform() * 2 - 1 }
        var alone = [Float](repeating: 0, count: width)
        RowProduct.forward(out: &alone, table: table, indices: [3], count: 1, inner: inner, matrix: matrix, width: width)
        let indices: [Int32] = [3, 1, 3, 0, 2, 3, 3, 5, 6, 3]  // 3 in blocks and in the tail
        var out = [Float](repeating: 0, count: indices.count * width)
        RowProduct.forward(out: &out, table: table, indices: indices, count: indices.count, inner: inner, matrix: matrix, width: width)
        for (i, t) in indices.enumerated() where t == 3 {
            XCTAssertEqual(out[(i * width)..<((i + 1) * width)].map(\.bitPattern), alone.map(\.bitPattern), "position \(i)")
        }
    }
}
