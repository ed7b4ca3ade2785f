// Per-device tokens without a database: token = HMAC-SHA256(fleet key, UTF-8 bytes of the device id), sent as 64
// lower-case hex digits. Whoever holds the fleet key can compute any device's token (the collector, `collector
// token`, a provisioning script: `hmac.new(key, device.encode(), hashlib.sha256).hexdigest()` in Python gives the
// same text); a device holds only its own token, which says nothing about the key or other devices' tokens.
// The same key also gives each device a TLS pre-shared key, domain-separated from the token (DevicePSK.swift).

/// The one secret every device token is derived from.
public struct FleetKey: Sendable {
    /// Shortest key accepted: 128 bits.
    public static let minimumByteCount = 16

    private let keyed: HMACSHA256

    /// A key of at least `minimumByteCount` bytes.
    public init(_ bytes: [UInt8]) throws(TrustError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw TrustError("the fleet key has \(bytes.count) bytes; at least \(Self.minimumByteCount) are needed")
        }
        keyed = HMACSHA256(key: bytes)
    }

    /// The token of device `deviceID`.
    public func token(for deviceID: String) -> DeviceToken {
        DeviceToken(bytes: keyed.authenticationCode(for: deviceID))
    }

    /// HMAC-SHA256(fleet key, `message`), for the other derivations (DevicePSK.swift).
    func macWithKey(_ message: [UInt8]) -> [UInt8] {
        keyed.authenticationCode(for: message)
    }
}

/// A device's 32-byte token. Its description never shows the secret; `hex` is the text a device sends.
public struct DeviceToken: Hashable, Sendable, CustomStringConvertible {
    /// Bytes in a token.
    public static let byteCount = HMACSHA256.byteCount

    /// The token's bytes.
    public let bytes: [UInt8]

    /// A token from its bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A token from its 64-digit hex text (either case); nil when the text is not exactly that.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == Self.byteCount * 2, let bytes = Hex.decode(hex) else { return nil }
        self.bytes = bytes
    }

    /// The token as 64 lower-case hex digits.
    public var hex: String { Hex.encode(bytes) }

    /// True when `other` is this token, compared in constant time.
    public func matches(_ other: DeviceToken) -> Bool { ConstantTime.isEqual(bytes, other.bytes) }

    /// Redacted: a token interpolated into a log line or an error must not leak.
    public var description: String { "DeviceToken(redacted)" }
}

/// Why a key or token could not be used. Messages name files and lengths, never contents.
public struct TrustError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, naming files and lengths, never key or token contents.
    public var description: String

    /// A refusal with its message, which must not quote a key or token.
    public init(_ description: String) { self.description = description }
}
