// One HTTP/1.1 connection on the collector: parse, route, answer in order, account every byte.
//
// The lifecycle is HTTP1ConnectionState's, and its file states the rules: one request at a time (pipelined requests
// answered strictly in order), when a refusal goes out at the head, every error answer closes, the header and body
// deadlines, shutdown. This class keeps what the state machine does not decide (the parser, routing, the REST
// service, the byte ledger, the body budget, the timers and the transport), reports events and performs actions.
// Routing happens as soon as a head is complete (CORS preflights, gRPC-Web and Connect calls first:
// HTTP1ServerConnection+RPC.swift, HTTP1RPCExchange.swift), and gives the state machine its verdict: 404, 405, 411, 415 are
// `refused` (sent at the head, unread, when the client asked `Expect: 100-continue`; otherwise after the body); an
// authentication refusal (401, 403) is `refusedUnread`: a request with a body never gets it buffered. (A declared
// Content-Length over the body limit is the parser's 413, a parse error: refused at the head in any case.)
// Accounting (HTTP1ConnectionLedger): a request's bytes (exact parser offsets) are booked to its row before it is
// handled; response bytes are booked as they are written; bytes read but never parsed are booked at close; rows are
// posted to the collector's ledger when a request is booked, at close, and otherwise by the loop's before-sleep
// hook (LoopFlusher).
// Timeouts (HTTP1ServerConnection+Timeouts.swift): the header deadline is `headerTimeoutMs`, the body deadline
// `requestTimeoutMs` (both 408 and close); no traffic for `idleTimeoutMs` → close; pending output the client does
// not read for `writeTimeoutMs` → close.
// Bounds: after an answer, reading resumes once the client has read all but `outboundHighWater` bytes of it, so a
// client that pipelines requests without reading the responses holds at most one response plus that; a body being
// read counts against the process-wide RequestBufferBudget (503 past it).

import Accounting
import CollectorService
import EventIO
import TLS
import HTTP1
import Telemetry

/// The collector's handler for an HTTP/1.1 connection: performs what its `HTTP1ConnectionState` decides.
final class HTTP1ServerConnection: ConnectionHandler, GracefulShutdown {
    /// Reading resumes after a response only once less than this much of it waits unread.
    static let outboundHighWater = 64 << 10

    /// The collector's shared state: configuration, store, ledger, counters, log.
    let context: CollectorContext
    private let service: RESTService
    /// Reads requests off the connection; keeps the bytes of the message in progress.
    var parser: HTTPRequestParser
    /// The connection's lifecycle: what it waits for, which deadline runs, whether it reads.
    var state: HTTP1ConnectionState<HTTP1Answer>
    /// How the request being read or answered was routed (its endpoint or refusal, its bandwidth row); nil between
    /// requests.
    var routed: RoutedRequest? {
        didSet { ledger.requestKey = routed?.key }
    }
    /// The gRPC-Web or Connect call being read or answered (HTTP1ServerConnection+RPC.swift); nil otherwise.
    var rpc: HTTP1RPCExchange? {
        didSet { if let rpc { ledger.requestKey = rpc.key } }
    }
    /// The answer to a CORS preflight being read (CORSPolicy.swift); nil otherwise.
    var preflight: RESTResponse?
    /// The protocol this connection is counted under in the open-connections gauge.
    private var openProtocol: String?
    var ledger = HTTP1ConnectionLedger()
    /// The header deadline's timer (armed while `state` is reading a head).
    var headerTimer: TimerHandle?
    /// The body deadline's timer (armed while `state` is reading a body).
    var bodyTimer: TimerHandle?
    /// The body bytes of the request being read, reserved in the process-wide budget.
    private var heldBody = HeldRequestBytes()
    private(set) weak var currentConnection: (any ByteTransport)?

    /// Posts this connection's ledger rows once per loop iteration (LoopFlusher.swift).
    let flusher: LoopFlusher
    /// TLS bytes and TCP segments for the ledger.
    private var linkSampler = LinkSampler()

    init(context: CollectorContext, flusher: LoopFlusher) {
        self.context = context
        self.flusher = flusher
        self.service = context.restService
        self.parser = HTTPRequestParser(limits: context.configuration.httpLimits, bodyDelivery: .accumulated)
        self.state = HTTP1ConnectionState(
            headerTimeout: .milliseconds(context.configuration.headerTimeoutMs),
            bodyTimeout: .milliseconds(context.configuration.requestTimeoutMs))
    }

    /// Takes over from the sniffer, which already counted `bytesRead` bytes read; the first request head is due
    /// `headerTimeRemaining` from now (the header timeout counts from the moment the connection opened).
    func start(on connection: any ByteTransport, bytesRead: Int, headerTimeRemaining: Duration) {
        ledger.read(bytesRead)
        currentConnection = connection
        connection.idleTimeout = .milliseconds(context.configuration.idleTimeoutMs)
        connection.writeTimeout = .milliseconds(context.configuration.writeTimeoutMs)
        perform(state.start(headerTimeRemaining: headerTimeRemaining), on: connection)
    }

    func connection(_ connection: any ByteTransport, didRead byteCount: Int) {
        ledger.read(byteCount)
    }

    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {
        ledger.written(byteCount)
        flusher.mark(self)
    }

    /// Moves this connection's settled rows to the collector's ledger.
    func postRows() {
        if let currentConnection { ledger.link(linkSampler.totals(of: currentConnection, final: false)) }
        ledger.drain { key, counters in context.ledger.add(key, counters) }
    }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        // A streaming answer reads on only to see the client leave; what a client sends behind it is discarded
        // (booked at close as bytes no request accounted for).
        if rpc?.isStreaming == true { return input.count }
        var offset = 0
        parsing: while state.isReadingRequests {
            // Keep asking even with no input left: a message without a body ends on the call after its head.
            let step = parser.parse(UnsafeRawBufferPointer(rebasing: input[offset...]))
            offset += step.consumed
            switch step.event {
            case .needMoreData:
                break parsing
            case .head(let requestHead):
                perform(state.headReceived(requestHead, verdict: route(requestHead)), on: connection)
            case .body:
                break
            case .end(let end):
                perform(state.requestComplete(end), on: connection)
            case .error(let error):
                perform(state.parseFailed(error), on: connection)
            case .closed:
                perform(state.requestsEnded(), on: connection)
            }
        }
        perform(state.readFinished(isBetweenMessages: parser.isBetweenMessages), on: connection)
        holdBody(on: connection)
        return offset
    }

    /// Reserves the body read so far in the process-wide budget; refuses the request (503) when it is spent.
    private func holdBody(on connection: any ByteTransport) {
        let bytes = state.isReadingBody ? parser.messageBytes.body : 0
        let limit = context.configuration.maxBodyBytes + 1  // the parser's own limit (413) comes first
        guard let shortage = heldBody.update(0, to: bytes, perConnectionLimit: limit, budget: context.requestBuffers)
        else { return }
        heldBody.release(0, budget: context.requestBuffers)
        let message = "the collector holds too many partially received requests (\(shortage)); retry later"
        if let rpc {
            // Answered as REST answers it (503, close): the call never started.
            routed = RoutedRequest(method: "POST", target: "/", isHTTP2: false)
            ledger.requestKey = rpc.key
            self.rpc = nil
        }
        routed?.route = .failure(.unavailable(message))
        perform(state.bodyRefused(), on: connection)
    }

    /// Routes a request head (which sets the connection's bandwidth row) and judges it for the state machine.
    private func route(_ requestHead: HTTPRequestHead) -> HTTP1HeadVerdict {
        if let verdict = routeBrowserRequest(requestHead) { return verdict }
        var route = RoutedRequest(method: requestHead.method, target: requestHead.target, isHTTP2: false)
        route.checkAccess(
            context.authenticator, authorization: requestHead.headers["authorization"],
            connectionDevice: (currentConnection as? TLSTransport)?.pskIdentity)
        if case .success = route.route, let refusal = Self.refusal(for: requestHead) { route.route = .failure(refusal) }
        routed = route
        guard case .failure = route.route else { return .accepted }
        return route.isAccessRefusal ? .refusedUnread : .refused
    }

    /// Refusals an ingest request earns from its head alone.
    private static func refusal(for requestHead: HTTPRequestHead) -> RESTError? {
        guard requestHead.method == "POST" else { return nil }
        if requestHead.framing == .noBody {
            return RESTError(411, "length_required", "POST needs a Content-Length or a chunked body")
        }
        return RESTIngest.contentTypeRefusal(requestHead.headers["content-type"])
    }

    /// Performs the state machine's actions, in order.
    func perform(_ actions: [HTTP1ConnectionState<HTTP1Answer>.Action], on connection: any ByteTransport) {
        for action in actions {
            switch action {
            case .startHeaderTimer(let delay): armHeaderTimer(connection, after: delay)
            case .cancelHeaderTimer: cancelHeaderTimer(connection)
            case .startBodyTimer(let delay): armBodyTimer(connection, after: delay)
            case .cancelBodyTimer: cancelBodyTimer(connection)
            case .pauseReading where rpc?.isStreaming == true: break  // see `streamingStarted`
            case .pauseReading: connection.pauseReading()
            case .resumeReading: connection.resumeReading()
            case .sendContinue:
                let bytes = HTTPResponseSerializer.makeContinue()
                ledger.queue(header: bytes.count, payload: 0)
                connection.write(bytes)
            case .dispatch(let requestHead, let end): dispatch(requestHead, end, on: connection)
            case .sendResponse(let response, let requestHead, let isClosing):
                send(response, to: requestHead, closing: isClosing, on: connection)
            case .sendError(let refusal, let version): refuse(refusal, version: version, on: connection)
            case .closeLingering: connection.closeLingering()
            case .close: connection.close()
            }
        }
    }

    /// Books a complete request and hands it to the REST service; its answer goes back to the state machine.
    private func dispatch(_ requestHead: HTTPRequestHead, _ end: HTTPMessageEnd, on connection: any ByteTransport) {
        if dispatchBrowserRequest(requestHead, end, on: connection) { return }
        guard let route = routed else { return }
        book(end.bytes)
        let request = RESTRequest(method: requestHead.method, path: route.path, query: route.query,
                                  headers: requestHead.headers.map { ($0.name.lowercased(), $0.value) },
                                  body: end.body)
        handle(request, routed: route, on: connection) { [self] response in
            answer(.whole(response, bodyFraming: 0), on: connection)
        }
    }

    /// The dispatched request's answer is ready: to the state machine, which sends it.
    func answer(_ answer: HTTP1Answer, on connection: any ByteTransport) {
        perform(state.responseReady(answer), on: connection)
        if connection.outboundByteCount <= Self.outboundHighWater {
            perform(state.outputDrained(), on: connection)
        }
    }

    /// The one call into the REST service: answers `request`, adds the service's counters to the request's row and
    /// counts an error status, then calls `respond`.
    private func handle(_ request: RESTRequest, routed route: RoutedRequest, on connection: any ByteTransport,
                        respond: @escaping (RESTResponse) -> Void) {
        service.handle(request, routed: route, on: connection.loop) { [self] response, counters in
            context.ledger.add(route.key, counters)
            if response.status >= 400 { context.operations.error(transport: "http", code: String(response.status)) }
            respond(response)
        }
    }

    /// The transport's output drained: the client read the last answer, so the next request may be read.
    func connectionDidDrain(_ connection: any ByteTransport) {
        rpc?.outputDrained()
        perform(state.outputDrained(), on: connection)
    }

    /// Renders a refusal the state machine decided: its status and error, with the timeouts' log lines and counts.
    private func refuse(_ refusal: HTTP1Refusal, version: HTTPVersion, on connection: any ByteTransport) {
        switch refusal {
        case .malformed(let error):
            if let head = error.requestHead, var answer = HTTP1RPCExchange.tooLargeAnswer(to: head, error.message) {
                context.configuration.cors.addResponseHeaders(to: &answer, origin: head.headers["origin"])
                refuse(status: HTTPStatus(code: answer.status), response: answer, version: version, on: connection)
                return
            }
            refuse(status: error.status, RESTError(error.status.code, Self.code(for: error.status.code), error.message),
                   version: version, on: connection)
        case .headerTimeout:
            refuse(status: .requestTimeout, headerTimeoutError(on: connection), version: version, on: connection)
        case .bodyTimeout:
            refuse(status: .requestTimeout, bodyTimeoutError(on: connection), version: version, on: connection)
        case .rejected:
            if let rpc, let answer = rpc.refusalAnswer, case .whole(var response, _) = answer {
                context.configuration.cors.addResponseHeaders(to: &response, origin: rpc.requestHead.headers["origin"])
                refuse(status: HTTPStatus(code: response.status), response: response, version: version, on: connection)
                return
            }
            guard case .failure(let error) = routed?.route else { return }
            refuse(status: HTTPStatus(code: error.status), error, version: version, on: connection)
        }
    }

    /// Answers with an error (every parse error, the deadlines, refusals made before or while the body was read),
    /// marked `Connection: close`; the state machine's `closeLingering` follows.
    private func refuse(status: HTTPStatus, _ error: RESTError, version: HTTPVersion,
                        on connection: any ByteTransport) {
        var response = error.response
        response.status = status.code
        refuse(status: status, response: response, version: version, on: connection)
    }

    private func refuse(status: HTTPStatus, response: RESTResponse, version: HTTPVersion,
                        on connection: any ByteTransport) {
        let key = ledger.connectionKey
        book(parser.messageBytes)
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = 1
        context.ledger.add(key, counters)
        context.operations.error(transport: "http", code: String(status.code))
        let serialized = HTTPResponseSerializer.makeResponse(
            status: status, version: version, headers: Self.headers(response), body: response.body, isClosing: true)
        ledger.queue(header: serialized.count - response.body.count, payload: response.body.count)
        heldBody.release(0, budget: context.requestBuffers)
        connection.write(serialized)
    }

    /// Sends the answer to a request; it ends the request, so the connection's row is the overhead row again.
    private func send(_ answer: HTTP1Answer, to requestHead: HTTPRequestHead, closing: Bool,
                      on connection: any ByteTransport) {
        defer {
            routed = nil
            rpc = nil
            preflight = nil
        }
        guard case .whole(var response, let bodyFraming) = answer else {
            streamEnded(on: connection)
            return
        }
        context.configuration.cors.addResponseHeaders(to: &response, origin: requestHead.headers["origin"])
        let serialized = HTTPResponseSerializer.makeResponse(
            to: requestHead, status: HTTPStatus(code: response.status), headers: Self.headers(response),
            body: response.body, isClosing: closing)
        let bodyBytes = requestHead.method == "HEAD" ? 0 : response.body.count
        let framing = min(bodyFraming, bodyBytes)
        ledger.queue(header: serialized.count - bodyBytes, framing: framing, payload: bodyBytes - framing)
        connection.write(serialized)
    }

    /// Books a request's inbound bytes to the connection's row (which counts the connection on its first request),
    /// and posts the rows now rather than in the before-sleep hook: the answer to this request (a bandwidth report)
    /// must count the request's own bytes.
    func book(_ bytes: HTTPMessageBytes, framing: Int = 0) {
        if !ledger.isConnectionCounted {
            openProtocol = ledger.connectionKey.protocolName
            context.operations.connectionOpened(ledger.connectionKey.protocolName)
        }
        ledger.received(Traffic(header: Int64(bytes.head), framing: Int64(bytes.chunkFraming + framing),
                                payload: Int64(bytes.payload - framing)))
        postRows()
    }

    /// The peer sent FIN: what the state machine says (a lingering close).
    func connectionInputDidEnd(_ connection: any ByteTransport) {
        if rpc?.isStreaming == true { rpc?.cancel() }  // the client left its watch
        perform(state.peerClosed(), on: connection)
    }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        rpc?.cancel()
        perform(state.closed(), on: connection)
        heldBody.releaseAll(budget: context.requestBuffers)
        if reason == .writeTimedOut { context.protection.timedOut(.write) }
        if let openProtocol { context.operations.connectionClosed(openProtocol) }
        // Bytes read that no request accounted for (a request cut short, garbage, what a lingering close
        // discarded) and the count of a connection that never completed a request; TLS bytes and segments.
        ledger.link(linkSampler.totals(of: connection, final: true))
        ledger.close { key, counters in context.ledger.add(key, counters) }
    }

    /// Shutdown: an idle connection closes now; one with a request in flight closes after its response.
    func beginShutdown() {
        guard let connection = currentConnection, !connection.isClosed else { return }
        rpc?.shutDown()
        perform(state.shutdownRequested(), on: connection)
    }

    private static func headers(_ response: RESTResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.append(name: name, value: value) }
        return headers
    }

    /// The stable error code of a parse error's status.
    static func code(for status: Int) -> String {
        switch status {
        case 408: "request_timeout"
        case 413: "payload_too_large"
        case 414: "uri_too_long"
        case 417: "expectation_failed"
        case 431: "header_fields_too_large"
        case 501: "not_implemented"
        case 505: "http_version_not_supported"
        default: "bad_request"
        }
    }
}
