import CGSL
import Kernels
import Stats

/// The shape of an embedding table: how many directions it uses, how spread out its rows are, and whether row
/// length tracks token frequency.
public enum Geometry {
    /// How singular values are computed from the D×D Gram matrix G = MᵀM (sgemm, float).
    public enum SVDMethod: Sendable {
        /// σᵢ = √λᵢ with λ the eigenvalues of G (`gsl_eigen_symm`, double; ~0.2 s for D = 512). Float round-off in
        /// G (~1e-7·λ_max) puts a floor of ~3e-4·σ_max under the σ's.
        case gramEigenvalues
        /// σⱼ = ‖M vⱼ‖ with vⱼ the eigenvectors of G (`gsl_eigen_symmv` + sgemm; ~2.3 s for D = 512): the floor drops
        /// to ~1e-7·σ_max, so tiny singular values (rank-deficient tables) come out right.
        case projections
        /// `gramEigenvalues`, switching to `projections` when some λ < 1e-4·λ_max (σ < 1 % of σ_max), where the floor
        /// would matter (a rank-one table would get an effective rank of ~1.02 instead of 1).
        case automatic
    }

    /// Singular values of `m`, descending.
    public static func singularValues(_ m: ProbeMatrix, method: SVDMethod = .automatic) throws -> [Double] {
        let d = m.cols, n = m.rows
        guard n > 0, d > 0 else { return [] }
        var gram = [Float](repeating: 0, count: d * d)
        m.values.withUnsafeBufferPointer { a in
            gram.withUnsafeMutableBufferPointer { g in
                BLAS.sgemm(
                    transA: true, transB: false, m: d, n: d, k: n, alpha: 1, a: a.baseAddress!, lda: d,
                    b: a.baseAddress!, ldb: d, beta: 0, c: g.baseAddress!, ldc: d)
            }
        }
        GSLSetup.once()
        guard let matrix = gsl_matrix_alloc(d, d), let eval = gsl_vector_alloc(d) else {
            throw ProbeError.numerical("cannot allocate a \(d)×\(d) eigen-problem")
        }
        defer { gsl_matrix_free(matrix); gsl_vector_free(eval) }
        func load() {
            for i in 0..<d {
                for j in 0..<d {
                    // Symmetrise: float round-off can leave G[i][j] ≠ G[j][i] in the last bit.
                    gsl_matrix_set(matrix, i, j, 0.5 * (Double(gram[i * d + j]) + Double(gram[j * d + i])))
                }
            }
        }
        if method != .projections {
            load()
            guard let work = gsl_eigen_symm_alloc(d) else { throw ProbeError.numerical("cannot allocate gsl_eigen_symm") }
            defer { gsl_eigen_symm_free(work) }
            let status = gsl_eigen_symm(matrix, eval, work)
            guard status == 0 else { throw ProbeError.numerical("gsl_eigen_symm failed with status \(status)") }
            let lambda = (0..<d).map { gsl_vector_get(eval, $0) }.sorted(by: >)
            if method == .gramEigenvalues || lambda.last! >= 1e-4 * lambda[0] {
                return lambda.map { max($0, 0).squareRoot() }
            }
        }
        load()
        guard let evec = gsl_matrix_alloc(d, d), let work = gsl_eigen_symmv_alloc(d) else {
            throw ProbeError.numerical("cannot allocate gsl_eigen_symmv")
        }
        defer { gsl_matrix_free(evec); gsl_eigen_symmv_free(work) }
        let status = gsl_eigen_symmv(matrix, eval, evec, work)
        guard status == 0 else { throw ProbeError.numerical("gsl_eigen_symmv failed with status \(status)") }
        var v = [Float](repeating: 0, count: d * d)  // eigenvectors as columns, row-major
        for i in 0..<d { for j in 0..<d { v[i * d + j] = Float(gsl_matrix_get(evec, i, j)) } }
        var proj = [Float](repeating: 0, count: n * d)  // (n, d) = M · V
        m.values.withUnsafeBufferPointer { a in
            v.withUnsafeBufferPointer { b in
                proj.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(
                        transA: false, transB: false, m: n, n: d, k: d, alpha: 1, a: a.baseAddress!, lda: d,
                        b: b.baseAddress!, ldb: d, beta: 0, c: c.baseAddress!, ldc: d)
                }
            }
        }
        var sq = [Double](repeating: 0, count: d)
        proj.withUnsafeBufferPointer { p in
            for r in 0..<n { for j in 0..<d { let x = Double(p[r * d + j]); sq[j] += x * x } }
        }
        return sq.map { $0.squareRoot() }.sorted(by: >)
    }

    /// Effective rank (Roy & Vetterli 2007): exp(H(p)) with pᵢ = σᵢ / Σσ, H the Shannon entropy (nats).
    /// 1 for a rank-one table, D for a table whose singular values are all equal (e.g. orthogonal rows).
    /// Computed on the table as it is (not mean-centred). Nil for an all-zero table.
    public static func effectiveRank(_ m: ProbeMatrix) throws -> Double? {
        effectiveRank(singularValues: try singularValues(m))
    }

    public static func effectiveRank(singularValues s: [Double]) -> Double? {
        let total = s.reduce(0, +)
        guard total > 0 else { return nil }
        var h = 0.0
        for x in s where x > 0 { let p = x / total; h -= p * log(p) }
        return exp(h)
    }

    /// Isotropy: the mean cosine similarity of `pairs` random pairs of distinct rows drawn uniformly from `among`
    /// (all rows when nil) with a seeded generator (Xoshiro256, `seed`). Near 0 for an isotropic table, near 1
    /// when all rows share a direction. Rows of zero length are never drawn. Nil with fewer than 2 usable rows.
    public static func isotropy(_ m: ProbeMatrix, among: [Int]? = nil, pairs: Int = 10_000, seed: UInt64 = 0x150) -> Double? {
        let norms = m.rowNorms()
        let candidates = (among ?? Array(0..<m.rows)).filter { norms[$0] > 0 }
        guard candidates.count >= 2, pairs > 0 else { return nil }
        var rng = Xoshiro256(seed: seed)
        var sum = 0.0
        let d = m.cols
        m.values.withUnsafeBufferPointer { v in
            for _ in 0..<pairs {
                let a = candidates[rng.nextInt(below: candidates.count)]
                var b = candidates[rng.nextInt(below: candidates.count - 1)]
                if b == a { b = candidates[candidates.count - 1] }
                var dot = 0.0
                for k in 0..<d { dot += Double(v[a * d + k]) * Double(v[b * d + k]) }
                sum += dot / (norms[a] * norms[b])
            }
        }
        return sum / Double(pairs)
    }

    /// Spearman's ρ between each row's norm and its token's count, over `among` (nil: every row).
    /// Nil when undefined (fewer than 3 rows, or constant norms or counts — e.g. the hashed strategy's rows, which
    /// all have the same norm).
    public static func normFrequencySpearman(_ m: ProbeMatrix, counts: [Int], among: [Int]? = nil) throws -> Double? {
        precondition(counts.count == m.rows, "Geometry: \(counts.count) counts for \(m.rows) rows")
        let rows = among ?? Array(0..<m.rows)
        let norms = m.rowNorms()
        return try Correlation.spearman(rows.map { norms[$0] }, rows.map { Double(counts[$0]) })
    }
}

/// GSL's default error handler aborts the process: switch it off once before the first call from this module.
enum GSLSetup {
    private static let off: Void = { _ = gsl_set_error_handler_off() }()
    static func once() { _ = off }
}

public enum ProbeError: Error, CustomStringConvertible {
    case numerical(String)
    case run(path: String, message: String, fix: String)
    case data(path: String, message: String, fix: String)

    public var description: String {
        switch self {
        case let .numerical(m): return "probe: \(m)"
        case let .run(path, message, fix): return "\(path): \(message). Fix: \(fix)"
        case let .data(path, message, fix): return "\(path): \(message). Fix: \(fix)"
        }
    }
}
