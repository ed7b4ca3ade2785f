// The message codec of a Connect device's requests (`--connect-codec`): the Batch as bare protobuf or as protobuf's
// canonical JSON mapping, announced by the request's Content-Type (`application/proto`, `application/json`: spelled
// in GRPC's ConnectProtocol, which the driver uses); the collector answers the Ack in the same codec.

/// How a Connect device encodes its Push requests.
public enum ConnectCodec: String, CaseIterable, Equatable, Hashable, Sendable {
    /// The Batch's protobuf bytes, no prefix (`application/proto`).
    case proto
    /// The Batch in proto3 canonical JSON (`application/json`).
    case json

    /// The codec named `name` on the command line (`proto`, `json`), or nil.
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// The flag's spelling.
    public var name: String { rawValue }
}
