// HMACSHA256 on libcrypto: the RFC 4231 cases pin the algorithm; the splits, the reuse of one keyed value, the
// block-size key edges and the concurrent use check our wrapper (EVP_MAC_CTX keyed once, copy-on-write copies).

import Testing

@testable import Trust

@Suite struct HMACSHA256Tests {
    private static func bytes(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

    /// RFC 4231 section 4: every HMAC-SHA-256 test case (key, data, expected MAC).
    static let rfc4231: [(number: Int, key: [UInt8], data: [UInt8], mac: String)] = [
        (
            1, bytes(0x0b, 20), Array("Hi There".utf8),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        (
            2, Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            3, bytes(0xaa, 20), bytes(0xdd, 50),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        ),
        (
            4, Array(1...25), bytes(0xcd, 50),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        ),
        // Case 5 is specified truncated to 128 bits.
        (5, bytes(0x0c, 20), Array("Test With Truncation".utf8), "a3b6167473100ee06e0c796c2955552b"),
        (
            6, bytes(0xaa, 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            7, bytes(0xaa, 131),
            Array(
                ("This is a test using a larger than block-size key and a larger than block-size data. The key needs "
                    + "to be hashed before being used by the HMAC algorithm.").utf8),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ]

    @Test(arguments: rfc4231.map { ($0.number, $0.key, $0.data, $0.mac) })
    func rfc4231TestCase(number: Int, key: [UInt8], data: [UInt8], mac: String) {
        let computed = Hex.encode(HMACSHA256.authenticationCode(for: data, key: key))
        // Compare as many hex digits as the case specifies (case 5: the first 128 bits).
        #expect(computed.count == 64)
        #expect(computed.hasPrefix(mac), "RFC 4231 test case \(number)")
    }

    @Test func rfc4231CasesSplitAtEveryPosition() {
        for testCase in Self.rfc4231 {
            let keyed = HMACSHA256(key: testCase.key)
            let whole = keyed.authenticationCode(for: testCase.data)
            for split in 0...testCase.data.count {
                var mac = keyed
                mac.update(Array(testCase.data[..<split]))
                mac.update(Array(testCase.data[split...]))
                #expect(mac.finalize() == whole, "case \(testCase.number) split at \(split)")
            }
        }
    }

    @Test func keyedStateIsReusableAcrossMessages() {
        let keyed = HMACSHA256(key: Array("Jefe".utf8))
        let first = keyed.authenticationCode(for: "what do ya want for nothing?")
        _ = keyed.authenticationCode(for: "something else")
        #expect(keyed.authenticationCode(for: "what do ya want for nothing?") == first)
        #expect(Hex.encode(first) == Self.rfc4231[1].mac)
    }

    /// Keys of exactly one block are used as they are; one byte more and they are hashed first.
    @Test func blockSizedKeyEdges() {
        let message = Array("edge".utf8)
        let key64 = Self.bytes(0x61, 64)
        let key65 = Self.bytes(0x61, 65)
        #expect(
            HMACSHA256.authenticationCode(for: message, key: key65)
                == HMACSHA256.authenticationCode(for: message, key: SHA256.hash(key65)))
        #expect(
            HMACSHA256.authenticationCode(for: message, key: key64)
                != HMACSHA256.authenticationCode(for: message, key: SHA256.hash(key64)))
    }

    /// One keyed value shared by many threads (as the collector shares its fleet key) gives the same MACs.
    @Test func sharedKeyedValueIsSafeAcrossThreads() async {
        let keyed = HMACSHA256(key: Array("Jefe".utf8))
        let expected = Self.rfc4231[1].mac
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<500).allSatisfy { _ in
                        Hex.encode(keyed.authenticationCode(for: "what do ya want for nothing?")) == expected
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [Bool](repeating: true, count: 8))
    }
}
