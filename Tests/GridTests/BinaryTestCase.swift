import Foundation
import TestSupport
import XCTest

/// Runs the built `ablate` binary in a fresh temp folder (its ABLATE_HOME inside it), with the small generated
/// corpus `tiny.txt` and tiny grids: the helpers of the grid process and bad-input tests. Skipped if `ablate` is not built.
class BinaryTestCase: XCTestCase {
    var tmp: URL!
    var binary: AblateBinary!

    override func setUpWithError() throws {
        guard let b = AblateBinary.find() else {
            throw XCTSkip("the ablate binary is not built next to the tests (swift build --build-tests builds it)")
        }
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-grid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        binary = AblateBinary(url: b, folder: tmp)
        try TinyCorpus.write(to: tmp.appendingPathComponent("tiny.txt"))
    }

    override func tearDownWithError() throws { if let tmp { try? FileManager.default.removeItem(at: tmp) } }

    func writeGrid(_ name: String, steps: Int = 40, axes: String, extra: String = "") throws -> String {
        let path = tmp.appendingPathComponent("\(name).yaml").path
        try """
        name: \(name)
        base: {corpus: \(tmp.path)/tiny.txt, vocab_size: 256, context_length: 16, batch_size: 4, d_model: 16, n_layer: 1, n_head: 2,
               max_steps: \(steps), warmup_steps: 3, learning_rate: 3e-3, eval_interval: 10, eval_batches: 2, final_eval_batches: 2,
               log_interval: 5, checkpoint_interval: 10}
        axes:
        \(axes)
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `ablate args…` in the temp dir and waits, at most `timeout` seconds.
    @discardableResult
    func ablate(_ args: [String], timeout: Double = 120, fileSizeLimitKB: Int? = nil) throws -> AblateBinary.Result {
        try binary.run(args, timeout: timeout, fileSizeLimitKB: fileSizeLimitKB)
    }

    func start(_ args: [String], fileSizeLimitKB: Int? = nil) throws -> (Process, Pipe) {
        try binary.start(args, fileSizeLimitKB: fileSizeLimitKB)
    }

    func runFolder(_ grid: String, _ id: String, root: String = "runs") -> URL {
        tmp.appendingPathComponent(root).appendingPathComponent(grid).appendingPathComponent(id)
    }
}
