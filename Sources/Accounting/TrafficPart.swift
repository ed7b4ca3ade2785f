/// What a run of bytes carried: the categories every row splits its bytes into in each direction (the two TLS ones
/// only on TLS connections).
public enum TrafficPart: Equatable, Sendable {
    /// HTTP/1.1 start lines and headers; HTTP/2 HEADERS, CONTINUATION and PUSH_PROMISE payloads (HPACK).
    case header
    /// Frame headers, chunk framing, gRPC message prefixes, control frames, the HTTP/2 preface.
    case framing
    /// Message bodies: JSON or protobuf.
    case payload
    /// TLS handshake records and post-handshake messages (tickets).
    case tlsHandshake
    /// TLS record headers, inner content types, AEAD tags, alerts.
    case tlsRecord
}
