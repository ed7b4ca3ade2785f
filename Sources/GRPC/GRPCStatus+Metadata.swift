// How a status travels (gRPC HTTP/2 protocol): in trailers after the messages, or, when the call fails before any
// response headers, in a Trailers-Only response whose single header block also carries the content type.

extension GRPCStatus {
    /// `grpc-status` and, when there is a message, the percent-encoded `grpc-message`.
    public var trailers: GRPCMetadata {
        var metadata: GRPCMetadata = ["grpc-status": String(code.rawValue)]
        if !message.isEmpty { metadata.append("grpc-message", GRPCMessageText.encode(message)) }
        return metadata
    }

    /// The metadata of a Trailers-Only response carrying this status (after the transport's `:status 200`): the
    /// content type, the status, and for UNIMPLEMENTED the encodings the server accepts.
    public var trailersOnlyMetadata: GRPCMetadata {
        var metadata = GRPCMetadata.responseHeaders + trailers
        if code == .unimplemented { metadata.append("grpc-accept-encoding", GRPCRequestHead.acceptedEncodings) }
        return metadata
    }
}
