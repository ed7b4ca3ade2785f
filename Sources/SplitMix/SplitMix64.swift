// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): the state is
// one 64-bit counter advanced by the golden-ratio constant, and each output is that counter passed through a
// 64-bit finalizer (two xor-shift-multiply rounds). It is what Java's `SplittableRandom` and the xoshiro authors use
// to seed, passes BigCrush, costs a handful of cycles, and keeps 8 bytes of state, so every sensor of every
// simulated device can own a stream of its own: adding a sensor does not change the readings of the others.
//
// Streams are derived, never shared: `SplitMix64(seed:)` of a value made with `mix(_:_:)` from the run's seed, the
// device id's hash and a sensor number. The same inputs give the same stream on every platform and every run.

/// A small, fast, seedable random number generator: the only randomness in the simulator, and the one generator
/// the tests and benchmarks seed (a module of its own so that they share it without depending on the simulator).
public struct SplitMix64: RandomNumberGenerator, Equatable, Sendable {
    /// The counter; each output advances it by the golden-ratio increment.
    private var state: UInt64

    /// A stream that starts from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.finalize(state)
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Double in `range`.
    @inline(__always)
    public mutating func nextDouble(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnit()
    }

    /// An approximately standard normal value: the sum of four uniform 16-bit fractions (Irwin–Hall, n = 4), centred
    /// and scaled to unit variance.
    ///
    /// One 64-bit draw and no transcendental function, so noise costs a few nanoseconds per reading. The tails stop
    /// at ±2√3 ≈ ±3.46 standard deviations, which suits sensor noise: a real ADC does not produce 6-sigma outliers
    /// either, and bounded noise keeps the plausibility checks of the models exact.
    @inline(__always)
    public mutating func nextGaussian() -> Double {
        let bits = next()
        let sum = (bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48)
        // Each fraction is (x + 0.5) / 65536, uniform on (0, 1) with mean 1/2 and variance ≈ 1/12; four of them
        // have mean 2 and variance 1/3.
        let total = (Double(sum) + 2.0) * 0x1.0p-16
        return (total - 2.0) * 1.7320508075688772  // √3
    }

    /// The SplitMix64 output function: a bijective 64-bit mixer.
    @inline(__always)
    public static func finalize(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed for a derived stream: `a` and `b` mixed so that neighbouring inputs give unrelated streams.
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        finalize(finalize(a &+ 0x9E37_79B9_7F4A_7C15) ^ b)
    }

    /// A 64-bit FNV-1a hash of `text`'s UTF-8 bytes, finalized: how a device id becomes part of a seed, so a
    /// device's readings depend on its name and the run's seed, not on its position in the fleet.
    public static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return finalize(hash)
    }
}
