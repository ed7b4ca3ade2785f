// The client's view of a Telemetry call's response, per the gRPC HTTP/2 protocol: response headers (or a
// Trailers-Only response), at most one Ack message (any number on a Sync stream, taken as they arrive), then
// trailers with grpc-status. When grpc-status never arrives
// the status is synthesized from the HTTP status or the stream's reset code. The transport hands over each header
// block as its HTTP status plus metadata, so this type knows no transport's header type.

import Telemetry

/// Collects one call's response and yields its outcome; the simulator and the tests' client both use it, so they
/// judge responses by the same rules.
public struct TelemetryClientResponse {
    private var httpStatus: Int?
    private var status: GRPCStatus?
    private var deframer = GRPCMessageDeframer(maxMessageBytes: 1 << 16)
    private var ack: Ack?
    private var malformed: GRPCStatus?
    /// Sync: Acks may keep coming; they wait here until taken.
    private let isStreamingAcks: Bool
    private var arrived: [Ack] = []

    /// Nothing received yet; a response message over 64 KiB makes the outcome INTERNAL. `streamingAcks` (a Sync
    /// call) accepts any number of Acks, taken with `takeArrivedAcks` as they come, and an OK end without one.
    public init(streamingAcks: Bool = false) {
        isStreamingAcks = streamingAcks
    }

    /// Sync: the Acks that arrived since the last call, oldest first.
    public mutating func takeArrivedAcks() -> [Ack] {
        defer { arrived.removeAll() }
        return arrived
    }

    /// A response header block or trailers arrived: `httpStatus` is its HTTP status when it has one (`:status`;
    /// trailers have none), `metadata` the rest.
    public mutating func receiveHeaders(httpStatus: Int?, _ metadata: GRPCMetadata) {
        if let code = httpStatus {
            if code >= 100 && code < 200 { return }  // interim response
            self.httpStatus = code
        }
        if let text = metadata["grpc-status"] {
            let code = Int(text).flatMap(GRPCStatus.Code.init(rawValue:)) ?? .unknown
            status = GRPCStatus(code, GRPCMessageText.decode(metadata["grpc-message"] ?? ""))
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
        if isStreamingAcks {
            arrived += decoded
        } else if deframer.messageCount > 1 {
            malformed = GRPCStatus(.internal, "more than one response message")
        }
    }

    /// The stream closed (`errorCode` from RST_STREAM, 0 otherwise): the call's outcome. The codes are HTTP/2's
    /// (RFC 9113 §7), which the gRPC protocol maps to statuses; a transport without resets passes 0.
    public func outcome(errorCode: UInt32) -> Result<Ack, GRPCStatus> {
        if let malformed { return .failure(malformed) }
        if let status {
            guard status.code == .ok else { return .failure(status) }
            guard let ack else {
                if isStreamingAcks { return .success(Ack()) }
                return .failure(GRPCStatus(.internal, "OK status without an Ack message"))
            }
            return .success(ack)
        }
        if let httpStatus, httpStatus != 200 { return .failure(GRPCStatus.fromHTTPStatus(httpStatus)) }
        switch errorCode {
        case Self.refusedStream:
            return .failure(GRPCStatus(.unavailable, "stream refused by the server (nothing was processed)"))
        case Self.cancel: return .failure(GRPCStatus(.cancelled, "stream cancelled"))
        case Self.enhanceYourCalm: return .failure(GRPCStatus(.resourceExhausted, "ENHANCE_YOUR_CALM"))
        case Self.noError: return .failure(GRPCStatus(.internal, "stream closed without grpc-status"))
        default: return .failure(GRPCStatus(.internal, "stream reset with HTTP/2 error \(errorCode)"))
        }
    }

    // HTTP/2 error codes (RFC 9113 §7) that the gRPC protocol maps to statuses.
    private static let noError: UInt32 = 0
    private static let refusedStream: UInt32 = 7
    private static let cancel: UInt32 = 8
    private static let enhanceYourCalm: UInt32 = 11
}
