/// Learns byte-level BPE merges, incrementally (the way fast BPE trainers do it):
///
/// 1. pre-split the text into chunks (`PreTokenizer`) and count each unique chunk once;
/// 2. count every adjacent pair of symbols over the unique chunks (weighted by chunk count) and keep an index
///    pair → chunks that contain it;
/// 3. repeatedly take the most frequent pair from a max-heap — ties broken by the **smallest (left id, right id)**
///    — give it the next id (256, 257, …), rewrite only the chunks that contain it (each occurrence merged left
///    to right, non-overlapping) and update the counts of the pairs in those chunks only.
///
/// Heap entries are checked lazily: a pair's count only ever goes down after it enters the heap (new pairs always
/// involve the new token), so an entry whose stored count is stale is re-pushed with its true count, and the
/// first entry whose count is current is the true maximum under the tie rule. Deterministic by construction.
/// Training stops at the requested vocabulary size, or earlier when no pair is left (every chunk is one token).
struct BPETrainer {
    private var words: [[Int32]] = []
    private var freq: [Int] = []
    private var pairCount: [UInt64: Int] = [:]
    private var pairWords: [UInt64: [Int32]] = [:]
    private var heap = PairHeap()

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }

    /// Returns the merges (left id, right id) in order; merge `i` creates token `256 + i`.
    static func learn(bytes: [UInt8], vocabSize: Int) -> [(Int32, Int32)] {
        var t = BPETrainer()
        t.countChunks(bytes)
        t.countPairs()
        return t.run(merges: vocabSize - 256)
    }

    private mutating func countChunks(_ bytes: [UInt8]) {
        var counts = [ArraySlice<UInt8>: Int]()
        bytes.withUnsafeBufferPointer { buf in
            PreTokenizer.forEachChunk(buf) { r in counts[bytes[r], default: 0] += 1 }
        }
        // Sorted so that the chunk order (and thus every list below) is the same on every run.
        let sorted = counts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        words.reserveCapacity(sorted.count); freq.reserveCapacity(sorted.count)
        for (chunk, n) in sorted {
            words.append(chunk.map { Int32($0) })
            freq.append(n)
        }
    }

    private mutating func countPairs() {
        for (w, syms) in words.enumerated() where syms.count > 1 {
            let f = freq[w]
            for i in 0..<(syms.count - 1) {
                let k = Self.key(syms[i], syms[i + 1])
                pairCount[k, default: 0] += f
                pairWords[k, default: []].append(Int32(w))
            }
        }
        for (k, c) in pairCount { heap.push(count: c, key: k) }
    }

    private mutating func run(merges target: Int) -> [(Int32, Int32)] {
        var merges = [(Int32, Int32)]()
        merges.reserveCapacity(max(0, target))
        var stamp = [Int32](repeating: -1, count: words.count)
        while merges.count < target, let top = heap.pop() {
            let current = pairCount[top.key] ?? 0
            if current != top.count {
                if current > 0 { heap.push(count: current, key: top.key) }
                continue
            }
            let a = Int32(truncatingIfNeeded: top.key >> 32), b = Int32(truncatingIfNeeded: top.key & 0xffff_ffff)
            let z = Int32(256 + merges.count)
            merges.append((a, b))
            let list = pairWords.removeValue(forKey: top.key) ?? []
            var touched = [UInt64]()
            for w32 in list {
                let w = Int(w32)
                if stamp[w] == z { continue }
                stamp[w] = z
                let old = words[w]
                // Merge every occurrence of (a, b), left to right.
                var new = [Int32]()
                new.reserveCapacity(old.count)
                var i = 0, changed = false
                while i < old.count {
                    if i + 1 < old.count && old[i] == a && old[i + 1] == b {
                        new.append(z); i += 2; changed = true
                    } else {
                        new.append(old[i]); i += 1
                    }
                }
                if !changed { continue }  // a stale index entry
                let f = freq[w]
                for i in 0..<(old.count - 1) {
                    let k = Self.key(old[i], old[i + 1])
                    let c = pairCount[k]! - f
                    if c == 0 { pairCount.removeValue(forKey: k) } else { pairCount[k] = c }
                }
                if new.count > 1 {
                    for i in 0..<(new.count - 1) {
                        let k = Self.key(new[i], new[i + 1])
                        pairCount[k, default: 0] += f
                        if new[i] == z || new[i + 1] == z {
                            pairWords[k, default: []].append(w32)
                            touched.append(k)
                        }
                    }
                }
                words[w] = new
            }
            pairCount.removeValue(forKey: top.key)
            // Push each new pair once, with its final count.
            touched.sort()
            var last: UInt64? = nil
            for k in touched where k != last {
                last = k
                if let c = pairCount[k], c > 0 { heap.push(count: c, key: k) }
            }
        }
        return merges
    }
}

/// Binary max-heap of (count, pair key): larger count first, then smaller key = smaller (left id, right id).
struct PairHeap {
    private var items: [(count: Int, key: UInt64)] = []

    @inline(__always) private func above(_ x: (count: Int, key: UInt64), _ y: (count: Int, key: UInt64)) -> Bool {
        x.count != y.count ? x.count > y.count : x.key < y.key
    }

    var isEmpty: Bool { items.isEmpty }

    mutating func push(count: Int, key: UInt64) {
        items.append((count, key))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if above(items[i], items[p]) { items.swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop() -> (count: Int, key: UInt64)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && above(items[l], items[m]) { m = l }
                if r < items.count && above(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m); i = m
            }
        }
        return top
    }
}
