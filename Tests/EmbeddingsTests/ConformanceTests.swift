import Embeddings
import Foundation
import Kernels
import XCTest

/// The conformance suite: every test runs over **every** entry of `StrategyRegistry.all`, with default options, under
/// both parametrizations (SP — or μP for strategies that reject SP — then μP), so a new strategy gets all of it by
/// adding its registry line. A failure names the parametrization it happened under.
///
/// Conventions a strategy can rely on (see ADDING_A_STRATEGY.md):
/// - an option named `init_std` is taken as the documented standard deviation of the output (as resolved in the
///   context: under μP a table's default is σ_base, see `TableScale`);
/// - `dependsOnRunSeed == false` declares that the tensors do not vary with the run seed (checked both ways).
final class ConformanceTests: XCTestCase {
    let all = StrategyRegistry.all

    /// The parametrization the current `forEachStrategy` pass builds strategies in.
    private var parametrization: Parametrization = .sp

    func forEachStrategy(_ body: (any EmbeddingStrategy.Type) throws -> Void) rethrows {
        XCTAssertFalse(all.isEmpty)
        defer { parametrization = .sp }
        for p in [Parametrization.sp, .mup(baseWidth: 16)] {
            parametrization = p
            for type in all { try body(type) }
        }
    }

    /// `Fixture.make` in the current pass's parametrization.
    func make(
        _ type: any EmbeddingStrategy.Type, options: [String: Any] = [:], seed: UInt64 = Fixture.seed
    ) throws
        -> any EmbeddingStrategy
    {
        try Fixture.make(type, options: options, seed: seed, parametrization: parametrization)
    }

    override func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool) {
        let pass = parametrization.isMuP ? "under μP" : "under SP"
        super.recordFailure(withDescription: "[\(pass)] \(description)", inFile: filePath, atLine: lineNumber, expected: expected)
    }

    // MARK: - Registry entry

    func testNamesSummariesAndDefaultOptionsAreWellFormed() throws {
        XCTAssertEqual(Set(StrategyRegistry.names).count, all.count, "strategy names must be unique")
        try forEachStrategy { type in
            let name = type.name
            XCTAssertNotNil(
                name.range(of: "^[a-z][a-z0-9]*(-[a-z0-9]+)*$", options: .regularExpression),
                "\(name): names are lower-case kebab-case")
            XCTAssertFalse(type.summary.isEmpty, "\(name): needs a summary for `ablate strategies`")
            XCTAssertFalse(type.summary.contains("\n"), "\(name): the summary is one line")
            // The defaults must survive the registry's decode path unchanged (every key encodes, no optionals).
            // …and a strategy built with no options uses the defaults of its context (what config.json records).
            // The resolved options of a strategy built with none (what config.json records) build it again unchanged.
            let built = StrategyRegistry.encodeToObject(try make(type).options)
            XCTAssertEqual(Set(built.keys), Set(StrategyRegistry.defaultOptions(of: type).keys), name)
            let again = try make(type, options: built)
            XCTAssertEqual(NSDictionary(dictionary: built), NSDictionary(dictionary: StrategyRegistry.encodeToObject(again.options)), name)
        }
    }

    func testTensorSpecsAreConsistent() throws {
        try forEachStrategy { type in
            let s = try make(type)
            XCTAssertEqual(Set(s.tensors.map(\.name)).count, s.tensors.count, "\(type.name): tensor names are unique")
            for spec in s.tensors {
                XCTAssertFalse(spec.shape.isEmpty, "\(type.name).\(spec.name)")
                XCTAssertTrue(spec.shape.allSatisfy { $0 > 0 }, "\(type.name).\(spec.name): positive shape")
                XCTAssertTrue(spec.lrMultiplier > 0 && spec.lrMultiplier.isFinite, "\(type.name).\(spec.name)")
            }
            XCTAssertTrue(s.outputMultiplier > 0 && s.outputMultiplier.isFinite, type.name)
        }
    }

    // MARK: - Initialize and forward

    func testInitializeWritesEveryElement() throws {
        try forEachStrategy { type in
            let h = Harness(try make(type))  // buffers start as NaN
            for (spec, v) in zip(h.specs, h.values) {
                XCTAssertTrue(v.allSatisfy(\.isFinite), "\(type.name).\(spec.name): initialize must write every element")
            }
        }
    }

    func testForwardFillsExactlyCountTimesD() throws {
        try forEachStrategy { type in
            let h = Harness(try make(type))
            let d = Fixture.dModel, tokens = Fixture.tokens, guardRows = 3
            let sentinel = Float(bitPattern: 0x7FC0_BEEF)  // a NaN with a recognisable payload
            var out = [Float](repeating: sentinel, count: (tokens.count + guardRows) * d)
            let p = h.pointers
            tokens.withUnsafeBufferPointer { t in
                out.withUnsafeMutableBufferPointer { o in
                    h.strategy.forward(into: o.baseAddress!, tokens: t.baseAddress!, count: tokens.count, tensors: p)
                    // count 0 must be a no-op, not a crash.
                    h.strategy.forward(into: o.baseAddress! + tokens.count * d, tokens: t.baseAddress!, count: 0, tensors: p)
                }
            }
            XCTAssertTrue(out[..<(tokens.count * d)].allSatisfy(\.isFinite), "\(type.name): forward writes all count×D")
            XCTAssertEqual(
                bits(Array(out[(tokens.count * d)...])),
                [UInt32](repeating: sentinel.bitPattern, count: guardRows * d),
                "\(type.name): forward wrote past count×D")
        }
    }

    /// A token's vector is a function of the token alone: bit-identical whether it is embedded alone or inside a batch,
    /// at any position and for any batch size. This must hold *by construction* (a gather, or a per-row computation in
    /// a fixed order), not by the luck of one BLAS kernel's blocking: the sizes below cross every vector-width and
    /// typical GEMM-block boundary (1…257 rows), where an sgemm over the batch would switch micro-kernels.
    func testATokensRowDoesNotDependOnItsPositionOrTheBatchSize() throws {
        try forEachStrategy { type in
            let h = Harness(try make(type))
            let d = Fixture.dModel, v = Int32(Fixture.vocabulary.count)
            var rng = Xoshiro256(seed: 11, stream: 0)
            for probe in [Int32(0), 97, 299] {
                let alone = bits(h.forward([probe]))
                for size in [1, 2, 7, 15, 16, 17, 33, 64, 129, 257] {
                    var batch = (0..<size).map { _ in Int32(rng.nextInt(below: Int(v))) }
                    let positions = Set([0, size / 2, size - 1])
                    for p in positions { batch[p] = probe }
                    let out = h.forward(batch)
                    for p in positions.sorted() {
                        XCTAssertEqual(
                            bits(Array(out[(p * d)..<((p + 1) * d)])), alone,
                            "\(type.name): token \(probe) at position \(p) of a batch of \(size) differs from the token alone")
                    }
                }
            }
        }
    }

    func testOutputIsFiniteAndOfTheDocumentedScale() throws {
        try forEachStrategy { type in
            let h = Harness(try make(type))
            let everyToken = (0..<Int32(Fixture.vocabulary.count)).map { $0 }
            let out = h.forward(everyToken)
            XCTAssertTrue(out.allSatisfy(\.isFinite), type.name)
            let std = standardDeviation(out)
            if let documented = StrategyRegistry.encodeToObject(h.strategy.options)["init_std"] as? Double {
                // 300×48 samples: the empirical std of a table drawn with std σ is within a few % of σ; a factor of 2
                // catches a wrong variance convention (σ² for σ, 1/r for 1/√r, a missing rescale) without flakiness.
                XCTAssertGreaterThan(std, documented / 2, "\(type.name): output std \(std) vs documented \(documented)")
                XCTAssertLessThan(std, documented * 2, "\(type.name): output std \(std) vs documented \(documented)")
            } else {
                XCTAssertTrue(std > 1e-3 && std < 10, "\(type.name): output std \(std) is not a sensible scale")
            }
        }
    }

    // MARK: - Determinism

    func testSameSeedIsIdenticalAndOtherSeedDiffersIffDeclared() throws {
        try forEachStrategy { type in
            let a = Harness(try make(type, seed: 7)), b = Harness(try make(type, seed: 7))
            XCTAssertEqual(a.snapshot().map(bits), b.snapshot().map(bits), "\(type.name): same seed ⇒ identical tensors")
            XCTAssertEqual(bits(a.forward(Fixture.tokens)), bits(b.forward(Fixture.tokens)), "\(type.name): same seed ⇒ identical output")
            let c = Harness(try make(type, seed: 8))
            let differs = bits(a.forward(Fixture.tokens)) != bits(c.forward(Fixture.tokens))
            // Documented exception: strategies that declare `dependsOnRunSeed == false` (hashed: a function of the
            // text; frozen-random with a fixed `seed`) must give the *same* output for every run seed.
            XCTAssertEqual(
                differs, a.strategy.dependsOnRunSeed,
                "\(type.name): dependsOnRunSeed = \(a.strategy.dependsOnRunSeed) but outputs for seeds 7 and 8 \(differs ? "differ" : "are identical")"
            )
        }
    }

    // MARK: - Gradients

    /// Every trainable tensor's analytic gradient against central finite differences of loss = Σ out ⊙ R in Double.
    ///
    /// Step: ε = 1 % of the tensor's RMS (0.0002 for a 0.02 table), applied to the stored Float and measured back
    /// (ε_eff = Float(θ+ε) − Float(θ−ε)), so the parameter's own rounding does not count as error.
    /// Tolerance: |numeric − analytic| ≤ 1e-3 · max(|analytic|, RMS of the tensor's analytic gradient).
    /// - Truncation error: zero for every current strategy (the output is linear in each single parameter: a gather,
    ///   or the bilinear A·P), and O(ε²) ≈ 1e-4 relative for a smooth nonlinear one at ε = 1 % of the scale.
    /// - Rounding: the forward pass is Float; each changed output carries ~√r ulps (r = terms summed) ≈ 1e-8 absolute,
    ///   a few hundred of them with random signs give ~5e-8 in the loss difference, i.e. ≈ 1e-4 of the gradient scale
    ///   after dividing by 2ε (measured at the time of writing: worst element 0.12 × tolerance, for lowrank's A;
    ///   5e-5 × tolerance for plain tables). The 1e-3 tolerance leaves a ~10× margin; a wrong index, transpose or missing += fails by
    ///   O(1). Rows of tokens absent from the batch must have exactly zero gradient, and do (outputs unchanged bitwise).
    func testGradientsMatchFiniteDifferences() throws {
        try forEachStrategy { type in
            let h = Harness(try make(type))
            defer { withExtendedLifetime(h) {} }  // `value` below points into h's buffers
            let tokens = Fixture.tokens
            let r = uniformVector(count: tokens.count * h.dModel, seed: 5)
            h.zeroGradients()
            h.backward(dout: r, tokens: tokens)
            for (ti, spec) in h.specs.enumerated() where spec.trainable {
                let analytic = Array(h.gradients[ti]!)
                let value = h.values[ti]
                let rms = (value.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(value.count)).squareRoot()
                let eps = 0.01 * max(rms, 1e-3)
                let gscale = (analytic.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(analytic.count)).squareRoot()
                // Every element for tensors up to 20k elements (all fixtures today), a fixed random subset beyond.
                var indices = Array(0..<spec.count)
                if spec.count > 20_000 {
                    var rng = Xoshiro256(seed: 17)
                    indices = (0..<4_000).map { _ in rng.nextInt(below: spec.count) }
                }
                var failures = 0
                for i in indices {
                    let original = value[i]
                    value[i] = Float(Double(original) + eps)
                    let plus = Double(value[i]), lossPlus = dotLoss(h.forward(tokens), r)
                    value[i] = Float(Double(original) - eps)
                    let minus = Double(value[i]), lossMinus = dotLoss(h.forward(tokens), r)
                    value[i] = original
                    let numeric = (lossPlus - lossMinus) / (plus - minus)
                    let tol = 1e-3 * max(abs(Double(analytic[i])), gscale) + 1e-12
                    if abs(numeric - Double(analytic[i])) > tol {
                        failures += 1
                        if failures <= 5 {
                            XCTFail("\(type.name).\(spec.name)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric) (tol \(tol))")
                        }
                    }
                }
                XCTAssertEqual(failures, 0, "\(type.name).\(spec.name): \(failures) of \(indices.count) elements disagree")
                XCTAssertGreaterThan(gscale, 0, "\(type.name).\(spec.name): trainable but receives no gradient")
            }
        }
    }

    /// backward accumulates (+=): two calls give twice one call, and a batch with a token twice gives the sum of the
    /// two single-token batches (repeated tokens accumulate, they do not overwrite).
    func testBackwardAccumulatesOverCallsAndRepeatedTokens() throws {
        try forEachStrategy { type in
            let h = Harness(try make(type))
            guard h.specs.contains(where: \.trainable) else { return }
            let d = h.dModel
            let g1 = uniformVector(count: d, seed: 1), g2 = uniformVector(count: d, seed: 2)

            h.zeroGradients()
            h.backward(dout: g1 + g2, tokens: [300 - 1, 300 - 1])
            let together = h.gradientSnapshot()

            h.zeroGradients()
            h.backward(dout: g1, tokens: [299])
            h.backward(dout: g2, tokens: [299])
            let separately = h.gradientSnapshot()

            h.zeroGradients()
            h.backward(dout: g1, tokens: [299])
            let once = h.gradientSnapshot()
            h.backward(dout: g1, tokens: [299])
            let twice = h.gradientSnapshot()

            for (i, spec) in h.specs.enumerated() where spec.trainable {
                let scale = together[i]!.map { abs($0) }.max()!
                XCTAssertGreaterThan(scale, 0, "\(type.name).\(spec.name)")
                // Float sums in a different order (one sgemm over 2 rows vs two calls): agree to ~1e-7 of the scale.
                let repeatedError = zip(together[i]!, separately[i]!).map { abs($0 - $1) }.max()!
                let accumulateError = zip(twice[i]!, once[i]!).map { abs($0 - 2 * $1) }.max()!
                XCTAssertLessThanOrEqual(
                    repeatedError, 1e-5 * scale,
                    "\(type.name).\(spec.name): repeated tokens in a batch must accumulate")
                XCTAssertLessThanOrEqual(
                    accumulateError, 1e-6 * scale,
                    "\(type.name).\(spec.name): backward must accumulate (+=) into the gradient, not overwrite it")
            }
        }
    }

    /// Frozen tensors have no gradient buffer (nil): backward must not touch them, and after a simulated SGD step on
    /// the trainable tensors the frozen ones are bit-identical. Passing nil for *every* gradient (a trainer freezing
    /// a trainable tensor) must not crash either.
    func testFrozenTensorsReceiveNoGradientAndStayUnchanged() throws {
        try forEachStrategy { type in
            let h = Harness(try make(type))
            for (spec, g) in zip(h.specs, h.gradients) {
                XCTAssertEqual(g == nil, !spec.trainable, "\(type.name).\(spec.name)")
            }
            let before = h.snapshot()
            let outBefore = h.forward(Fixture.tokens)
            h.zeroGradients()
            h.backward(dout: uniformVector(count: Fixture.tokens.count * h.dModel, seed: 3), tokens: Fixture.tokens)
            // SGD: θ ← θ − lr·g on trainable tensors only, as an optimizer would.
            for (i, spec) in h.specs.enumerated() where spec.trainable {
                for j in 0..<spec.count { h.values[i][j] -= 0.1 * h.gradients[i]![j] }
            }
            let after = h.snapshot()
            for (i, spec) in h.specs.enumerated() where !spec.trainable {
                XCTAssertEqual(bits(after[i]), bits(before[i]), "\(type.name).\(spec.name): a frozen tensor changed")
            }
            let outAfter = h.forward(Fixture.tokens)
            XCTAssertTrue(outAfter.allSatisfy(\.isFinite), type.name)
            let trains = h.specs.contains(where: \.trainable)
            XCTAssertEqual(
                bits(outAfter) != bits(outBefore), trains,
                "\(type.name): output should change after an update iff something is trainable")

            let noGrads = Harness(try make(type), withGradients: false)
            let frozenBefore = noGrads.snapshot()
            noGrads.backward(dout: uniformVector(count: Fixture.tokens.count * h.dModel, seed: 3), tokens: Fixture.tokens)
            XCTAssertEqual(noGrads.snapshot().map(bits), frozenBefore.map(bits), "\(type.name): backward changed values")
        }
    }

    // MARK: - Options

    func testUnknownOptionKeyListsTheValidKeys() throws {
        try forEachStrategy { type in
            let valid = StrategyRegistry.defaultOptions(of: type).keys.sorted()
            XCTAssertThrowsError(try make(type, options: ["no_such_option": 1]), type.name) { error in
                guard case let StrategyError.unknownOption(strategy, key, listed) = error else {
                    return XCTFail("\(type.name): expected unknownOption, got \(error)")
                }
                XCTAssertEqual(strategy, type.name)
                XCTAssertEqual(key, "no_such_option")
                XCTAssertEqual(listed.sorted(), valid)
                for k in valid { XCTAssertTrue("\(error)".contains(k), "\(type.name): message should list '\(k)': \(error)") }
            }
            // A near miss suggests the intended key.
            if let key = valid.first(where: { $0.count >= 4 }) {
                let typo = String(key.dropLast())
                XCTAssertThrowsError(try make(type, options: [typo: 1])) { error in
                    XCTAssertTrue("\(error)".contains("Did you mean '\(key)'"), "\(type.name): \(error)")
                }
            }
        }
    }

    func testBadOptionValuesAreErrorsNamingTheKey() throws {
        try forEachStrategy { type in
            for (key, value) in StrategyRegistry.defaultOptions(of: type) {
                // A value of the wrong shape (an object) for every key.
                XCTAssertThrowsError(try make(type, options: [key: ["nested": 1]])) { error in
                    guard case let StrategyError.invalidOption(_, k, _) = error else {
                        return XCTFail("\(type.name).\(key): expected invalidOption, got \(error)")
                    }
                    XCTAssertEqual(k, key, "\(type.name): \(error)")
                }
                // A value that is not JSON at all must be an error, not a crash.
                XCTAssertThrowsError(try make(type, options: [key: Date()]), "\(type.name).\(key)")
                // An unknown string for an enum-like option (a closed set of values) lists the valid values.
                // Free-form strings (e.g. transplant's checkpoint path) are checked by their strategy's own tests.
                if value is String, StrategyRegistry.optionChoices(of: type)[key] != nil {
                    XCTAssertThrowsError(try make(type, options: [key: "definitely-not-valid"])) { error in
                        XCTAssertTrue("\(error)".contains(key) && "\(error)".contains("expected one of"), "\(type.name): \(error)")
                    }
                }
            }
        }
    }
}
