/// Bytes in one direction, split by what they carried (see `TrafficPart`).
public struct Traffic: Equatable, Sendable {
    /// HTTP/1.1 start lines and headers; HTTP/2 HEADERS and CONTINUATION payloads (HPACK).
    public var header: Int64 = 0
    /// Frame headers, chunk framing, gRPC message prefixes, control frames, the HTTP/2 preface.
    public var framing: Int64 = 0
    /// Message bodies: JSON or protobuf.
    public var payload: Int64 = 0

    /// Memberwise; every part defaults to 0.
    public init(header: Int64 = 0, framing: Int64 = 0, payload: Int64 = 0) {
        self.header = header
        self.framing = framing
        self.payload = payload
    }

    /// `count` bytes of one part.
    public init(_ part: TrafficPart, _ count: Int64) {
        self.init()
        add(count, as: part)
    }

    /// All bytes in this direction.
    public var total: Int64 { header + framing + payload }

    /// Adds `count` bytes to one part.
    public mutating func add(_ count: Int64, as part: TrafficPart) {
        switch part {
        case .header: header += count
        case .framing: framing += count
        case .payload: payload += count
        }
    }

    /// Adds each part of `rhs` to the same part of `lhs`.
    public static func += (lhs: inout Traffic, rhs: Traffic) {
        lhs.header += rhs.header
        lhs.framing += rhs.framing
        lhs.payload += rhs.payload
    }
}
