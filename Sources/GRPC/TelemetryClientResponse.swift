// The client's view of a Telemetry call's response, per the gRPC HTTP/2 protocol: response headers (or a
// Trailers-Only response), at most one Ack message, then trailers with grpc-status. When grpc-status never arrives
// the status is synthesized from the HTTP status or the stream's reset code.

import HTTP2
import Telemetry

/// Collects one call's response and yields its outcome.
public struct TelemetryClientResponse {
    private var httpStatus: Int?
    private var status: GRPCStatus?
    private var deframer = GRPCMessageDeframer(maxMessageBytes: 1 << 16)
    private var ack: Ack?
    private var malformed: GRPCStatus?

    public init() {}

    /// A response header block or trailers arrived.
    public mutating func receiveHeaders(_ fields: [HTTP2HeaderField]) {
        if let text = fields[":status"], let code = Int(text) {
            if code >= 100 && code < 200 { return }  // interim response
            httpStatus = code
        }
        if let text = fields["grpc-status"] {
            let code = Int(text).flatMap(GRPCStatus.Code.init(rawValue:)) ?? .unknown
            status = GRPCStatus(code, GRPCMessageText.decode(fields["grpc-message"] ?? ""))
        }
    }

    /// Response DATA arrived.
    public mutating func receiveData(_ bytes: UnsafeRawBufferPointer) {
        var decoded: [Ack] = []
        do throws(GRPCDeframeErrorOr<DecodeError>) {
            try deframer.process(bytes) { (message: UnsafeRawBufferPointer) throws(DecodeError) in
                decoded.append(try Ack(protobuf: message))
            }
        } catch {
            malformed = GRPCStatus(.internal, "malformed response message: \(error)")
        }
        if let last = decoded.last { ack = last }
        if deframer.messageCount > 1 { malformed = GRPCStatus(.internal, "more than one response message") }
    }

    /// The stream closed (`errorCode` from RST_STREAM, 0 otherwise): the call's outcome.
    public func outcome(errorCode: UInt32) -> Result<Ack, GRPCStatus> {
        if let malformed { return .failure(malformed) }
        if let status {
            guard status.code == .ok else { return .failure(status) }
            guard let ack else { return .failure(GRPCStatus(.internal, "OK status without an Ack message")) }
            return .success(ack)
        }
        if let httpStatus, httpStatus != 200 { return .failure(GRPCStatus.fromHTTPStatus(httpStatus)) }
        switch errorCode {
        case HTTP2ErrorCode.refusedStream:
            return .failure(GRPCStatus(.unavailable, "stream refused by the server (nothing was processed)"))
        case HTTP2ErrorCode.cancel: return .failure(GRPCStatus(.cancelled, "stream cancelled"))
        case HTTP2ErrorCode.enhanceYourCalm: return .failure(GRPCStatus(.resourceExhausted, "ENHANCE_YOUR_CALM"))
        case HTTP2ErrorCode.noError: return .failure(GRPCStatus(.internal, "stream closed without grpc-status"))
        default: return .failure(GRPCStatus(.internal, "stream reset with HTTP/2 error \(errorCode)"))
        }
    }
}
