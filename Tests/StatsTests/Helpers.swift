import Stats
import XCTest

/// |actual − expected| ≤ rel·max(|expected|, 1e-300) (absolute at 0): closed forms are checked to 1e-9 relative.
func assertClose(
    _ actual: Double?, _ expected: Double, rel: Double = 1e-9,
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let actual else { return XCTFail("nil, expected \(expected)", file: file, line: line) }
    let tol = rel * max(abs(expected), 1e-300)
    XCTAssert(abs(actual - expected) <= tol, "\(actual) vs expected \(expected) (rel tol \(rel))", file: file, line: line)
}

func assertClose(
    _ actual: [Double], _ expected: [Double], rel: Double = 1e-9,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, file: file, line: line)
    for (a, e) in zip(actual, expected) { assertClose(a, e, rel: rel, file: file, line: line) }
}

func assertThrows<T>(
    _ expected: StatsError, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> T
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? StatsError, expected, file: file, line: line)
    }
}
