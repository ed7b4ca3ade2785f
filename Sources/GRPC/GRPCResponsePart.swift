/// One piece of a gRPC response as a server call produces it, before any transport encodes it. A call emits
/// `headers`, then any `message`s, then exactly one `status`; or only a `status`, which the transport sends as a
/// Trailers-Only response. HTTP/2 turns them into a HEADERS frame, DATA and trailers; gRPC-Web over HTTP/1.1 would
/// turn them into a response head, body frames and a trailer frame, with the same call code producing them.
public enum GRPCResponsePart: Equatable, Sendable {
    /// Response metadata (`content-type` and custom headers); the transport adds its own status line (`:status`).
    case headers(GRPCMetadata)
    /// One serialized message; the transport adds the 5-byte prefix (`GRPCMessageFramer`).
    case message([UInt8])
    /// The call's outcome and any trailing metadata beyond `grpc-status`/`grpc-message`; ends the response.
    case status(GRPCStatus, trailers: GRPCMetadata)
}
