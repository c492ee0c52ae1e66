import Foundation
import Grid
import RunFormat
import Trainer
import XCTest

/// `max_train_bytes` in grid files: one budget per run, layers replace each other's budgets, conflicts are errors.
final class ByteBudgetGridTests: XCTestCase {
    static let base = "{preset: tiny, corpus: tiny.txt, context_length: 16, batch_size: 4, max_steps: 10, warmup_steps: 2}"

    func expand(_ text: String) throws -> [GridRun] { try GridExpansion.expand(try GridFile.parse(text, path: "g.yaml")) }

    func errors(_ text: String) -> [String] {
        do { _ = try expand(text); XCTFail("expected errors"); return [] } catch let e as GridFileError {
            return e.diagnostics.map(\.description)
        } catch { XCTFail("unexpected \(error)"); return [] }
    }

    /// A byte budget on a vocabulary axis: it replaces base's max_steps; its steps need each vocabulary's split.
    func testByteBudgetReplacesBaseStepsAndResolvesPerTokenizer() throws {
        let runs = try expand(
            """
            base: \(Self.base)
            axes:
              vocab_size: [256, 512]
              budget_kind: [{label: bytes, max_train_bytes: 38400}, {label: steps, max_steps: 7}]
            """)
        XCTAssertEqual(runs.count, 4)
        let bytes = runs.filter { $0.config.maxTrainBytes != nil }
        XCTAssertEqual(bytes.count, 2)
        for r in bytes {
            XCTAssertNil(r.config.maxSteps)
            XCTAssertEqual(r.totalSteps, 0, "unknown until the tokenizer's split is known")
            XCTAssertNil(GridPlan.flops(r))
            var resolved = r
            // 2 bytes per token, 64 tokens per step: 38400 / 128 = 300 steps.
            resolved.trainSplit = TrainSplit(tokens: 5000, bytes: 10_000)
            XCTAssertEqual(resolved.totalSteps, 300)
            let f = try XCTUnwrap(GridPlan.flops(resolved))
            XCTAssertEqual(f.steps, 300)
            XCTAssertEqual(f.flops, TrainingCost.flops(config: r.config, model: r.model, steps: 300))
        }
        let steps = runs.filter { $0.config.maxTrainBytes == nil }
        XCTAssertEqual(steps.map(\.totalSteps), [7, 7])
    }

    func testByteBudgetConflictsAreErrors() {
        XCTAssertEqual(
            errors(
                """
                base: \(Self.base)
                axes:
                  b: [{label: both, max_train_bytes: 1000, max_steps: 3}]
                """),
            [
                "g.yaml:3:38: 'max_train_bytes': max_train_bytes cannot be combined with max_steps: a run has one budget. Fix: keep max_train_bytes and remove max_steps (or set it to null), or drop max_train_bytes."
            ])
        let withBudget = errors(
            """
            base: {preset: tiny, corpus: tiny.txt, context_length: 16, batch_size: 4, max_train_bytes: 100000}
            axes:
              seed: [1, 2]
            budget: {tokens_per_parameter: 20}
            """)
        XCTAssertEqual(withBudget.count, 1)
        XCTAssertTrue(withBudget.first?.contains("'budget' sets max_tokens per run, but max_train_bytes is set too") ?? false, "\(withBudget)")
    }
}
