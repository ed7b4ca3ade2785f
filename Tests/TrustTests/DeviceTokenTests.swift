import Testing

@testable import Trust

@Suite struct DeviceTokenTests {
    static let key = Array("0123456789abcdef0123456789abcdef".utf8)

    @Test func tokenIsTheHexOfHMACOfTheDeviceID() throws {
        let token = try FleetKey(Self.key).token(for: "dev-00001")
        #expect(token.bytes == HMACSHA256.authenticationCode(for: Array("dev-00001".utf8), key: Self.key))
        #expect(token.hex.count == 64)
        #expect(token.hex == token.hex.lowercased())
        #expect(DeviceToken(hex: token.hex) == token)
        #expect(DeviceToken(hex: token.hex.uppercased()) == token)
    }

    @Test func differentDevicesAndKeysGiveDifferentTokens() throws {
        let key = try FleetKey(Self.key)
        #expect(key.token(for: "dev-1") != key.token(for: "dev-2"))
        #expect(try FleetKey(Self.key + [1]).token(for: "dev-1") != key.token(for: "dev-1"))
        // HMAC pads short keys with zeros, so a key and the same key plus trailing zero bytes are one key: this is
        // why key files keep their bytes exactly (only one trailing newline of text is dropped).
        #expect(try FleetKey(Self.key + [0]).token(for: "dev-1") == key.token(for: "dev-1"))
    }

    @Test(arguments: [0, 1, 15])
    func shortKeysAreRefused(length: Int) {
        #expect(throws: TrustError("the fleet key has \(length) bytes; at least 16 are needed")) {
            try FleetKey([UInt8](repeating: 7, count: length))
        }
    }

    @Test(arguments: [
        "", "abc", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        String(repeating: "g", count: 64), String(repeating: "a", count: 62) + " a",
    ])
    func malformedHexIsNoToken(text: String) {
        #expect(DeviceToken(hex: text) == nil)
    }

    @Test func descriptionsNeverShowTheSecret() throws {
        let token = try FleetKey(Self.key).token(for: "dev-1")
        #expect(!"\(token)".contains(token.hex))
        #expect("\(token)" == "DeviceToken(redacted)")
        let admin = try AdminToken(Array("admin-token-0123456789".utf8))
        #expect(!"\(admin)".contains("admin-token"))
    }

    @Test func matchingIsExact() throws {
        let key = try FleetKey(Self.key)
        #expect(key.token(for: "a").matches(key.token(for: "a")))
        #expect(!key.token(for: "a").matches(key.token(for: "b")))
    }

    @Test func adminTokenRules() throws {
        let admin = try AdminToken(Array("s3cret-admin-token".utf8))
        #expect(admin.matches("s3cret-admin-token"))
        #expect(!admin.matches("s3cret-admin-tokeN"))
        #expect(!admin.matches("s3cret-admin-token2"))
        #expect(!admin.matches(""))
        #expect(throws: TrustError.self) { try AdminToken(Array("short".utf8)) }
        #expect(throws: TrustError.self) { try AdminToken(Array("has a space in it ok".utf8)) }
    }
}

@Suite struct ConstantTimeTests {
    @Test func equalityOfBytes() {
        #expect(ConstantTime.isEqual([], []))
        #expect(ConstantTime.isEqual([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.isEqual([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.isEqual([1, 2, 3], [0, 2, 3]))
        #expect(!ConstantTime.isEqual([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.isEqual([0x80], [0x00]))
        for bit in 0..<8 { #expect(!ConstantTime.isEqual([0], [UInt8(1) << bit]), "bit \(bit)") }
    }
}

@Suite struct HexTests {
    @Test func roundTrip() {
        let bytes: [UInt8] = Array(0...255)
        let text = Hex.encode(bytes)
        #expect(text.hasPrefix("000102"))
        #expect(text.hasSuffix("fdfeff"))
        #expect(Hex.decode(text) == bytes)
        #expect(Hex.decode(text.uppercased()) == bytes)
    }

    @Test(arguments: ["a", "0g", "zz", "0 ", "é0"])
    func invalidTextIsRefused(text: String) {
        #expect(Hex.decode(text) == nil)
    }
}

@Suite struct BearerCredentialTests {
    @Test(arguments: [
        ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER abc", "abc"), ("Bearer   abc", "abc"),
    ])
    func acceptedForms(header: String, token: String) {
        #expect(BearerCredential.token(in: header) == Substring(token))
    }

    @Test(arguments: [
        nil, "", "Bearer", "Bearer ", "Bearer  ", "Basic abc", "Bearerabc", "Bearer a b", "Bearer a\tb",
        "Token abc",
    ])
    func refusedForms(header: String?) {
        #expect(BearerCredential.token(in: header) == nil)
    }
}
