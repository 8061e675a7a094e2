// The one seeded random generator of gar: the sampler (Models), RANSAC in the tracker
// (Tracking) and the synthetic inputs of `gar bench model` (Pipeline) all draw from it.

/// SplitMix64: a small, fast, well-mixed 64-bit generator (Steele, Lea, Flood 2014). Deterministic
/// for a seed on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform Double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
