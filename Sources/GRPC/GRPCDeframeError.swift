/// Why a stream's message bytes cannot be split into messages.
public enum GRPCDeframeError: Error, Equatable, Sendable {
    /// The compressed flag is set, but the call negotiated no supported compression (we support identity only).
    case compressedMessage
    /// The flag byte is neither 0 nor 1.
    case invalidFlag(UInt8)
    /// The length prefix announces more bytes than the limit allows (checked before buffering).
    case messageTooLarge(length: UInt32, limit: Int)
    /// The stream ended in the middle of a message.
    case truncatedMessage(missingBytes: Int)

    /// The status the server answers with.
    public var status: GRPCStatus {
        switch self {
        case .compressedMessage:
            GRPCStatus(.unimplemented, "compressed message but no supported grpc-encoding (only identity)")
        case .invalidFlag(0x80):  // gRPC-Web's trailer flag (GRPCWebFraming.trailerFlag)
            GRPCStatus(.invalidArgument, "a trailer frame (flag 0x80) came from the client; only the server sends one")
        case .invalidFlag(let flag): GRPCStatus(.internal, "invalid message flag \(flag)")
        case .messageTooLarge(let length, let limit):
            GRPCStatus(.resourceExhausted, "message of \(length) bytes exceeds the limit of \(limit) bytes")
        case .truncatedMessage(let missing):
            GRPCStatus(.invalidArgument, "stream ended inside a message (\(missing) bytes missing)")
        }
    }
}
