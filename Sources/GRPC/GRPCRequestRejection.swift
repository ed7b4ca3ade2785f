/// How the server refuses a request at its head. Two kinds because the gRPC spec answers a request that is not
/// gRPC at the HTTP level (it may come from any HTTP client) and a gRPC request with a gRPC status.
public enum GRPCRequestRejection: Error, Equatable, Sendable {
    /// Not a gRPC request at the HTTP level (wrong method or content type): answer with this HTTP status.
    case http(status: Int, message: String)
    /// A gRPC request that fails: answer Trailers-Only with this status (plus `grpc-accept-encoding` for
    /// encoding problems).
    case grpc(GRPCStatus)
}
