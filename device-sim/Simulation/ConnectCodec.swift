// The message codec of a Connect device's requests (`--connect-codec`): the Batch as bare protobuf or as protobuf's
// canonical JSON mapping, announced by the request's Content-Type; the collector answers the Ack in the same codec.

/// How a Connect device encodes its Push requests.
public enum ConnectCodec: String, CaseIterable, Equatable, Hashable, Sendable {
    /// `application/proto`: the Batch's protobuf bytes, no prefix.
    case proto
    /// `application/json`: the Batch in proto3 canonical JSON.
    case json

    /// The codec named `name` on the command line (`proto`, `json`), or nil.
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// The flag's spelling.
    public var name: String { rawValue }

    /// The request's (and the successful response's) Content-Type.
    public var contentType: String {
        switch self {
        case .proto: "application/proto"
        case .json: "application/json"
        }
    }
}
