/// An HTTP version as it appears on the start line: `HTTP/<major>.<minor>`, one digit each.
///
/// The parsers accept major version 1 only (any other is answered with 505); a minor version above 1 is treated
/// like 1.1, as RFC 9110 §2.5 asks.
public struct HTTPVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The digit before the dot.
    public var major: Int
    /// The digit after the dot.
    public var minor: Int

    /// A version from its two digits.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `HTTP/1.0`: persistent only with `Connection: keep-alive`, no chunked responses.
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// `HTTP/1.1`: persistent unless `Connection: close`.
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// Whether the version is 1.1 or later (persistence by default, `Host` required, `Expect` honoured).
    public var isAtLeastHTTP1_1: Bool { self >= .http1_1 }

    /// The version as it appears on the wire, e.g. `HTTP/1.1`.
    public var description: String { "HTTP/\(major).\(minor)" }

    /// Orders by major, then minor version.
    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}
