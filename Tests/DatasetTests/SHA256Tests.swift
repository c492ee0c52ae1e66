import Dataset
import XCTest

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testIncrementalUpdatesMatchOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var s = SHA256()
        var i = 0
        for step in [1, 3, 60, 64, 65, 200, 7] { s.update(bytes[i..<min(i + step, bytes.count)]); i = min(i + step, bytes.count) }
        s.update(bytes[i...])
        XCTAssertEqual(s.finalizeHex(), SHA256.hex(bytes))
        XCTAssertEqual(SHA256.hex(Data(bytes)), SHA256.hex(bytes))
    }

    /// `Hex.lowercase` is what `String(format: "%02x")` gives, for every byte value and for a run of bytes.
    func testHexMatchesFormat() {
        for b in 0...255 { XCTAssertEqual(Hex.lowercase([UInt8(b)]), String(format: "%02x", b)) }
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        XCTAssertEqual(Hex.lowercase(bytes), bytes.map { String(format: "%02x", $0) }.joined())
        XCTAssertEqual(Hex.lowercase([UInt8]()), "")
    }
}
