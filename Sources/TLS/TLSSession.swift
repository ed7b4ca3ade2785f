internal import COpenSSL

/// A TLS session a client received (a ticket), to resume with on its next connection to the same server. Owns one
/// reference to OpenSSL's SSL_SESSION.
public final class TLSSession: @unchecked Sendable {
    let session: OpaquePointer

    /// Takes over one reference to `session`.
    init(taking session: OpaquePointer) { self.session = session }

    deinit { SSL_SESSION_free(session) }

    /// True while the ticket may still be offered (its lifetime has not run out).
    public var isResumable: Bool { SSL_SESSION_is_resumable(session) == 1 }
}

/// What a client offers instead of a certificate check: an external TLS 1.3 PSK.
public struct TLSExternalPSK: Sendable {
    /// The identity (for Fleetwire, the device id).
    public var identity: String
    /// The key (32 bytes, for TLS_AES_128_GCM_SHA256).
    public var key: [UInt8]

    /// Memberwise.
    public init(identity: String, key: [UInt8]) {
        self.identity = identity
        self.key = key
    }
}
