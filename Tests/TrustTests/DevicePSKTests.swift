// The TLS-PSK derivation: HMAC-SHA256(fleet key, "fleetwire tls-psk v1" ‖ 0x00 ‖ device id), 32 bytes, never the
// device's bearer token. The cross-check against Python's hmac is in PythonCrossCheckTests.swift.

import Testing

@testable import Trust

@Suite struct DevicePSKTests {
    static let key = Array("0123456789abcdef0123456789abcdef".utf8)

    @Test func pskIsTheHMACOfTheLabelZeroByteAndDeviceID() throws {
        let psk = try FleetKey(Self.key).tlsPSK(for: "dev-00001")
        // "fleetwire tls-psk v1" (20 bytes), one 0x00 byte, then the device id's UTF-8 bytes.
        let input = Array("fleetwire tls-psk v1".utf8) + [0x00] + Array("dev-00001".utf8)
        #expect(input.count == 20 + 1 + 9)
        #expect(psk.bytes == HMACSHA256.authenticationCode(for: input, key: Self.key))
        #expect(psk.bytes.count == DevicePSK.byteCount)
        #expect(psk.hex.count == 64)
        #expect(psk.hex == psk.hex.lowercased())
    }

    @Test(arguments: ["dev-00001", "a", "x.y:z-9_", String(repeating: "Z", count: 128)])
    func pskDiffersFromTheToken(deviceID: String) throws {
        let key = try FleetKey(Self.key)
        #expect(key.tlsPSK(for: deviceID).bytes != key.token(for: deviceID).bytes)
    }

    @Test func pskIsDeterministicAndPerDeviceAndKey() throws {
        let key = try FleetKey(Self.key)
        #expect(key.tlsPSK(for: "dev-1") == key.tlsPSK(for: "dev-1"))
        #expect(try FleetKey(Self.key).tlsPSK(for: "dev-1") == key.tlsPSK(for: "dev-1"))
        #expect(key.tlsPSK(for: "dev-1") != key.tlsPSK(for: "dev-2"))
        #expect(try FleetKey(Self.key + [1]).tlsPSK(for: "dev-1") != key.tlsPSK(for: "dev-1"))
    }

    /// A fixed value, computed with Python's hmac, so a change to the label or the separator cannot go unnoticed.
    @Test func knownAnswer() throws {
        let psk = try FleetKey(Self.key).tlsPSK(for: "dev-00001")
        #expect(psk.hex == "dfadab4f939d4e8b03a63425771e8e8326a3a24623ee0edc493a2ee3aaa70a4b")
    }

    @Test func descriptionNeverShowsTheSecret() throws {
        let psk = try FleetKey(Self.key).tlsPSK(for: "dev-1")
        #expect("\(psk)" == "DevicePSK(redacted)")
        #expect(!"\(psk)".contains(psk.hex))
        #expect(!String(describing: [psk]).contains(psk.hex))
    }
}
