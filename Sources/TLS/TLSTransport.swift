// TLS as one more ByteTransport: it is the handler of the transport underneath (a socket `Connection`) and the
// transport of the protocol handler above, which sees only plaintext and runs unchanged (HTTP/1.1, HTTP/2, the
// sniffer, a simulated device).
//
// OpenSSL runs on memory BIOs: ciphertext read from the socket is fed to it one whole record at a time, and what it
// writes is taken out of its BIO and written to the socket by us. So every ciphertext byte passes through this
// type and is classified exactly (`TLSByteCounts`):
// - inbound: every record before the handshake completes, and a record after it that yields no plaintext and no
//   error (a ticket, a KeyUpdate), is handshake; of an application-data record, the plaintext it yields is the
//   handler's and the rest (header, inner type, tag) is record overhead; alerts are record overhead.
// - outbound: what the handshake and post-handshake messages produce is handshake; an application-data record is
//   5 header bytes, the plaintext, then the inner type and tag, booked in that order as the socket reports bytes
//   sent (`CiphertextRuns`), so the handler's `didWrite` counts exactly the plaintext that left.
// The handler's `didRead`/`didWrite` and `bytesRead`/`bytesWritten` count plaintext.
//
// Plaintext output is gathered: `enqueue` buffers, and `flush` (or the next loop iteration) encrypts everything
// buffered with one SSL_write, so a response's headers, message and trailers share records (22 bytes of overhead
// per record in TLS 1.3).
//
// The handler hears `connectionDidOpen` when the handshake completes (not before: nothing may be written
// earlier). A handshake that fails sends OpenSSL's alert and closes; one that does not finish within
// `handshakeTimeout` closes.

public import EventIO
internal import COpenSSL

/// A TLS connection over another transport; see the file header.
public final class TLSTransport: ByteTransport, ConnectionHandler {
    /// The transport underneath (the socket).
    public let underlying: any ByteTransport
    /// The shared configuration.
    public let context: TLSContext
    /// The plaintext protocol handler.
    public var handler: (any ConnectionHandler)? {
        didSet { if isClosed && handler != nil { handler = nil } }
    }
    /// Plaintext bytes delivered to the handler.
    public internal(set) var bytesRead: UInt64 = 0
    /// Plaintext bytes that have left in sent records.
    public internal(set) var bytesWritten: UInt64 = 0
    /// The ciphertext beyond the plaintext, by kind.
    public internal(set) var byteCounts = TLSByteCounts()
    /// True once the handshake completed.
    public internal(set) var isHandshakeComplete = false
    /// How the session was established, once the handshake completed.
    public internal(set) var handshakeKind: TLSHandshakeKind?
    /// The ALPN protocol agreed, if any.
    public internal(set) var applicationProtocol: String?
    /// Server: the device id of the external PSK the handshake used; nil for certificate or ticket handshakes.
    public var pskIdentity: String? { handshakeKind == .psk ? offeredPSKIdentity : nil }
    /// Client: the newest session ticket received, to resume with next time.
    public internal(set) var receivedSession: TLSSession?
    /// Why the handshake failed, when it did (for logs and counters).
    public internal(set) var handshakeFailure: TLSError?
    /// True when the handshake was ended by `handshakeTimeout`.
    public internal(set) var didHandshakeTimeOut = false
    /// Server: a PSK identity the lookup refused (unknown or revoked device), for the log.
    public internal(set) var refusedPSKIdentity: String?
    /// Called once when the handshake completes or fails (for counting handshakes in progress).
    public var onHandshakeEnd: ((TLSTransport) -> Void)?

    let ssl: OpaquePointer
    let readBIO: OpaquePointer
    let writeBIO: OpaquePointer
    var offeredPSKIdentity: String?
    /// Client PSK: the identity bytes must stay valid while OpenSSL holds the pointer.
    var clientPSK: (identity: [UInt8], key: [UInt8])?
    var identityStorage: UnsafeMutableBufferPointer<UInt8>?
    /// Plaintext the handler left unconsumed, offered again before new plaintext.
    var plainUnconsumed: [UInt8] = []
    /// Plaintext gathered by `enqueue` for the next `flush`.
    var plainOutbound: [UInt8] = []
    var isFlushScheduled = false
    var isRedeliveryScheduled = false
    var isPaused = false
    var ciphertextRead: UInt64 = 0
    var runs = CiphertextRuns()
    var handshakeTimer: TimerHandle?
    var closed = false
    /// The peer's close_notify arrived: no more plaintext will come.
    var inputEnded = false
    /// Why we closed, when it was not the transport underneath's reason (the unconsumed-plaintext limit).
    var closeReasonOverride: CloseReason?

    /// A server-side TLS connection over `underlying`, for `context` (a server context). Becomes `underlying`'s
    /// handler; call `start(handshakeTimeout:)` to begin.
    public init(server underlying: any ByteTransport, context: TLSContext) throws(TLSError) {
        precondition(context.isServer)
        self.underlying = underlying
        self.context = context
        (ssl, readBIO, writeBIO) = try Self.makeSSL(context)
        fw_SSL_set_app_data(ssl, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_accept_state(ssl)
    }

    /// A client-side TLS connection over `underlying` (connected or connecting), verifying `serverName` unless an
    /// external PSK is used, resuming `session` when given.
    public init(
        client underlying: any ByteTransport, context: TLSContext, serverName: String, psk: TLSExternalPSK? = nil,
        session: TLSSession? = nil
    ) throws(TLSError) {
        precondition(!context.isServer)
        self.underlying = underlying
        self.context = context
        (ssl, readBIO, writeBIO) = try Self.makeSSL(context)
        fw_SSL_set_app_data(ssl, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_connect_state(ssl)
        if let psk {
            let identity = Array(psk.identity.utf8)
            let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(identity.count, 1))
            _ = storage.initialize(from: identity)
            identityStorage = storage
            clientPSK = (identity, psk.key)
            SSL_set_psk_use_session_callback(ssl, pskUseSession)
        }
        configureClient(ssl, context: context, serverName: serverName)
        // A copy is offered: OpenSSL marks a TLS 1.3 session it resumed as not resumable (tickets are meant to be
        // single-use), and a device keeps resuming with the same ticket until the server renews it.
        if let session, session.isResumable, let copy = SSL_SESSION_dup(session.session) {
            _ = SSL_set_session(ssl, copy)
            SSL_SESSION_free(copy)
        }
    }

    deinit {
        SSL_free(ssl)  // frees both BIOs too
        identityStorage?.deallocate()
    }

    private static func makeSSL(_ context: TLSContext) throws(TLSError)
        -> (OpaquePointer, OpaquePointer, OpaquePointer)
    {
        guard let ssl = SSL_new(context.context) else { throw TLSError.openSSL("cannot create a TLS connection") }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.openSSL("cannot create TLS buffers")
        }
        // An empty read buffer means "wait for more", not end of file.
        _ = fw_BIO_set_mem_eof_return(readBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)
        return (ssl, readBIO, writeBIO)
    }

    /// The transport whose SSL is `ssl` (for OpenSSL's callbacks).
    static func owner(of ssl: OpaquePointer) -> TLSTransport? {
        guard let pointer = fw_SSL_get_app_data(ssl) else { return nil }
        return Unmanaged<TLSTransport>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Takes over `underlying` (becomes its handler) and starts the deadline; `input` is ciphertext already read
    /// (a sniffer's first bytes). Returns how much of `input` was consumed. A client sends its ClientHello now if
    /// the underlying transport is connected (else when it opens).
    @discardableResult
    public func start(handshakeTimeout: Duration, input: UnsafeRawBufferPointer? = nil, alreadyRead: Int = 0) -> Int {
        underlying.handler = self
        ciphertextRead += UInt64(alreadyRead)
        handshakeTimer = loop.schedule(after: handshakeTimeout) { [weak self] in
            guard let self, !isHandshakeComplete, !closed else { return }
            handshakeTimer = nil
            didHandshakeTimeOut = true
            failHandshake(TLSError("the TLS handshake did not finish within \(handshakeTimeout)"), sendAlert: false)
        }
        if !context.isServer && !underlying.isClosed { driveHandshake() }
        guard let input, !input.isEmpty else { return 0 }
        return connection(underlying, didReceive: input)
    }

    // MARK: ByteTransport

    public var loop: EventLoop { underlying.loop }
    public var isClosed: Bool { closed || underlying.isClosed }
    public var isReadingPaused: Bool { isPaused }
    public var outboundByteCount: Int { underlying.outboundByteCount + plainOutbound.count }
    public var remoteAddress: SocketAddress? { underlying.remoteAddress }
    public var segmentCounts: SegmentCounts? { underlying.segmentCounts }
    public var idleTimeout: Duration? {
        get { underlying.idleTimeout }
        set { underlying.idleTimeout = newValue }
    }
    public var writeTimeout: Duration? {
        get { underlying.writeTimeout }
        set { underlying.writeTimeout = newValue }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !isClosed else { return false }
        plainOutbound.append(contentsOf: bytes)
        flush()
        return true
    }

    public func enqueue(_ bytes: some Collection<UInt8>) -> Bool {
        guard !isClosed else { return false }
        plainOutbound.append(contentsOf: bytes)
        if !isFlushScheduled {
            isFlushScheduled = true
            _ = loop.schedule(after: .zero) { [weak self] in
                guard let self else { return }
                isFlushScheduled = false
                flush()
            }
        }
        return true
    }

    public func flush() {
        guard isHandshakeComplete, !isClosed else { return }
        if !plainOutbound.isEmpty {
            let plaintext = plainOutbound
            plainOutbound.removeAll(keepingCapacity: plainOutbound.capacity <= 4096)
            encrypt(plaintext)
        }
        underlying.flush()
    }

    public func pauseReading() {
        isPaused = true
        underlying.pauseReading()
    }

    public func resumeReading() {
        guard isPaused else { return }
        isPaused = false
        underlying.resumeReading()
        if !plainUnconsumed.isEmpty && !isRedeliveryScheduled {
            isRedeliveryScheduled = true
            _ = loop.schedule(after: .zero) { [weak self] in
                guard let self else { return }
                isRedeliveryScheduled = false
                if !isPaused && !isClosed { deliverPlaintext(nil) }
            }
        }
    }

    public func shutdownOutput() {
        flush()
        sendCloseNotify()
        underlying.shutdownOutput()
    }

    public func closeLingering(timeout: Duration) {
        flush()
        sendCloseNotify()
        underlying.closeLingering(timeout: timeout)
    }

    public func close() {
        underlying.close()
        // `underlying` tells us (didCloseWith) and we tell the handler; a transport already closed told us before.
    }
}

/// Client: offers the external PSK (identity and a session built from the key) to OpenSSL.
private let pskUseSession:
    @convention(c) (
        OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<Int>?,
        UnsafeMutablePointer<OpaquePointer?>?
    ) -> Int32 = { ssl, _, identityOut, identityLengthOut, sessionOut in
        guard let ssl, let identityOut, let identityLengthOut, let sessionOut,
            let transport = TLSTransport.owner(of: ssl), var psk = transport.clientPSK,
            let storage = transport.identityStorage
        else { return 0 }
        guard let session = externalPSKSession(ssl, key: &psk.key) else { return 0 }
        identityOut.pointee = UnsafePointer(storage.baseAddress)
        identityLengthOut.pointee = psk.identity.count
        sessionOut.pointee = session
        return 1
    }
