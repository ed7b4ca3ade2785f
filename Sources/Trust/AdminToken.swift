// The operator's credential for the read API, the dashboard and (by default) /metrics. It is a different secret
// from the fleet key: a leaked dashboard token cannot forge telemetry, and no device token can read.

/// The admin token, compared in constant time against what a request presents. Both sides are hashed first, so
/// the comparison is over 32 bytes whatever was presented and not even the token's length shows in the timing.
public struct AdminToken: Sendable, CustomStringConvertible {
    /// Shortest token accepted: 16 characters.
    public static let minimumByteCount = 16

    private let digest: [UInt8]

    /// A token of at least `minimumByteCount` visible ASCII characters (it travels in a header and a URL query).
    public init(_ bytes: [UInt8]) throws(TrustError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw TrustError("the admin token has \(bytes.count) bytes; at least \(Self.minimumByteCount) are needed")
        }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw TrustError("the admin token must be visible ASCII characters without spaces")
        }
        digest = SHA256.hash(bytes)
    }

    /// True when `presented` is the admin token.
    public func matches(_ presented: some StringProtocol) -> Bool {
        ConstantTime.isEqual(SHA256.hash(Array(presented.utf8)), digest)
    }

    /// Redacted, like every secret.
    public var description: String { "AdminToken(redacted)" }
}
