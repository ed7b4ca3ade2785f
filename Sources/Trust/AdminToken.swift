// The operator's credential for the read API, the dashboard and (by default) /metrics. It is a different secret
// from the fleet key: a leaked dashboard token cannot forge telemetry, and no device token can read.

/// The admin token, compared in constant time against what a request presents.
public struct AdminToken: Sendable, CustomStringConvertible {
    /// Shortest token accepted: 16 characters.
    public static let minimumByteCount = 16

    private let bytes: [UInt8]

    /// A token of at least `minimumByteCount` visible ASCII characters (it travels in a header and a URL query).
    public init(_ bytes: [UInt8]) throws(TrustError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw TrustError("the admin token has \(bytes.count) bytes; at least \(Self.minimumByteCount) are needed")
        }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw TrustError("the admin token must be visible ASCII characters without spaces")
        }
        self.bytes = bytes
    }

    /// True when `presented` is the admin token (constant time for tokens of the right length).
    public func matches(_ presented: some StringProtocol) -> Bool {
        ConstantTime.isEqual(Array(presented.utf8), bytes)
    }

    /// Redacted, like every secret.
    public var description: String { "AdminToken(redacted)" }
}
