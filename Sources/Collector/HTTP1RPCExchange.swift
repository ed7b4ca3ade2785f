// One gRPC-Web or Connect call on an HTTP/1.1 connection: the HTTP/1.1 transport of the same call runners the
// HTTP/2 streams use (TelemetryCallRunner for Push, WatchCallRunner for Watch), with the same router and handlers.
// A browser's `fetch` cannot speak HTTP/2 trailers; gRPC-Web puts the status in the body's last frame, Connect in
// the HTTP status and a JSON error body.
//
// Rules:
// - Which requests: a gRPC-Web content type (`application/grpc-web[+proto]`, `application/grpc-web-text[+proto]`)
//   on any path, or Connect's unary types (`application/proto`, `application/json`: Push) or streaming types
//   (`application/connect+json`, `+proto`: Watch) under `/telemetry.v1.Telemetry/`. Everything else under that
//   prefix (`application/grpc` over HTTP/1.1) is refused 415, naming what HTTP/1.1 carries.
// - Decided at the head (so the connection's state machine gets its verdict before the body): the route (unknown
//   method, Upload and Sync, which a browser cannot stream, a bad `device-id`, a malformed timeout) and the
//   credentials (a device's token for Push, the admin token for Watch). A credentials refusal is answered without
//   reading the body, and the connection closes, as for REST; other refusals are answered after the body and keep
//   the connection. Refusals are gRPC-Web Trailers-Only answers (HTTP 200, `grpc-status` in the headers) or
//   Connect error answers (the HTTP status of the code, `{"code","message"}`).
// - Push: the whole body is read first (the parser's `--max-body-bytes`), decoded (base64 for text), handed to
//   the call, and answered once the batch is committed, as one response with a Content-Length.
// - Watch: the answer streams: the head goes out when the subscription is registered (chunked; HTTP/1.0 until
//   close), each DeviceBatch is one chunk (a gRPC-Web frame, or a Connect envelope), the trailer frame (or Connect's
//   end-of-stream envelope) and the last chunk end it. While it streams the
//   connection reads nothing more (no pipelining behind a stream), its idle timeout is lifted (a quiet watch is not
//   idle; the write timeout still closes a client that stops reading) and messages move only while less than the
//   watch's byte bound waits in the connection's output; the runner is pumped again when the output drains.
// - Accounting: the call's row is (`grpc-web` / `grpc-web-text` / `connect`, device) for Push and (`watch`, "") for
//   Watch; gRPC-Web's 5-byte prefixes (binary), Connect's envelope prefixes, chunk framing and the trailer frame
//   (or end-of-stream envelope) are framing bytes.

import Accounting
import CollectorService
import EventIO
import GRPC
import HTTP1
import Telemetry

/// What the HTTP/1.1 connection sends for a request: a whole response, or word that a streamed one has ended.
enum HTTP1Answer {
    /// A complete response; `bodyFraming` of its body's bytes are protocol framing (gRPC-Web's prefixes).
    case whole(RESTResponse, bodyFraming: Int)
    /// A streamed response (written as it went) has ended.
    case streamEnded
}

/// The HTTP/1.1 side of one gRPC-Web or Connect call (see the file comment).
final class HTTP1RPCExchange: GRPCCallTransport, WatchCallTransport {
    let kind: BrowserCallKind
    /// The bandwidth row of the call.
    let key: BandwidthKey
    let requestHead: HTTPRequestHead
    private let route: BrowserCallRoute
    let context: CollectorContext
    private(set) weak var owner: HTTP1ServerConnection?
    private var respond: ((HTTP1Answer) -> Void)?
    private var telemetryRunner: TelemetryCallRunner?
    private(set) var watchRunner: WatchCallRunner?
    /// Unary: the response so far (headers, framed messages).
    var responseMetadata: GRPCMetadata?
    var responseMessages: [[UInt8]] = []
    /// Streaming: the head is out.
    var isStreaming = false

    // MARK: Routing at the head

    /// The exchange for `requestHead`, or nil when it is not a gRPC-Web or Connect request (REST handles it).
    init?(requestHead: HTTPRequestHead, context: CollectorContext, owner: HTTP1ServerConnection, pskDevice: String?) {
        let path = String(requestHead.target.prefix { $0 != "?" })
        let contentType = requestHead.headers["content-type"]
        let recognised = Self.kind(contentType: contentType, accept: requestHead.headers["accept"], path: path)
        guard recognised != nil || path.hasPrefix(TelemetryMethod.servicePathPrefix) else { return nil }
        kind = recognised ?? .grpcWeb(request: .binary, response: .binary)
        self.requestHead = requestHead
        self.context = context
        self.owner = owner
        guard recognised != nil else {
            key = .overhead(.grpcWeb)
            route = .refusedHTTP(RESTError(
                415, "unsupported_media_type",
                "over HTTP/1.1 \(path) takes application/grpc-web, application/grpc-web-text, application/proto or "
                    + "application/json (gRPC needs HTTP/2); got \(contentType ?? "no content type")"))
            return
        }
        let head = Self.callHead(requestHead, path: path)
        (route, key) = BrowserCallRoute.route(head, path: path, kind: kind, context: context, pskDevice: pskDevice)
    }

    /// What a request's content type makes it: gRPC-Web on any path, Connect (unary or streaming) on the service's.
    private static func kind(contentType: String?, accept: String?, path: String) -> BrowserCallKind? {
        guard let contentType else { return nil }
        if let web = GRPCWebFraming.encoding(ofContentType: contentType) {
            return .grpcWeb(request: web, response: GRPCWebFraming.responseEncoding(request: web, accept: accept))
        }
        guard path.hasPrefix(TelemetryMethod.servicePathPrefix) else { return nil }
        if let codec = ConnectProtocol.unaryCodec(ofContentType: contentType) { return .connect(codec) }
        return ConnectProtocol.streamingCodec(ofContentType: contentType).map { .connectStream($0) }
    }

    /// The answer in the request's own protocol to a gRPC-Web or Connect request whose declared body is over the
    /// HTTP/1.1 body limit (the parser refuses it at the head): RESOURCE_EXHAUSTED naming the sizes, as Trailers-Only,
    /// Connect's 429, or Connect's end-of-stream envelope. Nil for any other request (REST's 413 then).
    static func tooLargeAnswer(to requestHead: HTTPRequestHead, _ message: String) -> RESTResponse? {
        let path = String(requestHead.target.prefix { $0 != "?" })
        let status = GRPCStatus(.resourceExhausted, message)
        switch kind(contentType: requestHead.headers["content-type"], accept: requestHead.headers["accept"], path: path) {
        case .grpcWeb(_, let encoding)?:
            let headers = GRPCWebFraming.responseMetadata(status.trailersOnlyMetadata, encoding)
            return RESTResponse(status: 200, headers: pairs(headers))
        case .connect?: return ConnectUnaryCall.errorResponse(status)
        case .connectStream(let codec)?: return ConnectStreamCall.endedResponse(status, codec: codec)
        case nil: return nil
        }
    }

    /// The gRPC request head of an HTTP/1.1 request: its headers as metadata, the content type made gRPC's (the
    /// router checks gRPC's rules).
    private static func callHead(_ requestHead: HTTPRequestHead, path: String) -> GRPCRequestHead {
        var metadata = GRPCMetadata()
        for field in requestHead.headers {
            let name = field.name.lowercased()
            if name == "content-type" || name == "host" || name == "content-length" { continue }
            metadata.append(name, field.value)
        }
        metadata.append("content-type", "application/grpc")
        return GRPCRequestHead(method: requestHead.method, scheme: "http", path: path,
                               authority: requestHead.headers["host"], metadata: metadata)
    }

    /// The connection state machine's verdict on the head.
    var verdict: HTTP1HeadVerdict {
        switch route {
        case .push, .watch: .accepted
        case .refused(_, let isUnread): isUnread ? .refusedUnread : .refused
        case .refusedHTTP: .refused
        }
    }

    /// The answer to a request refused at its head (nil when it was not refused).
    var refusalAnswer: HTTP1Answer? {
        switch route {
        case .push, .watch: nil
        case .refused(let status, _): finalAnswer(status)
        case .refusedHTTP(let error): .whole(error.response, bodyFraming: 0)
        }
    }

    /// Bytes of a request `body` that are framing (binary gRPC-Web's 5-byte prefixes), for the ledger.
    func requestFraming(_ body: [UInt8]) -> Int {
        guard case .grpcWeb(.binary, _) = kind else { return 0 }
        var offset = 0
        var framing = 0
        while offset + 5 <= body.count {
            let length = Int(body[offset + 1]) << 24 | Int(body[offset + 2]) << 16 | Int(body[offset + 3]) << 8
                | Int(body[offset + 4])
            framing += 5
            offset += 5 + length
        }
        return framing
    }

    // MARK: Running the call

    /// Runs the call on the complete request `body`; `respond` gets the answer (once), or, for a streamed answer,
    /// its end.
    func run(body: [UInt8], on loop: EventLoop, respond: @escaping (HTTP1Answer) -> Void) {
        self.respond = respond
        let message: [UInt8]
        switch (route, decodedBody(body)) {
        case (.refused(let status, _), _), (_, .failure(let status)):
            countRefusal(transport: "grpc", code: status.code.name)
            answer(finalAnswer(status))
            return
        case (.refusedHTTP(let error), _):
            countRefusal(transport: "http", code: String(error.status))
            answer(refusalAnswer!)
            return
        case (_, .success(let decoded)):
            message = decoded
        }
        switch route {
        case .refused, .refusedHTTP:
            break
        case .push(let handler):
            let runner = TelemetryCallRunner(
                handler: handler, key: key, context: context, loop: loop, transport: self,
                afterAsyncWork: { [weak owner] in owner?.markForFlush() })
            telemetryRunner = runner
            runner.start()
            message.withUnsafeBytes { runner.receive($0) }
            runner.receiveEnd()
        case .watch(let timeout):
            let runner = WatchCallRunner(key: key, timeoutNanoseconds: timeout, context: context, loop: loop,
                                         transport: self)
            watchRunner = runner
            message.withUnsafeBytes { runner.receive($0) }
            runner.receiveEnd()
        }
    }

    /// The request's messages as gRPC frames: gRPC-Web's body (decoded from base64 in text mode) as it is, Connect's
    /// bare message framed (JSON decoded and re-encoded as protobuf first).
    private func decodedBody(_ body: [UInt8]) -> Result<[UInt8], GRPCStatus> {
        switch kind {
        case .grpcWeb(.binary, _):
            return .success(body)
        case .grpcWeb(.text, _):
            var decoder = GRPCWebRequestDecoder(.text)
            var frames: [UInt8] = []
            let failure = body.withUnsafeBytes { decoder.decode($0) { frames += $0 } } ?? decoder.finish()
            return failure.map { .failure($0) } ?? .success(frames)
        case .connect(let codec):
            return ConnectUnaryCall.framedRequest(body, codec: codec, limits: context.configuration.decodeLimits)
        case .connectStream(let codec):
            return ConnectStreamCall.framedRequest(body, codec: codec, limits: context.configuration.decodeLimits)
        }
    }

    /// A call refused before it ran: one call, one error, under the call's row (as HTTP/2 counts its refusals).
    private func countRefusal(transport: String, code: String) {
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = 1
        context.ledger.add(key, counters)
        context.operations.error(transport: transport, code: code)
    }

    /// The client or the connection went away.
    func cancel() {
        telemetryRunner?.cancel()
        watchRunner?.cancel()
        respond = nil
    }

    /// The connection is shutting down: a streaming watch ends (UNAVAILABLE), so the connection can close.
    func shutDown() {
        watchRunner?.finish(GRPCStatus(.unavailable, "the collector is shutting down; watch again elsewhere or later"))
    }

    /// The connection's output drained: a streaming watch moves more batches.
    func outputDrained() {
        watchRunner?.pump()
    }

    /// Hands `answer` to the connection (once).
    func answer(_ answer: HTTP1Answer) {
        let respond = self.respond
        self.respond = nil
        respond?(answer)
    }
}
