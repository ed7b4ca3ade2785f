// SHA256 on libcrypto: the NIST vectors pin the algorithm; the splits, the million-byte stream and the forks check
// our wrapper (streaming into one EVP_MD_CTX, copy-on-write copies, a finalize that leaves the hash usable).

import Testing

@testable import Trust

@Suite struct SHA256Tests {
    /// FIPS 180-4 / NIST CSRC example vectors (SHA256.pdf, SHA2 additional examples).
    static let vectors: [(name: String, message: [UInt8], digest: String)] = [
        ("empty", [], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "448 bits", Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "896 bits",
            Array(
                ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                    + "mnopqrstnopqrstu").utf8),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ]

    @Test(arguments: vectors.map { ($0.name, $0.message, $0.digest) })
    func nistVector(name: String, message: [UInt8], digest: String) {
        #expect(Hex.encode(SHA256.hash(message)) == digest, "\(name)")
    }

    @Test func oneMillionLetterA() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(Hex.encode(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))) == expected)
        // The same million bytes in uneven pieces (1, 2, 3, … 999 bytes), crossing block boundaries everywhere.
        var hasher = SHA256()
        var remaining = 1_000_000
        var piece = 1
        while remaining > 0 {
            let count = min(piece, remaining)
            hasher.update([UInt8](repeating: UInt8(ascii: "a"), count: count))
            remaining -= count
            piece = piece % 999 + 1
        }
        #expect(Hex.encode(hasher.finalize()) == expected)
    }

    /// Messages around the padding edges (55, 56, 63, 64, 65 bytes…), each split at every position.
    @Test(arguments: [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200])
    func splitAtEveryPositionGivesTheSameDigest(length: Int) {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = SHA256.hash(message)
        for split in 0...length {
            var hasher = SHA256()
            hasher.update(Array(message[..<split]))
            hasher.update(Array(message[split...]))
            #expect(hasher.finalize() == whole, "split at \(split) of \(length)")
        }
        var bytewise = SHA256()
        for byte in message { bytewise.update([byte]) }
        #expect(bytewise.finalize() == whole, "one byte at a time, \(length) bytes")
    }

    @Test func vectorsSplitAtEveryPosition() {
        for vector in Self.vectors {
            for split in 0...vector.message.count {
                var hasher = SHA256()
                hasher.update(Array(vector.message[..<split]))
                hasher.update(Array(vector.message[split...]))
                #expect(Hex.encode(hasher.finalize()) == vector.digest, "\(vector.name) split at \(split)")
            }
        }
    }

    @Test func finalizeLeavesTheHashUsable() {
        var hasher = SHA256()
        hasher.update(Array("ab".utf8))
        _ = hasher.finalize()
        hasher.update("c")
        #expect(Hex.encode(hasher.finalize()) == Self.vectors[1].digest)
    }

    /// A copy forks the computation: updating one value never changes the other (copy-on-write of the context).
    @Test func copiesAreIndependent() {
        var original = SHA256()
        original.update("ab")
        var fork = original
        fork.update("c")
        original.update("x")
        #expect(Hex.encode(fork.finalize()) == Self.vectors[1].digest)
        #expect(original.finalize() == SHA256.hash(Array("abx".utf8)))
        let untouched = SHA256()
        var grown = untouched
        grown.update("abc")
        #expect(Hex.encode(untouched.finalize()) == Self.vectors[0].digest)
    }
}
