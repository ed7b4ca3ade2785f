import GRPC
import HTTP2

/// Writes one gRPC call's response parts on its HTTP/2 stream: the headers as a HEADERS frame, each message framed
/// in DATA (counted in the connection ledger's message prefixes), the status in trailers, or alone as a
/// Trailers-Only HEADERS when no headers went out. A gRPC-Web call (`web` set) gets gRPC-Web's content type and its
/// status as a trailer frame in the last DATA (base64 in text mode); a Connect server stream (`connect` set) gets
/// Connect's streaming content type, each message in an envelope and the status in the end-of-stream envelope, which
/// is also the whole body of an early failure (HTTP 200). The status also ends the stream's hold on
/// request bytes and replaces it in the stream table by `AnsweredServerStream`. Shared by every gRPC stream kind
/// (Telemetry calls in GRPCServerStream, standard services in StandardServiceStream, Watch in WatchServerStream) so
/// the HTTP/2 encoding of a call is written once.
struct HTTP2GRPCResponseWriter {
    /// The HTTP/2 stream id.
    let streamID: Int32
    /// The gRPC-Web encoding of the response; nil for gRPC.
    let web: GRPCWebFraming.Encoding?
    /// The Connect codec of a Connect server stream; nil otherwise.
    let connect: ConnectProtocol.Codec?
    /// Headers every gRPC-Web or Connect answer carries (CORS), after its own.
    let cors: GRPCMetadata
    /// Response headers are out: the status goes in trailers, not in a Trailers-Only response.
    private var hasSentHeaders = false
    /// The session refused the response headers (the stream is gone): nothing more of the response is sent.
    private var isResponseAbandoned = false

    /// A writer for stream `streamID`, in gRPC-Web's `web` encoding when set.
    init(streamID: Int32, web: GRPCWebFraming.Encoding? = nil, connect: ConnectProtocol.Codec? = nil,
         cors: GRPCMetadata = GRPCMetadata()) {
        self.streamID = streamID
        self.web = web
        self.connect = connect
        self.cors = cors
    }

    /// Writes `part` on `owner`'s session.
    mutating func write(_ part: GRPCResponsePart, on owner: HTTP2ServerConnection) {
        if let connect { return writeConnect(part, codec: connect, on: owner) }
        let id = streamID
        switch part {
        case .headers(let metadata):
            hasSentHeaders = true
            let headers = web.map { GRPCWebFraming.responseMetadata(metadata, $0) + cors } ?? metadata
            do {
                try owner.session.submitResponse(streamID: id, .response(status: 200, headers), endStream: false)
            } catch {
                isResponseAbandoned = true
            }
        case .message(let message):
            guard !isResponseAbandoned else { return }
            let framed = GRPCMessageFramer.frame(message)
            owner.session.send(streamID: id, web.map { GRPCWebFraming.body(framed, $0) } ?? framed)
            if web != .text { owner.ledger.messages(streamID: id, count: 1, inbound: false) }
        case .status(let status, let trailers):
            // The call is over: its held bytes and its place in the stream table go.
            owner.held.release(id, budget: owner.context.requestBuffers)
            owner.streams[id] = AnsweredServerStream.shared
            if !hasSentHeaders {
                var metadata = status.trailersOnlyMetadata + trailers
                if let web { metadata = GRPCWebFraming.responseMetadata(metadata, web) + cors }
                try? owner.session.submitResponse(streamID: id, .response(status: 200, metadata), endStream: true)
            } else if isResponseAbandoned {
                return
            } else if let web {
                owner.session.send(streamID: id, GRPCWebFraming.body(GRPCWebFraming.trailerFrame(status, trailers: trailers), web))
                if web == .binary { owner.ledger.messages(streamID: id, count: 1, inbound: false) }
                owner.session.finish(streamID: id)
            } else {
                owner.session.finish(streamID: id, trailers: .trailers(status.trailers + trailers))
            }
        }
    }

    /// A Connect server stream's part (see the type's comment).
    private mutating func writeConnect(_ part: GRPCResponsePart, codec: ConnectProtocol.Codec,
                                       on owner: HTTP2ServerConnection) {
        let id = streamID
        let head: [HTTP2HeaderField] = .response(
            status: 200, ["content-type": ConnectProtocol.streamingContentType(codec)] + cors)
        switch part {
        case .headers:
            hasSentHeaders = true
            do { try owner.session.submitResponse(streamID: id, head, endStream: false) } catch {
                isResponseAbandoned = true
            }
        case .message(let message):
            guard !isResponseAbandoned else { return }
            owner.session.send(streamID: id, ConnectStreamCall.envelope(message, codec: codec))
            owner.ledger.messages(streamID: id, count: 1, inbound: false)
        case .status(let status, let trailers):
            owner.held.release(id, budget: owner.context.requestBuffers)
            owner.streams[id] = AnsweredServerStream.shared
            if !hasSentHeaders {
                hasSentHeaders = true
                guard (try? owner.session.submitResponse(streamID: id, head, endStream: false)) != nil else { return }
            } else if isResponseAbandoned {
                return
            }
            owner.session.send(streamID: id, ConnectEnvelope.endStream(error: status, metadata: trailers))
            owner.ledger.messages(streamID: id, count: 1, inbound: false)
            owner.session.finish(streamID: id)
        }
    }
}
