import GRPC

/// What a gRPC call needs from whatever carries it: a way to write response parts. HTTP/2 streams implement it
/// today (GRPCServerStream); gRPC-Web over HTTP/1.1 would implement it the same way, and the call's policy
/// (TelemetryCallRunner) would serve it unchanged. The transport learns that the call ended from the `.status`
/// part, and does its own per-transport bookkeeping (held bytes, byte ledger, stream table) when it writes parts.
protocol GRPCCallTransport: AnyObject {
    /// Writes one part of the response: headers, a message (the transport frames it), or the final status.
    func write(_ part: GRPCResponsePart)
}
