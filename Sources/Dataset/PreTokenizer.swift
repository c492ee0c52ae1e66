/// GPT-2-style pre-tokenizer over raw bytes: cuts text into chunks; BPE merges never cross a chunk boundary.
///
/// Byte classes:
/// - **letter**: `A–Z`, `a–z`, and every byte ≥ 0x80 (so a UTF-8 encoded non-ASCII character always stays inside
///   one chunk together with the letters around it);
/// - **digit**: `0–9`;
/// - **space**: 0x20; **other whitespace**: `\t \n \v \f \r` (0x09–0x0D);
/// - **punctuation**: every other byte (ASCII symbols and control bytes).
///
/// Rules, applied left to right at the current position `i`:
/// 1. a space followed by a letter, digit or punctuation byte starts a chunk: the space plus the maximal run of
///    that byte's class (`" word"`, `" 123"`, `" --"`) — a leading space attaches to the following word;
/// 2. otherwise a whitespace byte starts a maximal whitespace run (spaces and other whitespace mixed); if the run
///    is followed by a non-whitespace byte and its last byte is a space, that last space is left for rule 1
///    (`"\n  Hi"` → `"\n "`, `" Hi"`), as GPT-2's `\s+(?!\S)` does;
/// 3. otherwise the chunk is the maximal run of the class of `bytes[i]` (letters, digits or punctuation).
///
/// No contractions are special-cased: an apostrophe is punctuation (`"o'er"` → `"o"`, `"'"`, `"er"`).
/// The chunks partition the input exactly, so concatenating them gives the input back.
public enum PreTokenizer {
    public static let description =
        "ablate-bytes-v1: classes letter=[A-Za-z]|>=0x80, digit=[0-9], space=0x20, ws=0x09-0x0D, punct=rest; "
        + "' '+run(letter|digit|punct) | whitespace run (last space left to the next word if one follows) | run of one class"

    @usableFromInline static let classTable: [UInt8] = (0..<256).map { b -> UInt8 in
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x80...0xFF: return 0  // letter
        case 0x30...0x39: return 1  // digit
        case 0x20: return 3  // space
        case 0x09...0x0D: return 4  // other whitespace
        default: return 2  // punctuation
        }
    }

    /// Calls `body` with each chunk's range, in order.
    @inlinable
    public static func forEachChunk(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let n = bytes.count
        classTable.withUnsafeBufferPointer { cls in
            var i = 0
            while i < n {
                let c = cls[Int(bytes[i])]
                var j = i + 1
                if c == 3 && j < n && cls[Int(bytes[j])] < 3 {
                    // Rule 1: " " + run of the next byte's class.
                    let k = cls[Int(bytes[j])]
                    j += 1
                    while j < n && cls[Int(bytes[j])] == k { j += 1 }
                } else if c >= 3 {
                    // Rule 2: whitespace run, leaving a final space to the following word.
                    while j < n && cls[Int(bytes[j])] >= 3 { j += 1 }
                    if j < n && j - i >= 2 && bytes[j - 1] == 0x20 { j -= 1 }
                } else {
                    // Rule 3: run of one class.
                    while j < n && cls[Int(bytes[j])] == c { j += 1 }
                }
                body(i..<j)
                i = j
            }
        }
    }

    /// The chunks of `bytes` (for tests and inspection).
    public static func chunks(_ bytes: [UInt8]) -> [[UInt8]] {
        var out = [[UInt8]]()
        bytes.withUnsafeBufferPointer { buf in forEachChunk(buf) { out.append(Array(buf[$0])) } }
        return out
    }

    public static func chunks(_ text: String) -> [String] {
        chunks(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }
}
