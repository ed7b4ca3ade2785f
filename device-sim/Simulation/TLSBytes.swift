// What TLS costs a device beyond the plaintext its protocol sent, in the simulator's directions (sent = to the
// collector). With the plaintext they add up to the socket's bytes: `bytesSent = plaintext sent + handshakeSent +
// recordSent`, and the same for received. The collector books the same bytes as `tls_handshake_bytes_in/out` and
// `tls_record_bytes_in/out` (its `in` is our `sent`).
//
// - handshake: handshake records whole (headers included), ChangeCipherSpec, post-handshake messages (tickets);
// - record: the overhead of application-data records (5-byte header, inner content type, AEAD tag) and alerts.

/// TLS bytes beyond the plaintext; see above.
public struct TLSBytes: Equatable, Sendable {
    /// Handshake bytes sent.
    public var handshakeSent: Int64 = 0
    /// Handshake bytes received (the server's flight, certificate and tickets included).
    public var handshakeReceived: Int64 = 0
    /// Record overhead sent.
    public var recordSent: Int64 = 0
    /// Record overhead received.
    public var recordReceived: Int64 = 0

    /// Memberwise; all zero by default.
    public init(handshakeSent: Int64 = 0, handshakeReceived: Int64 = 0, recordSent: Int64 = 0, recordReceived: Int64 = 0) {
        self.handshakeSent = handshakeSent
        self.handshakeReceived = handshakeReceived
        self.recordSent = recordSent
        self.recordReceived = recordReceived
    }

    /// Handshake bytes both ways.
    public var handshakeTotal: Int64 { handshakeSent + handshakeReceived }
    /// Record overhead both ways.
    public var recordTotal: Int64 { recordSent + recordReceived }
    /// True when nothing was counted (a plaintext link).
    public var isZero: Bool { self == TLSBytes() }

    /// Adds another count.
    public static func += (lhs: inout TLSBytes, rhs: TLSBytes) {
        lhs.handshakeSent += rhs.handshakeSent
        lhs.handshakeReceived += rhs.handshakeReceived
        lhs.recordSent += rhs.recordSent
        lhs.recordReceived += rhs.recordReceived
    }

    /// The sum.
    public static func + (lhs: TLSBytes, rhs: TLSBytes) -> TLSBytes {
        var sum = lhs
        sum += rhs
        return sum
    }

    /// The difference `lhs − rhs` (the growth of running totals).
    public static func - (lhs: TLSBytes, rhs: TLSBytes) -> TLSBytes {
        TLSBytes(
            handshakeSent: lhs.handshakeSent - rhs.handshakeSent,
            handshakeReceived: lhs.handshakeReceived - rhs.handshakeReceived,
            recordSent: lhs.recordSent - rhs.recordSent, recordReceived: lhs.recordReceived - rhs.recordReceived)
    }
}

/// How a TLS connection's session was established (the simulator's copy of TLS's kinds: Simulation imports no
/// networking).
public enum HandshakeKind: String, CaseIterable, Equatable, Sendable {
    /// A full handshake, the server authenticated by its certificate.
    case full
    /// Resumed from a session ticket.
    case resumed
    /// An external pre-shared key (TLS 1.3 PSK with ECDHE).
    case psk
}

/// Completed TLS handshakes by kind.
public struct HandshakeCounts: Equatable, Sendable {
    /// Full handshakes.
    public var full: Int64 = 0
    /// Resumed handshakes.
    public var resumed: Int64 = 0
    /// External-PSK handshakes.
    public var psk: Int64 = 0

    /// All zero.
    public init() {}

    /// All kinds.
    public var total: Int64 { full + resumed + psk }

    /// The count of one kind.
    public subscript(kind: HandshakeKind) -> Int64 {
        get {
            switch kind {
            case .full: full
            case .resumed: resumed
            case .psk: psk
            }
        }
        set {
            switch kind {
            case .full: full = newValue
            case .resumed: resumed = newValue
            case .psk: psk = newValue
            }
        }
    }

    /// Adds another count.
    public static func += (lhs: inout HandshakeCounts, rhs: HandshakeCounts) {
        lhs.full += rhs.full
        lhs.resumed += rhs.resumed
        lhs.psk += rhs.psk
    }
}
