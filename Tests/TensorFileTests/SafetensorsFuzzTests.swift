import Foundation
import TensorFile
import TestSupport
import XCTest

/// Safetensors.decode reads files from disk (checkpoints, snapshots, transplanted tables): whatever the bytes,
/// it must return tensors consistent with their shapes or throw — never trap. Seeded random mutations of a valid
/// file: header bytes, the header length, and the numbers and strings of every entry.
final class SafetensorsFuzzTests: XCTestCase {
    static func valid(dtype: Safetensors.DType) -> Data {
        let a = (0..<12).map { Float($0) * 0.5 }, b = (0..<6).map { -Float($0) }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                Safetensors.encode([("embedding.wte", [3, 4], pa), ("lm_head.weight", [6], pb)], metadata: ["step": "3"], dtype: dtype)
            }
        }
    }

    /// Numbers a mutation puts into a shape or offsets: edge values, signs, overflowing products.
    static let numbers: [Int] = [
        0, 1, 2, 3, 4, 5, 6, 12, 24, 48, 96, -1, -2, -4, 1 << 31, 1 << 32, 1 << 62, -(1 << 62),
        Int.max, Int.min, Int.max / 4, 3_037_000_500,
    ]

    func mutate(_ data: Data, _ rng: inout SplitMix64) -> Data {
        var d = data
        let n = Int(d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        switch rng.below(6) {
        case 0:  // random bytes anywhere in the header (or its length field)
            for _ in 0...rng.below(4) { d[rng.below(8 + n)] = UInt8(truncatingIfNeeded: rng.next()) }
        case 1:  // the header length
            let len: UInt64 = rng.pick([0, 1, 7, UInt64(n - 1), UInt64(n + 1), UInt64(d.count), UInt64(d.count - 8), UInt64.max, 1 << 63, rng.next()])
            withUnsafeBytes(of: len.littleEndian) { d.replaceSubrange(0..<8, with: $0) }
        case 2:  // truncation
            d = d.prefix(rng.below(d.count + 1))
        default:  // structured: rewrite one entry's shape, offsets or dtype in the JSON header
            guard var header = try? JSONSerialization.jsonObject(with: d.subdata(in: 8..<(8 + n))) as? [String: Any] else { return d }
            let name = rng.pick(["embedding.wte", "lm_head.weight", "__metadata__"])
            var entry = header[name] as? [String: Any] ?? [:]
            switch rng.below(5) {
            case 0: entry["shape"] = (0..<rng.below(4)).map { _ in rng.pick(Self.numbers) }
            case 1: entry["data_offsets"] = (0..<rng.pick([2, 2, 2, 1, 3])).map { _ in rng.pick(Self.numbers) }
            case 2: entry["dtype"] = rng.pick(["F32", "F16", "BF16", "I64", "", "f32"])
            case 3: entry[rng.pick(["shape", "data_offsets", "dtype"])] = rng.pick([NSNull(), "x", 1.5, [1.5, 2], ["a"]] as [Any])
            default: header[name] = rng.pick([NSNull(), 7, "text", [1, 2]] as [Any])
            }
            if header[name] is [String: Any] || rng.below(2) == 0 { header[name] = entry }
            guard let h = try? JSONSerialization.data(withJSONObject: header) else { return d }
            var out = Data()
            withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(h)
            out.append(d.subdata(in: (8 + n)..<d.count))
            d = out
        }
        return d
    }

    func testRandomMutationsLoadOrThrowNeverTrap() throws {
        var rng = SplitMix64(2024)
        var loaded = 0, rejected = 0
        for i in 0..<4000 {
            let base = Self.valid(dtype: i % 2 == 0 ? .f32 : .f16)
            let mutated = mutate(base, &rng)
            do {
                let (tensors, _) = try Safetensors.decode(mutated, path: "fuzz-\(i)")
                for t in tensors {
                    XCTAssertTrue(t.shape.allSatisfy { $0 >= 0 }, "mutation \(i): \(t.shape)")
                    XCTAssertEqual(t.values.count, t.shape.reduce(1, *), "mutation \(i): \(t.name)")
                }
                loaded += 1
            } catch {
                XCTAssertTrue("\(error)".contains("fuzz-\(i)"), "mutation \(i): the message names the file: \(error)")
                rejected += 1
            }
        }
        // Both outcomes occur (a mutator that never broke the file, or never left it loadable, would test nothing).
        XCTAssertGreaterThan(loaded, 100)
        XCTAssertGreaterThan(rejected, 1000)
    }
}
