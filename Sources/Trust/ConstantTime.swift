// Comparing secrets without leaking where they differ: every byte is looked at whatever the earlier ones were,
// and the differences are OR-ed together, so the time depends only on the lengths (which are public: tokens have a
// fixed length).

/// Byte comparison whose running time does not depend on the contents, for every token check.
public enum ConstantTime {
    /// True when `a` and `b` hold the same bytes. Different lengths are unequal (and answered at once: lengths are
    /// not secret).
    public static func isEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return isZero(difference)
    }

    /// Turns the accumulated difference into a Bool without a data-dependent early exit.
    @inline(never)
    private static func isZero(_ difference: UInt8) -> Bool {
        // (difference - 1) has its top bit set (as a 16-bit value) exactly when difference was 0.
        (UInt16(difference) &- 1) >> 15 == 1
    }
}
