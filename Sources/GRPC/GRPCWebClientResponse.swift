// The client's view of a gRPC-Web call's response (PROTOCOL-WEB): the HTTP status and headers, then a body of
// frames: at most one message frame (flag 0x00) with the Ack, then the trailer frame (flag 0x80) whose HTTP/1-style
// header block carries grpc-status; nothing may follow it. A Trailers-Only response has grpc-status in the headers
// and an empty body. In the text form the body is base64, possibly several padded segments (GRPCWebText). A gRPC-Web
// server answers 200 even for errors; the body of any other status (a proxy's page) is not frames and is ignored, so
// the status maps as gRPC maps HTTP statuses.
//
// The body may arrive in pieces split anywhere; a frame's length is checked against the limit at its prefix, before
// it is buffered. The rules for what the status, the message and their absence mean are TelemetryClientResponse's,
// which this type feeds, so gRPC over HTTP/2 and gRPC-Web judge answers alike.

import Telemetry

/// Collects one gRPC-Web Push response and yields its outcome; see above.
public struct GRPCWebClientResponse {
    /// Largest frame accepted (message or trailers): an Ack and a status line are a few dozen bytes.
    public static let maxFrameBytes = 1 << 16

    private let encoding: GRPCWebFraming.Encoding
    private var response = TelemetryClientResponse()
    private var text = GRPCWebText()
    /// Decoded bytes of a frame not complete yet.
    private var pending: [UInt8] = []
    private var hasTrailers = false
    private var malformed: GRPCStatus?
    /// The HTTP status was not 200: the body is not gRPC-Web.
    private var isIgnoringBody = false

    /// Nothing received yet; the body is in `encoding` (the response's content type decides, see
    /// `receiveHead`).
    public init(encoding: GRPCWebFraming.Encoding) {
        self.encoding = encoding
    }

    /// The response's status and headers (a Trailers-Only response's grpc-status among them).
    public mutating func receiveHead(httpStatus: Int, _ metadata: GRPCMetadata) {
        response.receiveHeaders(httpStatus: httpStatus, metadata)
        isIgnoringBody = httpStatus != 200
    }

    /// The next piece of the body, as it came off the wire.
    public mutating func receiveBody(_ piece: some Collection<UInt8>) {
        guard malformed == nil, !isIgnoringBody else { return }
        if encoding == .text {
            do {
                pending += try text.decode(piece)
            } catch {
                malformed = GRPCStatus(.internal, "\(error)")
                return
            }
        } else {
            pending += piece
        }
        var offset = 0
        while pending.count - offset >= GRPCMessageFramer.prefixLength {
            let flag = pending[offset]
            let length =
                Int(pending[offset + 1]) << 24 | Int(pending[offset + 2]) << 16
                | Int(pending[offset + 3]) << 8 | Int(pending[offset + 4])
            guard length <= Self.maxFrameBytes else {
                malformed = GRPCStatus(.internal, "response frame of \(length) bytes (limit \(Self.maxFrameBytes))")
                return
            }
            let end = offset + GRPCMessageFramer.prefixLength + length
            guard end <= pending.count else { break }
            guard !hasTrailers else {
                malformed = GRPCStatus(.internal, "a frame after the trailers")
                return
            }
            let payload = pending[(offset + GRPCMessageFramer.prefixLength)..<end]
            switch flag {
            case 0:
                pending[offset..<end].withUnsafeBytes { response.receiveData($0) }
            case GRPCWebFraming.trailerFlag:
                guard let trailers = GRPCWebFraming.parseTrailerBlock(payload) else {
                    malformed = GRPCStatus(.internal, "malformed trailer frame")
                    return
                }
                response.receiveHeaders(httpStatus: nil, trailers)
                hasTrailers = true
            default:
                malformed = GRPCStatus(.internal, "response frame with flag 0x\(String(flag, radix: 16))")
                return
            }
            offset = end
        }
        pending.removeFirst(offset)
    }

    /// The body ended: the call's outcome.
    public func outcome() -> Result<Ack, GRPCStatus> {
        if let malformed { return .failure(malformed) }
        do {
            try text.finish()
        } catch {
            return .failure(GRPCStatus(.internal, "\(error)"))
        }
        guard pending.isEmpty else {
            return .failure(GRPCStatus(.internal, "the body ends inside a frame (\(pending.count) bytes of it)"))
        }
        return response.outcome(errorCode: 0)
    }
}
