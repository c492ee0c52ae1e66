import Dataset
import Foundation
import TestSupport
import XCTest

/// A fresh temporary folder per test, removed afterwards.
func makeTempDir(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("ablate-dataset-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Deterministic English-like text: `lines` lines of words drawn from a small vocabulary.
func sampleText(lines: Int, seed: UInt64 = 1) -> String {
    let words = [
        "the", "king", "queen", "and", "of", "to", "my", "lord", "thou", "art", "so", "fair",
        "HAMLET.", "Enter", "Exit", "o'er", "'tis", "1599", "--", "love", "sweet", "night",
    ]
    var rng = SplitMix64(seed)
    var out = ""
    for _ in 0..<lines {
        let n = 3 + Int(rng.next() % 8)
        out += (0..<n).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
        out += rng.next() % 5 == 0 ? ",\n\n" : ".\n"
    }
    return out
}

func write(_ s: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(s.utf8).write(to: url)
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsDatasetError<T>(
    _ body: @autoclosure () throws -> T, _ check: (DatasetError) -> Bool,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { e in
        guard let d = e as? DatasetError else { return XCTFail("not a DatasetError: \(e)", file: file, line: line) }
        XCTAssertTrue(check(d), "unexpected error: \(d)", file: file, line: line)
    }
}
