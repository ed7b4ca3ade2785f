// Per-device TLS pre-shared keys, derived like the bearer tokens but domain-separated from them:
//
//     psk   = HMAC-SHA256(fleet key, "fleetwire tls-psk v1" ‖ 0x00 ‖ UTF-8 device id)    (32 bytes)
//     token = HMAC-SHA256(fleet key, UTF-8 device id)                                   (DeviceToken.swift)
//
// Why the label: a PSK must not equal the token, or a device's bearer token (sent in every request, visible to
// anything that terminates HTTP) would also be its TLS key. Device ids match [A-Za-z0-9._:-]{1,128} and so never
// contain a 0x00 byte, while every PSK input does: no PSK input is ever a token input, for any two device ids, so
// the two derivations can never be asked for the same MAC. The "v1" leaves room for a different derivation later.
//
// Whoever holds the fleet key can compute any device's PSK (the collector, `collector token DEVICE --psk`, a
// provisioning script); in Python this gives the same hex:
//
//     hmac.new(key, b"fleetwire tls-psk v1\x00" + device.encode(), hashlib.sha256).hexdigest()

extension FleetKey {
    /// The label that separates PSK inputs from token inputs, including its terminating 0x00 byte.
    static let pskLabel: [UInt8] = Array("fleetwire tls-psk v1".utf8) + [0x00]

    /// The TLS pre-shared key of device `deviceID`: HMAC-SHA256(fleet key, "fleetwire tls-psk v1" ‖ 0x00 ‖ id).
    public func tlsPSK(for deviceID: String) -> DevicePSK {
        DevicePSK(bytes: macWithKey(Self.pskLabel + Array(deviceID.utf8)))
    }
}

/// A device's 32-byte TLS pre-shared key. Its description never shows the secret; `hex` is the text to provision.
public struct DevicePSK: Hashable, Sendable, CustomStringConvertible {
    /// Bytes in a PSK.
    public static let byteCount = HMACSHA256.byteCount

    /// The key's bytes, as handed to TLS.
    public let bytes: [UInt8]

    /// A PSK from its bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The PSK as 64 lower-case hex digits (the form `openssl s_client -psk` takes).
    public var hex: String { Hex.encode(bytes) }

    /// Redacted: a PSK interpolated into a log line or an error must not leak.
    public var description: String { "DevicePSK(redacted)" }
}
