// HMAC-SHA256 (RFC 2104, FIPS 198-1): H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ message)), where K' is the key padded with
// zeros to the 64-byte block, or first hashed to 32 bytes when it is longer than a block. The MAC is OpenSSL 3's
// libcrypto (EVP_MAC "HMAC" with digest SHA256, fetched once); this file only gives it value semantics.
//
// The keyed value holds an `EVP_MAC_CTX` with the key already absorbed, so a collector that derives the token of
// many devices with one fleet key pays for the key once: each message then costs one EVP_MAC_CTX_dup, the inner
// hash of its bytes and one outer block. Copy-on-write as in SHA256.swift: a context is mutated only while one value
// holds it, and a shared one is only read (duplicated), which libcrypto allows from several threads at once.
// Checked against all RFC 4231 test cases and Python's `hmac` (Tests/TrustTests): those tests now check our use of
// libcrypto (empty and long keys, streaming, copies), not the algorithm.

internal import COpenSSL

/// An HMAC-SHA256 computation keyed once; copy it (or call `authenticationCode(for:)`) per message.
public struct HMACSHA256: Sendable {
    /// Bytes in a MAC.
    public static let byteCount = SHA256.digestByteCount

    private var context: MACContext

    /// Absorbs the key.
    public init(key: [UInt8]) {
        context = MACContext(key: key)
    }

    /// The MAC of `message` with this key in one call.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        HMACSHA256(key: key).authenticationCode(for: message)
    }

    /// The MAC of `message` (the keyed state is not changed).
    public func authenticationCode(for message: [UInt8]) -> [UInt8] {
        let copy = context.copy()
        message.withUnsafeBytes { copy.update($0) }
        return copy.finalize()
    }

    /// The MAC of the UTF-8 bytes of `text` (the keyed state is not changed).
    public func authenticationCode(for text: String) -> [UInt8] {
        let copy = context.copy()
        var text = text
        text.withUTF8 { copy.update(UnsafeRawBufferPointer($0)) }
        return copy.finalize()
    }

    /// Adds message bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Adds the UTF-8 bytes of `text`.
    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Adds message bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        context.update(bytes)
    }

    /// The MAC of everything added so far (more can still be added).
    public func finalize() -> [UInt8] {
        context.copy().finalize()
    }
}

/// One keyed `EVP_MAC_CTX` for HMAC-SHA256, freed with its box.
///
/// `@unchecked Sendable` because a C pointer is not Sendable: `HMACSHA256` mutates a box only while it holds the
/// only reference (copy-on-write), so a box shared between values or threads is only ever read by `copy()`.
final class MACContext: @unchecked Sendable {
    /// The HMAC algorithm fetched from the default provider once. An `EVP_MAC` is immutable and meant to be shared
    /// between threads.
    nonisolated(unsafe) static let hmac: OpaquePointer = {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { preconditionFailure("libcrypto has no HMAC") }
        return mac
    }()

    private let context: OpaquePointer

    /// A context keyed with `key` for HMAC with SHA-256.
    init(key: [UInt8]) {
        guard let context = EVP_MAC_CTX_new(Self.hmac) else {
            preconditionFailure("libcrypto EVP_MAC_CTX_new: out of memory")
        }
        self.context = context
        // EVP_MAC_init treats a NULL key as "keep the previous key" (and fails when there is none), so an empty key
        // is passed as a valid pointer with length 0; an empty array's baseAddress may be nil.
        func initialize(_ keyBytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
            "digest".withCString { name in
                "SHA256".withCString { digest in
                    var parameters = [
                        OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                        OSSL_PARAM_construct_end(),
                    ]
                    return EVP_MAC_init(context, keyBytes, count, &parameters)
                }
            }
        }
        var placeholder: UInt8 = 0
        let ok =
            key.isEmpty
            ? withUnsafePointer(to: &placeholder) { initialize($0, 0) }
            : key.withUnsafeBufferPointer { initialize($0.baseAddress!, $0.count) }
        precondition(ok == 1, "libcrypto EVP_MAC_init(HMAC-SHA256) failed")
    }

    /// A context holding `source`'s state.
    private init(copying source: OpaquePointer) {
        guard let context = EVP_MAC_CTX_dup(source) else {
            preconditionFailure("libcrypto EVP_MAC_CTX_dup failed")
        }
        self.context = context
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// A new box with the same state: the fork point of copy-on-write.
    func copy() -> MACContext { MACContext(copying: context) }

    /// MACs `bytes`; only for a box no other value holds.
    func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let ok = EVP_MAC_update(context, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        precondition(ok == 1, "libcrypto EVP_MAC_update failed")
    }

    /// The MAC; the context cannot be updated afterwards, so callers finalize a `copy()`.
    func finalize() -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: HMACSHA256.byteCount)
        var length = 0
        let ok = mac.withUnsafeMutableBufferPointer { EVP_MAC_final(context, $0.baseAddress, &length, $0.count) }
        precondition(ok == 1 && length == HMACSHA256.byteCount, "libcrypto EVP_MAC_final failed")
        return mac
    }
}
