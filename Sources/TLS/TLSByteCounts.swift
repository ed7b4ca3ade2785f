/// What a TLS connection's ciphertext carried besides the plaintext its handler saw, as running totals. With the
/// plaintext (`TLSTransport.bytesRead` / `bytesWritten`) they add up to the bytes on the socket underneath, once
/// the connection has closed; while it is open, ciphertext not yet processed (a partial record) is in none of them.
public struct TLSByteCounts: Equatable, Sendable {
    /// Handshake records received (whole: headers included), ChangeCipherSpec, post-handshake messages.
    public var handshakeIn: UInt64 = 0
    /// Handshake records sent, session tickets included.
    public var handshakeOut: UInt64 = 0
    /// Overhead of received application-data records (header, inner content type, tag), alerts, and at close any
    /// ciphertext never processed.
    public var recordIn: UInt64 = 0
    /// Overhead of sent application-data records, and alerts (close_notify).
    public var recordOut: UInt64 = 0

    /// All zero.
    public init() {}
}

/// How a TLS connection's session was established.
public enum TLSHandshakeKind: String, Equatable, Sendable {
    /// A full handshake, authenticated by the server's certificate.
    case full
    /// A resumption from a session ticket.
    case resumed
    /// An external pre-shared key (TLS 1.3 PSK, with ECDHE).
    case psk
}
