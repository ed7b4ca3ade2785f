// Connect's unary protocol (connectrpc.com/docs/protocol) on top of the gRPC call the collector already runs: the
// request body is the bare message (no 5-byte prefix), so it is framed for the Push handler (JSON is decoded by
// protobuf's canonical JSON mapping and re-encoded first, so both codecs meet the same handler and limits); the
// answer is the bare Ack in the request's codec with HTTP 200, or an error with the HTTP status of its code and the
// JSON body `{"code","message"}`. The pure parts (codecs, code names and statuses, headers) are GRPC's
// `ConnectProtocol`.

import CollectorService
import GRPC
import Telemetry

/// The collector's side of a Connect unary call's bytes (see the file comment).
enum ConnectUnaryCall {
    /// The checks of a Connect request's headers, in order: `Connect-Protocol-Version`, `Content-Encoding`,
    /// `Connect-Timeout-Ms`; returns the timeout in nanoseconds, or throws the status refusing the call.
    static func checkHeaders(_ metadata: GRPCMetadata) throws(GRPCStatus) -> UInt64? {
        try ConnectProtocol.checkProtocolVersion(metadata[ConnectProtocol.protocolVersionHeader])
        try ConnectProtocol.checkContentEncoding(metadata["content-encoding"])
        guard let timeout = metadata[ConnectProtocol.timeoutHeader] else { return nil }
        return try ConnectProtocol.parseTimeout(timeout)
    }

    /// The request body as one gRPC frame for the Push handler.
    static func framedRequest(_ body: [UInt8], codec: ConnectProtocol.Codec, limits: DecodeLimits)
        -> Result<[UInt8], GRPCStatus>
    {
        switch codec {
        case .proto:
            return .success(GRPCMessageFramer.frame(body))
        case .json:
            guard body.count <= limits.maxMessageBytes else {
                return .failure(GRPCStatus(
                    .resourceExhausted, "message of \(body.count) bytes exceeds the limit of \(limits.maxMessageBytes) bytes"))
            }
            do throws(DecodeError) {
                let batch = try Batch(protoJSON: body, limits: limits)
                return .success(GRPCMessageFramer.frame(batch.protobufBytes()))
            } catch {
                return .failure(GRPCStatus(.invalidArgument, "Batch: \(error.description)"))
            }
        }
    }

    /// The answer carrying the Ack message (protobuf bytes from the handler) in `codec`.
    static func ackResponse(_ message: [UInt8], codec: ConnectProtocol.Codec) -> RESTResponse {
        let body: [UInt8]
        switch codec {
        case .proto: body = message
        case .json: body = (try? Ack(protobuf: message))?.protoJSONBytes() ?? message
        }
        return RESTResponse(status: 200, headers: [("content-type", ConnectProtocol.unaryContentType(codec))], body: body)
    }

    /// The error answer for `status`: the HTTP status of its code, `{"code","message"}`; `Retry-After` when it is
    /// UNAVAILABLE or RESOURCE_EXHAUSTED from overload (as REST answers 503).
    static func errorResponse(_ status: GRPCStatus) -> RESTResponse {
        var headers: [(name: String, value: String)] = [("content-type", ConnectProtocol.errorContentType)]
        if status.code == .unavailable { headers.append(("retry-after", "1")) }
        return RESTResponse(status: status.code.connectHTTPStatus, headers: headers, body: status.connectErrorJSON)
    }
}
