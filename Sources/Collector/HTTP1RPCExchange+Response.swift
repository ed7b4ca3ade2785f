// How an HTTP/1.1 gRPC-Web or Connect call's response parts become bytes (rules in HTTP1RPCExchange.swift): a
// unary call collects its parts into one response; a Watch writes its head, each message and the trailer frame to
// the connection as they come.

import Accounting
import CollectorService
import GRPC
import HTTP1
import Telemetry

extension HTTP1RPCExchange {
    // MARK: GRPCCallTransport, WatchCallTransport

    func write(_ part: GRPCResponsePart) {
        if watchRunner != nil {
            writeStreamed(part)
            return
        }
        switch part {
        case .headers(let metadata): responseMetadata = metadata
        case .message(let message): responseMessages.append(message)
        case .status(let status, let trailers): answer(finalAnswer(status, trailers: trailers))
        }
    }

    var unsentResponseBytes: Int { owner?.outboundByteCount ?? 0 }

    /// HTTP/1.1 has no PING: the idle timeout is lifted while a watch streams instead.
    func sendKeepAlive() {}

    func scheduleFlush() { owner?.markForFlush() }

    // MARK: Whole answers

    /// The whole answer ending the call with `status`: gRPC-Web's messages and trailer frame (or a Trailers-Only
    /// answer when no headers were produced), or Connect's message or error.
    func finalAnswer(_ status: GRPCStatus, trailers: GRPCMetadata = GRPCMetadata()) -> HTTP1Answer {
        switch kind {
        case .grpcWeb(_, let encoding):
            guard let metadata = responseMetadata else {
                let headers = GRPCWebFraming.responseMetadata(status.trailersOnlyMetadata + trailers, encoding)
                return .whole(RESTResponse(status: 200, headers: Self.pairs(headers)), bodyFraming: 0)
            }
            var body: [UInt8] = []
            for message in responseMessages { body += GRPCMessageFramer.frame(message) }
            let trailerFrame = GRPCWebFraming.trailerFrame(status, trailers: trailers)
            body += trailerFrame
            let framing = encoding == .binary ? 5 * responseMessages.count + trailerFrame.count : 0
            let headers = GRPCWebFraming.responseMetadata(metadata, encoding)
            return .whole(RESTResponse(status: 200, headers: Self.pairs(headers), body: GRPCWebFraming.body(body, encoding)),
                          bodyFraming: framing)
        case .connect(let codec):
            guard status.code == .ok, let message = responseMessages.last else {
                let error = status.code == .ok ? GRPCStatus(.internal, "the call produced no response message") : status
                return .whole(ConnectUnaryCall.errorResponse(error), bodyFraming: 0)
            }
            return .whole(ConnectUnaryCall.ackResponse(message, codec: codec), bodyFraming: 0)
        case .connectStream(let codec):
            let response = ConnectStreamCall.endedResponse(status, codec: codec)
            return .whole(response, bodyFraming: response.body.count)
        }
    }

    // MARK: Streamed answers (Watch)

    private func writeStreamed(_ part: GRPCResponsePart) {
        guard let owner else { return }
        switch part {
        case .headers(let metadata):
            guard !isStreaming else { return }
            isStreaming = true
            var headers = HTTPHeaders()
            for (name, value) in streamedHeaders(metadata) { headers.append(name: name, value: value) }
            for (name, value) in context.configuration.cors.responseHeaders(origin: requestHead.headers["origin"]) {
                headers.append(name: name, value: value)
            }
            let head = HTTPResponseSerializer.makeStreamedHead(to: requestHead, status: .ok, headers: headers)
            owner.writeStreamed(head, header: head.count, framing: 0, payload: 0)
            owner.streamingStarted()
        case .message(let message):
            guard isStreaming else {
                write(.headers(.responseHeaders))
                return write(part)
            }
            let (bytes, framing) = streamedMessage(message)
            writeChunk(bytes, framing: framing, on: owner)
        case .status(let status, let trailers):
            guard isStreaming else {
                answer(finalAnswer(status, trailers: trailers))
                return
            }
            let frame = streamedEnd(status, trailers: trailers)
            writeChunk(frame, framing: frame.count, on: owner)
            let end = HTTPResponseSerializer.streamedEnd(version: requestHead.version)
            owner.writeStreamed(end, header: 0, framing: end.count, payload: 0)
            answer(.streamEnded)
        }
    }

    /// The streamed answer's headers: the content type of its protocol, then the call's metadata.
    private func streamedHeaders(_ metadata: GRPCMetadata) -> [(name: String, value: String)] {
        switch kind {
        case .grpcWeb(_, let encoding): Self.pairs(GRPCWebFraming.responseMetadata(metadata, encoding))
        case .connect(let codec), .connectStream(let codec):
            [("content-type", ConnectProtocol.streamingContentType(codec))]
        }
    }

    /// One message of the streamed answer and how many of its bytes are framing.
    private func streamedMessage(_ message: [UInt8]) -> (bytes: [UInt8], framing: Int) {
        switch kind {
        case .grpcWeb(_, let encoding):
            (GRPCWebFraming.body(GRPCMessageFramer.frame(message), encoding), encoding == .binary ? 5 : 0)
        case .connect(let codec), .connectStream(let codec):
            (ConnectStreamCall.envelope(message, codec: codec), ConnectEnvelope.prefixLength)
        }
    }

    /// What ends the streamed answer: gRPC-Web's trailer frame, or Connect's end-of-stream envelope.
    private func streamedEnd(_ status: GRPCStatus, trailers: GRPCMetadata) -> [UInt8] {
        switch kind {
        case .grpcWeb(_, let encoding):
            GRPCWebFraming.body(GRPCWebFraming.trailerFrame(status, trailers: trailers), encoding)
        case .connect, .connectStream:
            ConnectEnvelope.endStream(error: status, metadata: trailers)
        }
    }

    /// One write of the streamed body, in a chunk; `framing` of `bytes` are protocol framing.
    private func writeChunk(_ bytes: [UInt8], framing: Int, on owner: HTTP1ServerConnection) {
        let chunk = HTTPResponseSerializer.streamedChunkFraming(byteCount: bytes.count, version: requestHead.version)
        owner.writeStreamed(chunk.prefix + bytes + chunk.suffix, header: 0,
                            framing: chunk.prefix.count + chunk.suffix.count + framing, payload: bytes.count - framing)
    }

    /// Metadata as response header pairs.
    static func pairs(_ metadata: GRPCMetadata) -> [(name: String, value: String)] {
        metadata.map { ($0.name, $0.value) }
    }
}
