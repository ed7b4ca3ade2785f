/// `count` readings that the chunk codec cannot shrink much (irregular times, values on no decimal grid): about
/// 10 bytes each on disk, for tests that need a batch to be large in the file, not only in readings.
func incompressibleReadings(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [(Int64, Double)] {
    var state = seed
    var ts: Int64 = 0
    return (0..<count).map { _ in
        // SplitMix64 steps: good enough to defeat the delta and XOR encodings.
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        ts += 1 + Int64(mixed & 0xFFFF)
        return (ts, Double(mixed >> 11) / Double(1 << 53))
    }
}
