// One OpenSSL SSL_CTX, configured once and shared by every connection of a collector (or of a simulated fleet):
// versions, certificate, ALPN, session tickets, the PSK lookup. OpenSSL allows an SSL_CTX to be used from many
// threads once it is set up, which is why this type is Sendable.
//
// Server defaults and why:
// - TLS 1.2 is the floor (older versions get a protocol_version alert); renegotiation is off; compression off.
// - TLS 1.3 suites in the order AES-128-GCM, ChaCha20-Poly1305 (both SHA-256, as the PSKs are), AES-256-GCM.
// - ALPN: the client's first protocol we serve, in our order (`h2`, `http/1.1`); none agreed means the inner bytes
//   are sniffed as on plaintext.
// - One session ticket per full handshake (OpenSSL sends two by default): a sleeping device resumes its last
//   session, so a second ticket (about 250 bytes) would be paid on every handshake and never used. None on PSK
//   connections: the external PSK already makes the next handshake short.
// - Tickets live 7 days (TLS 1.3's maximum; OpenSSL's default is 2 hours, shorter than a sleeping device's night).
//   A resumption with a ticket younger than half that gets no new ticket: the device resumes with the same one
//   again (RFC 8446 only advises against reuse, for privacy, and a device's identity is no secret to its own
//   collector), which saves the ticket's ~250 bytes on every reconnect; an older ticket is renewed.
// - Tickets are encrypted with the key given (a file that survives restarts and is shared by replicas), so a
//   device's ticket still resumes after the collector restarts.

internal import COpenSSL
import Glibc

/// What a server context needs.
public struct TLSServerSettings: Sendable {
    /// PEM certificate (the chain may follow).
    public var certificateFile: String
    /// PEM private key of the certificate.
    public var keyFile: String
    /// ALPN protocols, most preferred first.
    public var applicationProtocols: [String] = ["h2", "http/1.1"]
    /// The 80-byte session-ticket key (name, HMAC key, AES key); nil: a random key for this process only.
    public var ticketKey: [UInt8]?
    /// Session tickets sent after each full or resumed handshake.
    public var ticketsPerHandshake = 1
    /// The external PSK of a device (TLS 1.3 identity = device id), or nil when the identity is refused.
    /// Called on the connection's loop thread during the handshake, for identities `isExternalIdentity` accepts.
    public var externalPSK: (@Sendable (String) -> [UInt8]?)?
    /// Which offered identities are external PSK identities at all (the rest are tried as session tickets).
    public var isExternalIdentity: @Sendable (String) -> Bool = { _ in true }

    /// Settings for `certificateFile` and `keyFile`; the rest at their defaults.
    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// What a client context needs.
public struct TLSClientSettings: Sendable {
    /// PEM certificates to trust; nil: the system's store.
    public var caFile: String?
    /// ALPN protocols to offer.
    public var applicationProtocols: [String] = ["h2"]
    /// Ask for and keep session tickets, so a later connection can resume.
    public var keepsSessions = true
    /// Offer what a constrained device offers, for a short ClientHello: TLS 1.3 only, two cipher suites (AES-128-GCM,
    /// ChaCha20-Poly1305), two groups (X25519, P-256), four signature algorithms, and no middlebox compatibility
    /// mode (no 32-byte legacy session id, no ChangeCipherSpec records: 76 bytes per handshake). Off: OpenSSL's
    /// defaults.
    public var compactClientHello = true

    /// Defaults: the system store, offering h2, keeping sessions.
    public init(caFile: String? = nil) { self.caFile = caFile }
}

/// A configured OpenSSL context for the server or client side; see the file header.
public final class TLSContext: @unchecked Sendable {
    /// How long a session ticket resumes: 7 days, TLS 1.3's maximum.
    public static let ticketLifetimeSeconds = 7 * 24 * 3600

    /// True for a server context.
    public let isServer: Bool
    let context: OpaquePointer
    /// ALPN list in wire format (length-prefixed), in our preference order; stable for the C callback.
    let alpnWire: UnsafeMutableBufferPointer<UInt8>
    let externalPSK: (@Sendable (String) -> [UInt8]?)?
    private let isExternalIdentity: @Sendable (String) -> Bool
    let ticketsPerHandshake: Int
    let keepsSessions: Bool

    /// A server context; throws naming the file when the certificate or key cannot be used.
    public init(server settings: TLSServerSettings) throws(TLSError) {
        isServer = true
        externalPSK = settings.externalPSK
        isExternalIdentity = settings.isExternalIdentity
        ticketsPerHandshake = settings.ticketsPerHandshake
        keepsSessions = false
        alpnWire = Self.wireFormat(settings.applicationProtocols)
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            alpnWire.deallocate()
            throw TLSError.openSSL("cannot create a TLS context")
        }
        self.context = context
        try configureCommon()
        try loadCertificate(settings.certificateFile, key: settings.keyFile)
        _ = SSL_CTX_set_num_tickets(context, settings.ticketsPerHandshake)
        // Stateless tickets only: no per-process session cache to outgrow memory or to miss on another replica.
        _ = fw_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        if var key = settings.ticketKey {
            guard key.count == 80 else { throw TLSError("the session-ticket key has \(key.count) bytes, not 80") }
            guard fw_SSL_CTX_set_tlsext_ticket_keys(context, &key, 80) == 1 else {
                throw TLSError.openSSL("cannot set the session-ticket key")
            }
        }
        _ = SSL_CTX_set_timeout(context, Self.ticketLifetimeSeconds)
        _ = SSL_CTX_set_session_ticket_cb(context, nil, ticketDecrypted, nil)
        SSL_CTX_set_alpn_select_cb(context, alpnSelect, Unmanaged.passUnretained(self).toOpaque())
        if externalPSK != nil { SSL_CTX_set_psk_find_session_callback(context, pskFindSession) }
    }

    /// A client context; throws naming the CA file when it cannot be read.
    public init(client settings: TLSClientSettings) throws(TLSError) {
        isServer = false
        externalPSK = nil
        isExternalIdentity = { _ in false }
        ticketsPerHandshake = 0
        keepsSessions = settings.keepsSessions
        alpnWire = Self.wireFormat(settings.applicationProtocols)
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            alpnWire.deallocate()
            throw TLSError.openSSL("cannot create a TLS context")
        }
        self.context = context
        try configureCommon()
        if settings.compactClientHello {
            guard fw_SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION) == 1,
                SSL_CTX_set_ciphersuites(context, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") == 1,
                fw_SSL_CTX_set1_groups_list(context, "X25519:P-256") == 1,
                fw_SSL_CTX_set1_sigalgs_list(context, "ECDSA+SHA256:ed25519:rsa_pss_rsae_sha256:RSA+SHA256") == 1
            else { throw TLSError.openSSL("cannot configure the compact ClientHello") }
            fw_SSL_CTX_clear_middlebox_compat(context)
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile = settings.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TLSError.openSSL("cannot read the CA certificates in \(caFile)")
            }
        } else {
            _ = SSL_CTX_set_default_verify_paths(context)
        }
        if keepsSessions {
            _ = fw_SSL_CTX_set_session_cache_mode(
                context, Int(SSL_SESS_CACHE_CLIENT) | Int(SSL_SESS_CACHE_NO_INTERNAL_STORE))
            SSL_CTX_sess_set_new_cb(context, clientNewSession)
        } else {
            _ = fw_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
            fw_SSL_CTX_set_no_ticket(context)
        }
    }

    /// True when `identity` is to be looked up as an external PSK.
    func acceptsIdentity(_ identity: String) -> Bool { isExternalIdentity(identity) }

    deinit {
        SSL_CTX_free(context)
        alpnWire.deallocate()
    }

    private func configureCommon() throws(TLSError) {
        guard fw_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw TLSError.openSSL("cannot set the minimum TLS version")
        }
        fw_SSL_CTX_set_hardening_options(context)
        // SHA-256 suites first: an external PSK is bound to its hash (ours are for SHA-256), and with server
        // preference on, AES-256-GCM-SHA384 first would make every PSK unusable.
        _ = SSL_CTX_set_ciphersuites(
            context, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384")
        // Read and write buffers are released while a connection is idle: an idle TLS connection keeps only its
        // session state.
        _ = fw_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
    }

    private func loadCertificate(_ certificateFile: String, key keyFile: String) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            throw TLSError.openSSL("cannot use the certificate in \(certificateFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.openSSL("cannot use the private key in \(keyFile)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.openSSL("the private key in \(keyFile) does not match the certificate in \(certificateFile)")
        }
        if let certificate = SSL_CTX_get0_certificate(context) {
            if X509_cmp_current_time(X509_get0_notAfter(certificate)) <= 0 {
                throw TLSError("the certificate in \(certificateFile) has expired")
            }
            if X509_cmp_current_time(X509_get0_notBefore(certificate)) >= 0 {
                throw TLSError("the certificate in \(certificateFile) is not valid yet")
            }
        }
    }

    /// `protocols` as ALPN's wire format: each name preceded by its length.
    private static func wireFormat(_ protocols: [String]) -> UnsafeMutableBufferPointer<UInt8> {
        var bytes: [UInt8] = []
        for name in protocols where !name.isEmpty && name.utf8.count < 256 {
            bytes.append(UInt8(name.utf8.count))
            bytes.append(contentsOf: name.utf8)
        }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = buffer.initialize(from: bytes)
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<bytes.count])
    }
}

// MARK: C callbacks (no captures: they find their Swift objects through the app-data pointers)

/// ALPN: the first of the client's protocols in our order; none agreed → no ALPN (the inner bytes are sniffed).
private let alpnSelect:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
    ) -> Int32 = { _, out, outLength, clientList, clientLength, argument in
        guard let argument, let out, let outLength, let clientList else { return SSL_TLSEXT_ERR_NOACK }
        let context = Unmanaged<TLSContext>.fromOpaque(argument).takeUnretainedValue()
        var selected: UnsafeMutablePointer<UInt8>?
        let result = SSL_select_next_proto(
            &selected, outLength, context.alpnWire.baseAddress, UInt32(context.alpnWire.count), clientList,
            clientLength)
        guard result == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
        out.pointee = UnsafePointer(selected)
        return SSL_TLSEXT_ERR_OK
    }

/// Server: the external PSK for a TLS 1.3 identity (a device id), as a session OpenSSL resumes from.
private let pskFindSession:
    @convention(c) (OpaquePointer?, UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<OpaquePointer?>?) -> Int32 = {
        ssl, identity, identityLength, sessionOut in
        guard let ssl, let identity, let sessionOut, let transport = TLSTransport.owner(of: ssl) else { return 0 }
        sessionOut.pointee = nil
        guard let lookup = transport.context.externalPSK else { return 1 }
        // OpenSSL asks here first for every PSK identity the client offers, session tickets included: an identity
        // that is not an external one (tickets are binary, never device ids) goes on to ticket decryption.
        let bytes = UnsafeBufferPointer(start: identity, count: identityLength)
        guard let name = String(validating: bytes, as: UTF8.self), transport.context.acceptsIdentity(name) else {
            return 1
        }
        guard var key = lookup(name) else {
            transport.refusedPSKIdentity = name
            return 0  // a refused identity (a revoked device): the handshake fails
        }
        guard let session = externalPSKSession(ssl, key: &key) else { return 0 }
        transport.offeredPSKIdentity = name
        _ = SSL_set_num_tickets(ssl, 0)
        sessionOut.pointee = session
        return 1
    }

/// An external PSK as the session OpenSSL resumes from, for TLS_AES_128_GCM_SHA256 (a PSK is bound to its hash, and
/// ours are for SHA-256); nil when OpenSSL cannot make one.
func externalPSKSession(_ ssl: OpaquePointer, key: inout [UInt8]) -> OpaquePointer? {
    let suite: [UInt8] = [0x13, 0x01]
    guard let cipher = SSL_CIPHER_find(ssl, suite), let session = SSL_SESSION_new() else { return nil }
    guard SSL_SESSION_set1_master_key(session, &key, key.count) == 1,
        SSL_SESSION_set_cipher(session, cipher) == 1,
        SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) == 1
    else {
        SSL_SESSION_free(session)
        return nil
    }
    return session
}

/// A client connection's ALPN offer and the name its server's certificate is verified for (an IP address, or a
/// DNS name also sent as SNI).
func configureClient(_ ssl: OpaquePointer, context: TLSContext, serverName: String) {
    if context.alpnWire.count > 0 {
        _ = SSL_set_alpn_protos(ssl, context.alpnWire.baseAddress, UInt32(context.alpnWire.count))
    }
    if serverName.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) {
        _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
    } else {
        _ = fw_SSL_set_tlsext_host_name(ssl, serverName)
        _ = SSL_set1_host(ssl, serverName)
    }
}

/// Server: a decrypted ticket resumes; it is renewed (a new ticket follows the handshake) only once it has lived half
/// its lifetime (see the file header). Other outcomes keep OpenSSL's defaults.
private let ticketDecrypted:
    @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<UInt8>?, Int, Int32, UnsafeMutableRawPointer?)
        -> Int32 = { _, session, _, _, status, _ in
        switch status {
        case SSL_TICKET_SUCCESS, SSL_TICKET_SUCCESS_RENEW:
            guard let session else { return SSL_TICKET_RETURN_USE_RENEW }
            let age = Int(time(nil)) - Int(SSL_SESSION_get_time(session))
            return age < TLSContext.ticketLifetimeSeconds / 2 ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW
        case SSL_TICKET_NONE, SSL_TICKET_EMPTY, SSL_TICKET_NO_DECRYPT:
            return SSL_TICKET_RETURN_IGNORE_RENEW
        default:
            return SSL_TICKET_RETURN_ABORT
        }
    }

/// Client: keeps the newest session ticket on the transport, for the next connection to resume.
private let clientNewSession: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let transport = TLSTransport.owner(of: ssl) else { return 0 }
    transport.receivedSession = TLSSession(taking: session)
    return 1  // we keep the reference
}
