// SHA-256 (FIPS 180-4), streaming: `update` any number of times, then `finalize`. The hashing is OpenSSL 3's
// libcrypto (EVP_Digest* with the SHA-256 fetched once); this file only gives it value semantics.
//
// Value semantics over a C context: the `EVP_MD_CTX` lives in a reference-counted box, and the box is copied
// (EVP_MD_CTX_copy_ex) before a mutation whenever another value still shares it, so copying a `SHA256` forks the
// computation as a Swift value should, and HMAC-style "keyed copies" stay cheap until one of them is updated.
// Invariant: a box is mutated only while exactly one value holds it; a shared box is only read (copied from), which
// libcrypto allows from several threads at once. `finalize` works on a copy, so the hash itself stays usable.
//
// Checked against the NIST vectors, split at every position, and against Python's hashlib (Tests/TrustTests): the
// tests now check our use of libcrypto (the streaming, the copies, the non-destructive finalize), not the algorithm.

internal import COpenSSL

/// A SHA-256 hash in progress. A value type: copying it forks the computation (HMAC keeps keyed copies).
public struct SHA256: Sendable {
    /// Bytes in a digest.
    public static let digestByteCount = 32
    /// Bytes in a block (HMAC pads its key to this).
    public static let blockByteCount = 64

    private var context: DigestContext

    /// A hash of the empty message so far.
    public init() {
        context = DigestContext()
    }

    /// The digest of `bytes` in one call (EVP_Digest).
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: digestByteCount)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { message in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(message.baseAddress, message.count, output.baseAddress, &length, DigestContext.sha256, nil)
            }
        }
        precondition(ok == 1 && length == digestByteCount, "libcrypto EVP_Digest(SHA-256) failed")
        return digest
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

    /// The digest of everything added so far. The hash itself is left as it was, so more can still be added.
    public func finalize() -> [UInt8] {
        context.copy().finalize()
    }
}

/// One `EVP_MD_CTX` for SHA-256, freed with its box.
///
/// `@unchecked Sendable` because a C pointer is not Sendable: `SHA256` mutates a box only while it holds the only
/// reference (copy-on-write), so a box shared between values or threads is only ever read by `copy()`.
final class DigestContext: @unchecked Sendable {
    /// SHA-256 fetched from the default provider once: explicit fetching avoids a method-store lookup on every
    /// init. An `EVP_MD` is immutable and meant to be shared between threads.
    nonisolated(unsafe) static let sha256: OpaquePointer = {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { preconditionFailure("libcrypto has no SHA256") }
        return md
    }()

    private let context: OpaquePointer

    /// A context initialized for SHA-256 with nothing hashed yet.
    init() {
        context = Self.makeContext()
        precondition(EVP_DigestInit_ex(context, Self.sha256, nil) == 1, "libcrypto EVP_DigestInit_ex failed")
    }

    /// A context holding `source`'s state.
    private init(copying source: OpaquePointer) {
        context = Self.makeContext()
        precondition(EVP_MD_CTX_copy_ex(context, source) == 1, "libcrypto EVP_MD_CTX_copy_ex failed")
    }

    deinit { EVP_MD_CTX_free(context) }

    /// A new box with the same state: the fork point of copy-on-write.
    func copy() -> DigestContext { DigestContext(copying: context) }

    /// Hashes `bytes`; only for a box no other value holds.
    func update(_ bytes: UnsafeRawBufferPointer) {
        let ok = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
        precondition(ok == 1, "libcrypto EVP_DigestUpdate failed")
    }

    /// The digest; the context cannot be updated afterwards, so callers finalize a `copy()`.
    func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: SHA256.digestByteCount)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1 && length == SHA256.digestByteCount, "libcrypto EVP_DigestFinal_ex failed")
        return digest
    }

    private static func makeContext() -> OpaquePointer {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("libcrypto EVP_MD_CTX_new: out of memory") }
        return context
    }
}
