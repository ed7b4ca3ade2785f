// Connect's server streaming (connectrpc.com/docs/protocol, `application/connect+json` or `+proto`) for Watch, on
// top of the Watch call the collector already runs: the request body is one envelope (flags, 4-byte length, the
// WatchRequest), which is framed for the call (JSON decoded by protobuf's canonical JSON mapping and re-encoded
// first); each DeviceBatch goes out in an envelope in the request's codec, and the stream ends with the
// end-of-stream envelope (flag 0x02, always JSON: `{}` or `{"error":{"code","message"}}`), which is also the whole
// answer (HTTP 200) when the call fails before its first message. GRPC's `ConnectEnvelope` has the framing.

import CollectorService
import GRPC
import Telemetry

/// The collector's side of a Connect server-streaming call's bytes (see the file comment).
enum ConnectStreamCall {
    /// The request body's messages as gRPC frames for the Watch call.
    static func framedRequest(_ body: [UInt8], codec: ConnectProtocol.Codec, limits: DecodeLimits)
        -> Result<[UInt8], GRPCStatus>
    {
        var reader = ConnectEnvelopeReader(maxMessageBytes: limits.maxMessageBytes)
        do throws(GRPCStatus) {
            let messages = try reader.append(body)
            try reader.finish()
            var framed: [UInt8] = []
            for message in messages {
                switch codec {
                case .proto:
                    framed += GRPCMessageFramer.frame(message)
                case .json:
                    do throws(DecodeError) {
                        framed += GRPCMessageFramer.frame(try WatchRequest(protoJSON: message).protobufBytes())
                    } catch {
                        throw GRPCStatus(.invalidArgument, "WatchRequest: \(error.description)")
                    }
                }
            }
            return .success(framed)
        } catch {
            return .failure(error)
        }
    }

    /// One DeviceBatch (protobuf bytes from the call) in an envelope in `codec`.
    static func envelope(_ message: [UInt8], codec: ConnectProtocol.Codec) -> [UInt8] {
        switch codec {
        case .proto: ConnectEnvelope.frame(message: message)
        case .json: ConnectEnvelope.frame(message: (try? DeviceBatch(protobuf: message))?.protoJSONBytes() ?? [])
        }
    }

    /// The answer of a call that ended before its first message: HTTP 200 and the end-of-stream envelope alone.
    static func endedResponse(_ status: GRPCStatus, codec: ConnectProtocol.Codec) -> RESTResponse {
        RESTResponse(status: 200, headers: [("content-type", ConnectProtocol.streamingContentType(codec))],
                     body: ConnectEnvelope.endStream(error: status))
    }
}
