/// Fixed RNG stream ids, so that strategies' random draws never overlap the model's (see `Xoshiro256(seed:stream:)`).
public enum EmbeddingStreams {
    public static let table: UInt64 = 0xE1
    public static let projection: UInt64 = 0xE2
    public static let hashing: UInt64 = 0xE3
}
