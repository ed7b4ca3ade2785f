// HMAC-SHA256 (RFC 2104, FIPS 198-1): H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ message)), where K' is the key padded with
// zeros to the 64-byte block, or first hashed to 32 bytes when it is longer than a block.
//
// The keyed value holds the two hashes with their key blocks already absorbed, so a collector that derives the
// token of many devices with one fleet key pays for the key once: each device id then costs the inner hash of its
// bytes and one outer block. Checked against all RFC 4231 test cases and Python's `hmac` (Tests/TrustTests).

/// An HMAC-SHA256 computation keyed once; copy it (or call `authenticationCode(for:)`) per message.
public struct HMACSHA256: Sendable {
    /// Bytes in a MAC.
    public static let byteCount = SHA256.digestByteCount

    private var inner = SHA256()
    private var outer = SHA256()

    /// Absorbs the key into both hashes.
    public init(key: [UInt8]) {
        var block = key.count > SHA256.blockByteCount ? SHA256.hash(key) : key
        block += [UInt8](repeating: 0, count: SHA256.blockByteCount - block.count)
        inner.update(block.map { $0 ^ 0x36 })
        outer.update(block.map { $0 ^ 0x5c })
    }

    /// The MAC of `message` with this key in one call.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        HMACSHA256(key: key).authenticationCode(for: message)
    }

    /// The MAC of `message` (the keyed state is not changed).
    public func authenticationCode(for message: [UInt8]) -> [UInt8] {
        var copy = self
        copy.update(message)
        return copy.finalize()
    }

    /// The MAC of the UTF-8 bytes of `text` (the keyed state is not changed).
    public func authenticationCode(for text: String) -> [UInt8] {
        var copy = self
        copy.update(text)
        return copy.finalize()
    }

    /// Adds message bytes.
    public mutating func update(_ bytes: [UInt8]) { inner.update(bytes) }

    /// Adds the UTF-8 bytes of `text`.
    public mutating func update(_ text: String) { inner.update(text) }

    /// Adds message bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }

    /// The MAC of everything added so far (more can still be added).
    public func finalize() -> [UInt8] {
        var outer = self.outer
        outer.update(inner.finalize())
        return outer.finalize()
    }
}
