// Comparing secrets without leaking where they differ: libcrypto's CRYPTO_memcmp looks at every byte whatever the
// earlier ones were and ORs the differences together, so the time depends only on the lengths (which are public:
// tokens have a fixed length). It answers 0 for equal bytes and something else otherwise, not an ordering.

internal import COpenSSL

/// Byte comparison whose running time does not depend on the contents, for every token check.
public enum ConstantTime {
    /// True when `a` and `b` hold the same bytes. Different lengths are unequal (and answered at once: lengths are
    /// not secret).
    public static func isEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { left in
            b.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0 }
        }
    }
}
