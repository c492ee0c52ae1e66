import Kernels
import Model
import Trainer
import XCTest

/// The benchmark's profile pass (`ablate bench --profile`), on a tiny shape.
final class TrainingBenchmarkTests: XCTestCase {
    private let savedThreads = BLAS.threads
    override func tearDown() { BLAS.setThreads(savedThreads) }

    static let tiny = TrainingBenchmark.Shape(
        name: "tiny", vocab: 300, dModel: 16, layers: 1, heads: 2, context: 8, batch: 4, origin: "test")

    /// Profiled steps train exactly as unprofiled ones (parameters and both AdamW moments bit-identical); every
    /// category of the step is called; on one thread the categories, which never nest, add up to no more than the
    /// step's wall time on the same clock (an invariant, not a timing: disjoint intervals inside one interval); the
    /// evaluation is timed apart and the model's profile removed afterwards.
    func testProfileCoversTheStepAndChangesNothing() throws {
        let plain = try TrainingBenchmark.makeTrainer(shape: Self.tiny, threads: 1, steps: 4)
        let profiled = try TrainingBenchmark.makeTrainer(shape: Self.tiny, threads: 1, steps: 4)
        for s in 0..<2 {
            TrainingBenchmark.step(plain, s)
            TrainingBenchmark.step(profiled, s)
        }
        let profile = TrainingBenchmark.profile(trainer: profiled, from: 2, steps: 2)
        for s in 2..<4 { TrainingBenchmark.step(plain, s) }

        func bits(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> [UInt32] { UnsafeBufferPointer(start: p, count: count).map(\.bitPattern) }
        let store = plain.model.store
        XCTAssertEqual(bits(profiled.model.store.values, store.totalCount), bits(store.values, store.totalCount))
        XCTAssertEqual(bits(profiled.optimizer.m, plain.optimizer.count), bits(plain.optimizer.m, plain.optimizer.count))
        XCTAssertEqual(bits(profiled.optimizer.v, plain.optimizer.count), bits(plain.optimizer.v, plain.optimizer.count))

        XCTAssertEqual(profile.steps, 2)
        XCTAssertEqual(profile.threads, 1)
        XCTAssertEqual(profile.shards, TrainConfig.defaultBatchShards)
        for total in profile.totals { XCTAssertGreaterThan(total.calls, 0, "\(total.category) never called") }
        XCTAssertLessThanOrEqual(profile.attributedNanoseconds, profile.stepNanoseconds)
        XCTAssertEqual(profile.evaluationBatches, 2)
        XCTAssertEqual(profile.tokensPerBatch, 4 * 8)
        XCTAssertGreaterThan(profile.evaluationNanoseconds, 0)
        XCTAssertNil(profiled.model.profile)
    }

    /// `ablate bench` makes ablate's worker and PyTorch take turns at the gate: one before each timed window and one
    /// after the last (before the profile), so `windows + 1` in all, and the result covers the windows timed.
    func testTheGateOpensBeforeEachWindowAndAfterTheLast() throws {
        var gates = 0
        let r = try TrainingBenchmark.run(shape: Self.tiny, threads: 1, steps: 2, windows: 3, profileSteps: 1) { gates += 1 }
        XCTAssertEqual(gates, 4)
        XCTAssertEqual(r.windows, 3)
        XCTAssertNotNil(r.profile)
    }

    /// Windows grow until the cell times `minSeconds` (rounded up to whole windows), within [requested, limit].
    func testShortWindowsGetMoreOfThem() {
        func count(_ perStep: Double, requested: Int = 3, minSeconds: Double = 1.5) -> Int {
            TrainingBenchmark.windowCount(requested: requested, steps: 6, secondsPerStep: perStep, minSeconds: minSeconds, limit: 15)
        }
        XCTAssertEqual(count(0.1), 3)  // 3 × 0.6 s ≥ 1.5 s already
        XCTAssertEqual(count(0.05), 5)  // 0.3 s per window: 1.5 / 0.3 = 5
        XCTAssertEqual(count(0.04), 7)  // 0.24 s per window: 6.25 → 7
        XCTAssertEqual(count(0.005), 15)  // 50 would be needed: the limit
        XCTAssertEqual(count(0.005, requested: 20), 20)  // never fewer than asked
        XCTAssertEqual(count(0.005, minSeconds: 0), 3)
        XCTAssertEqual(count(0), 3)  // a step too fast to time: as asked
    }

    /// Each kind of product's speed is its model FLOPs (6·V·d for the head, 72·d²·L for the block Linear layers,
    /// 12·L·d·T for attention, per token) over its time in the profile at the sgemm peak; at 2 threads the time is
    /// thread time, set against each thread's half of the peak; a kind the profile never timed is left out.
    func testProductEfficienciesAreFLOPsOverTimeAtThePeak() throws {
        var r = try TrainingBenchmark.run(shape: Self.tiny, threads: 1, steps: 1, profileSteps: 1)
        r.sgemmPeakGFLOPS = 100
        r.profile!.steps = 10
        let tokens = Double(4 * 8 * 10)
        /// Nanoseconds that `flopsPerToken` over the profile's tokens take at `efficiency` of a 100 GFLOP/s peak.
        func ns(_ flopsPerToken: Double, _ efficiency: Double) -> UInt64 { UInt64((flopsPerToken * tokens / (efficiency * 100)).rounded()) }
        let head = 6.0 * 300 * 16, linear = 72.0 * 16 * 16 * 1
        let times: [StepProfile.Category: UInt64] = [
            .headForward: ns(head, 0.8) / 3, .headBackward: ns(head, 0.8) - ns(head, 0.8) / 3,
            .linearForward: ns(linear, 0.5), .linearBackward: 0, .attentionForward: 0, .attentionBackward: 0,
        ]
        for i in r.profile!.totals.indices {
            if let t = times[r.profile!.totals[i].category] { r.profile!.totals[i].nanoseconds = t }
        }
        func efficiencies() -> [TrainingBenchmark.ProductKind: Double] {
            Dictionary(uniqueKeysWithValues: TrainingBenchmark.productEfficiencies(r)!.map { ($0.kind, $0.efficiency) })
        }
        var e = efficiencies()
        XCTAssertEqual(Set(e.keys), [.head, .blockLinear])  // attention was never timed here
        // Within the rounding of the times to whole nanoseconds (≤ 0.5 ns of ≥ 10⁵ ns).
        XCTAssertEqual(e[.head]!, 0.8, accuracy: 1e-5)
        XCTAssertEqual(e[.blockLinear]!, 0.5, accuracy: 1e-5)
        r.profile!.threads = 2  // the same thread time against half the (threaded) peak per thread
        e = efficiencies()
        XCTAssertEqual(e[.head]!, 1.6, accuracy: 2e-5)
        XCTAssertEqual(e[.blockLinear]!, 1.0, accuracy: 2e-5)
        r.profile = nil
        XCTAssertNil(TrainingBenchmark.productEfficiencies(r))
    }

    /// A missed target never prints as reached: more decimals until the printed value is below the target, then a
    /// cut instead of rounding, and "<" with the target for a miss no print can show.
    func testFormattedNeverShowsAMissAsMet() {
        func f(_ value: Double, _ target: Double, _ decimals: Int, scale: Double = 1) -> String {
            TrainingBenchmark.formatted(value, against: target, decimals: decimals, scale: scale)
        }
        XCTAssertEqual(f(74.6, 75, 0), "74.6")  // "75" would read as met
        XCTAssertEqual(f(74.4, 75, 0), "74")
        XCTAssertEqual(f(75.2, 75, 0), "75")  // met: whole per cent as usual
        XCTAssertEqual(f(76.0, 75, 0), "76")
        XCTAssertEqual(f(1.297, 1.3, 2), "1.297")
        XCTAssertEqual(f(1.2999, 1.3, 2), "1.2999")
        XCTAssertEqual(f(1.29, 1.3, 2), "1.29")
        XCTAssertEqual(f(1.31, 1.3, 2), "1.31")
        XCTAssertEqual(f(74.99999, 75, 0), "74.999")  // three more decimals, then cut
        XCTAssertEqual(f(0.746, 0.75, 0, scale: 100), "74.6")  // an MFU fraction printed in per cent
        // One ulp below 0.8: 100 × it rounds to exactly 80, which no number of decimals can show below 80.
        XCTAssertEqual(f(0.8.nextDown, 0.8, 0, scale: 100), "<80")
        XCTAssertEqual(f(0.8, 0.8, 0, scale: 100), "80")
        XCTAssertEqual(f(0.75.nextDown, 0.75, 0, scale: 100), "74.999")  // 74.99999999999999: cut
    }
}
