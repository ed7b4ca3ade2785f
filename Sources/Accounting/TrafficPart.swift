/// What a run of bytes carried: the three categories every row splits its bytes into in each direction.
public enum TrafficPart: Equatable, Sendable {
    /// HTTP/1.1 start lines and headers; HTTP/2 HEADERS, CONTINUATION and PUSH_PROMISE payloads (HPACK).
    case header
    /// Frame headers, chunk framing, gRPC message prefixes, control frames, the HTTP/2 preface.
    case framing
    /// Message bodies: JSON or protobuf.
    case payload
}
