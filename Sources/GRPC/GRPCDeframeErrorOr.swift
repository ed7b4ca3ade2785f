/// What `GRPCMessageDeframer.process` throws: its own framing failure or the error the per-message handler threw,
/// kept apart (with typed throws) so a caller maps each to its own status without casting.
public enum GRPCDeframeErrorOr<Handler: Error>: Error {
    /// The bytes are not valid gRPC framing.
    case deframe(GRPCDeframeError)
    /// The message handler refused a message.
    case handler(Handler)
}

extension GRPCDeframeErrorOr where Handler == GRPCStatus {
    /// The status that ends the call: the framing failure's, or the one the handler threw.
    public var status: GRPCStatus {
        switch self {
        case .deframe(let error): error.status
        case .handler(let status): status
        }
    }
}
