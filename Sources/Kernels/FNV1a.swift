/// FNV-1a, 64 bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3): the project's one stable hash of bytes
/// (tensor stream ids, config hashes, vocabulary fingerprints, hashed n-grams). Swift's `hashValue` is randomised per
/// process and must never be used for anything that is stored or seeds a stream.
public enum FNV1a {
    public static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01B3

    public static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h = offsetBasis
        for b in bytes { h = (h ^ UInt64(b)) &* prime }
        return h
    }
}
