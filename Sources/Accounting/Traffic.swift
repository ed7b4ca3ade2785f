/// Bytes in one direction, split by what they carried (see `TrafficPart`).
public struct Traffic: Equatable, Sendable {
    /// HTTP/1.1 start lines and headers; HTTP/2 HEADERS and CONTINUATION payloads (HPACK).
    public var header: Int64 = 0
    /// Frame headers, chunk framing, gRPC message prefixes, control frames, the HTTP/2 preface.
    public var framing: Int64 = 0
    /// Message bodies: JSON or protobuf.
    public var payload: Int64 = 0
    /// TLS handshake records, whole (ClientHello to Finished, ChangeCipherSpec), and post-handshake messages such
    /// as session tickets; 0 on plaintext connections.
    public var tlsHandshake: Int64 = 0
    /// TLS record overhead of application data (5-byte headers, inner content type, AEAD tags, padding) and alerts;
    /// 0 on plaintext connections.
    public var tlsRecord: Int64 = 0

    /// Memberwise; every part defaults to 0.
    public init(
        header: Int64 = 0, framing: Int64 = 0, payload: Int64 = 0, tlsHandshake: Int64 = 0, tlsRecord: Int64 = 0
    ) {
        self.header = header
        self.framing = framing
        self.payload = payload
        self.tlsHandshake = tlsHandshake
        self.tlsRecord = tlsRecord
    }

    /// `count` bytes of one part.
    public init(_ part: TrafficPart, _ count: Int64) {
        self.init()
        add(count, as: part)
    }

    /// All bytes in this direction: on a TLS connection the ciphertext, which is the plaintext parts plus the TLS
    /// parts.
    public var total: Int64 { header + framing + payload + tlsHandshake + tlsRecord }

    /// The TLS bytes in this direction (handshake and record overhead).
    public var tls: Int64 { tlsHandshake + tlsRecord }

    /// Adds `count` bytes to one part.
    public mutating func add(_ count: Int64, as part: TrafficPart) {
        switch part {
        case .header: header += count
        case .framing: framing += count
        case .payload: payload += count
        case .tlsHandshake: tlsHandshake += count
        case .tlsRecord: tlsRecord += count
        }
    }

    /// Adds each part of `rhs` to the same part of `lhs`.
    public static func += (lhs: inout Traffic, rhs: Traffic) {
        lhs.header += rhs.header
        lhs.framing += rhs.framing
        lhs.payload += rhs.payload
        lhs.tlsHandshake += rhs.tlsHandshake
        lhs.tlsRecord += rhs.tlsRecord
    }
}
