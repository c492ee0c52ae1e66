import Foundation
import RunFormat

/// Encoded token streams on disk (`train.bin`, `val.bin`): a flat array of token ids, **no header**, each id
/// little-endian, `UInt16` when the vocabulary has at most 65,536 tokens (always, for V ≤ 32,768) and `UInt32`
/// otherwise. The token count is the file size divided by the width. `streams.json` beside the files records the
/// width, counts and the tokenizer's sha256, so stale streams are re-encoded. Read with NumPy as
/// `np.fromfile("train.bin", dtype="<u2")`.
public enum TokenStream {
    /// Bytes per token id for a vocabulary of `vocabSize` tokens.
    public static func width(vocabSize: Int) -> Int { vocabSize <= 65_536 ? 2 : 4 }

    public static func encode(_ tokens: [Int32], vocabSize: Int) -> Data {
        let w = width(vocabSize: vocabSize)
        var data = Data(count: tokens.count * w)
        data.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            if w == 2 {
                for (i, t) in tokens.enumerated() {
                    p.storeBytes(of: UInt16(truncatingIfNeeded: t).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            } else {
                for (i, t) in tokens.enumerated() { p.storeBytes(of: UInt32(bitPattern: t).littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            }
        }
        return data
    }

    public static func decode(_ data: Data, vocabSize: Int, path: String = "token stream") throws -> [Int32] {
        let w = width(vocabSize: vocabSize)
        guard data.count % w == 0 else {
            throw DatasetError.corruptCache(path: path, detail: "\(data.count) bytes is not a multiple of \(w)")
        }
        let n = data.count / w
        var out = [Int32](repeating: 0, count: n)
        var bad = -1
        data.withUnsafeBytes { raw in
            let p = raw.baseAddress!
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let v =
                        w == 2
                        ? Int32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        : Int32(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    if v < 0 || Int(v) >= vocabSize { bad = i; break }
                    o[i] = v
                }
            }
        }
        if bad >= 0 { throw DatasetError.corruptCache(path: path, detail: "token \(bad) is outside the vocabulary of \(vocabSize)") }
        return out
    }

    public static func write(_ tokens: [Int32], vocabSize: Int, to url: URL) throws {
        try AtomicWrite.write(encode(tokens, vocabSize: vocabSize), to: url)
    }

    public static func read(from url: URL, vocabSize: Int) throws -> [Int32] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.pathNotFound(url.path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError.io(path: url.path, detail: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, vocabSize: vocabSize, path: url.path)
    }
}
