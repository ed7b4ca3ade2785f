// One HTTP/1.1 connection on the collector: parse, route, answer in order, account every byte.
//
// Requests are handled one at a time: while one waits for its commit the connection stops reading, so pipelined
// requests are answered strictly in order and unread input stays bounded. A request is routed as soon as its head
// is complete: a refusal that needs no body (404, 405, 411, 415, 413) is sent before the body is read when the
// client asked `Expect: 100-continue`; otherwise the body is read (bounded by the body limit) and then refused.
// An authentication refusal (401, 403) of a request with a body is always sent at the head, and the connection
// closes: an unauthenticated client never gets its body buffered (the lingering close discards it).
// Accounting (HTTP1ConnectionLedger): a request's bytes (exact parser offsets) are booked to its row before it is
// handled; response bytes are booked as they are written; bytes read but never parsed are booked at close; rows are
// posted to the collector's ledger when a request is booked, at close, and otherwise by the loop's before-sleep
// hook (LoopFlusher).
// Timeouts (HTTP1ServerConnection+Timeouts.swift): no complete header block within `headerTimeoutMs` of the
// connection opening or of a request's first byte → 408 and close (a total deadline: bytes trickling in do not
// extend it); a body not complete within `requestTimeoutMs` of its head → 408 and close; no traffic for
// `idleTimeoutMs` → close; pending output the client does not read for `writeTimeoutMs` → close.
// Bounds: reading pauses while a request is answered and, after the answer, until the client has read all but
// `outboundHighWater` bytes of it, so a client that pipelines requests without reading the responses holds at most
// one response plus that; a body being read counts against the process-wide RequestBufferBudget (503 past it).

import Accounting
import CollectorService
import EventIO
import HTTP1
import Telemetry

/// The collector's handler for an HTTP/1.1 connection.
final class HTTP1ServerConnection: ConnectionHandler, GracefulShutdown {
    /// Reading resumes after a response only once less than this much of it waits unread.
    static let outboundHighWater = 64 << 10

    let context: CollectorContext
    private let service: RESTService
    var parser: HTTPRequestParser
    var head: HTTPRequestHead?
    var routed: RoutedRequest? {
        didSet { ledger.requestKey = routed?.key }
    }
    var isAwaitingResponse = false
    var isClosing = false
    /// The protocol this connection is counted under in the open-connections gauge.
    private var openProtocol: String?
    private var ledger = HTTP1ConnectionLedger()
    var headerTimer: TimerHandle?
    var requestTimer: TimerHandle?
    /// Reading stays paused until the client has read the last response (see `outboundHighWater`).
    var isWaitingForDrain = false
    /// The body bytes of the request being read, reserved in the process-wide budget.
    private var heldBody = HeldRequestBytes()
    private weak var currentConnection: (any ByteTransport)?
    private var isShuttingDown = false

    /// Posts this connection's ledger rows once per loop iteration (LoopFlusher.swift).
    private let flusher: LoopFlusher

    init(context: CollectorContext, flusher: LoopFlusher) {
        self.context = context
        self.flusher = flusher
        self.service = context.restService
        self.parser = HTTPRequestParser(limits: context.configuration.httpLimits, bodyDelivery: .accumulated)
    }

    /// Takes over from the sniffer, which already counted `bytesRead` bytes read; the first request head is due
    /// `headerTimeRemaining` from now (the header timeout counts from the moment the connection opened).
    func start(on connection: any ByteTransport, bytesRead: Int, headerTimeRemaining: Duration) {
        ledger.read(bytesRead)
        currentConnection = connection
        connection.idleTimeout = .milliseconds(context.configuration.idleTimeoutMs)
        connection.writeTimeout = .milliseconds(context.configuration.writeTimeoutMs)
        armHeaderTimer(connection, after: headerTimeRemaining)
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
        ledger.drain { key, counters in context.ledger.add(key, counters) }
    }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        parsing: while !isAwaitingResponse && !isWaitingForDrain && !isClosing {
            // Keep asking even with no input left: a message without a body ends on the call after its head.
            let step = parser.parse(UnsafeRawBufferPointer(rebasing: input[offset...]))
            offset += step.consumed
            switch step.event {
            case .needMoreData:
                if headerTimer == nil && head == nil && !parser.isBetweenMessages { armHeaderTimer(connection) }
                break parsing
            case .head(let requestHead):
                received(requestHead, on: connection)
            case .body:
                break
            case .end(let end):
                completed(end, on: connection)
            case .error(let error):
                refuse(status: error.status, RESTError(error.status.code, Self.code(for: error.status.code),
                                                       error.message), bytes: parser.messageBytes, on: connection)
            case .closed:
                isClosing = true
                connection.closeLingering()
            }
        }
        if isAwaitingResponse || isWaitingForDrain { connection.pauseReading() }
        holdBody(on: connection)
        return offset
    }

    /// Reserves the body read so far in the process-wide budget; refuses the request (503) when it is spent.
    private func holdBody(on connection: any ByteTransport) {
        let bytes = head != nil && !isAwaitingResponse && !isClosing ? parser.messageBytes.body : 0
        let limit = context.configuration.maxBodyBytes + 1  // the parser's own limit (413) comes first
        guard let shortage = heldBody.update(0, to: bytes, perConnectionLimit: limit, budget: context.requestBuffers)
        else { return }
        heldBody.release(0, budget: context.requestBuffers)
        let message = "the collector holds too many partially received requests (\(shortage)); retry later"
        refuse(status: HTTPStatus(code: 503), .unavailable(message), bytes: parser.messageBytes, on: connection)
    }

    private func received(_ requestHead: HTTPRequestHead, on connection: any ByteTransport) {
        cancelHeaderTimer(connection)
        armRequestTimer(connection)
        head = requestHead
        var route = RoutedRequest(method: requestHead.method, target: requestHead.target, isHTTP2: false)
        route.checkAccess(context.authenticator, authorization: requestHead.headers["authorization"])
        if case .success = route.route, let refusal = Self.refusal(for: requestHead) { route.route = .failure(refusal) }
        routed = route
        let hasBody = requestHead.framing != .noBody && requestHead.contentLength != 0
        switch (route.route, requestHead.expectsContinue) {
        case (.failure(let error), true):
            // The client waits for our go-ahead: refuse without reading the body, and close.
            refuse(status: HTTPStatus(code: error.status), error, bytes: parser.messageBytes, on: connection)
        case (.failure(let error), false) where route.isAccessRefusal && hasBody:
            // Not authenticated or not allowed: answer now without reading (or buffering) the body, and close;
            // the lingering close discards the body the client is still sending.
            refuse(status: HTTPStatus(code: error.status), error, bytes: parser.messageBytes, on: connection)
        case (.success, true):
            let bytes = HTTPResponseSerializer.makeContinue()
            ledger.queue(header: bytes.count, payload: 0)
            connection.write(bytes)
        default:
            break  // the body (if any) is read; the request is answered when complete
        }
    }

    /// Refusals an ingest request earns from its head alone.
    private static func refusal(for requestHead: HTTPRequestHead) -> RESTError? {
        guard requestHead.method == "POST" else { return nil }
        if requestHead.framing == .noBody {
            return RESTError(411, "length_required", "POST needs a Content-Length or a chunked body")
        }
        return RESTIngest.contentTypeRefusal(requestHead.headers["content-type"])
    }

    private func completed(_ end: HTTPMessageEnd, on connection: any ByteTransport) {
        guard let requestHead = head, let route = routed else { return }
        cancelRequestTimer(connection)
        book(end.bytes)
        isAwaitingResponse = true
        let request = RESTRequest(method: requestHead.method, path: route.path, query: route.query,
                                  headers: requestHead.headers.map { ($0.name.lowercased(), $0.value) },
                                  body: end.body)
        let isKeepAlive = end.isKeepAlive
        service.handle(request, routed: route, on: connection.loop) { [self] response, counters in
            context.ledger.add(route.key, counters)
            if response.status >= 400 { context.operations.error(transport: "http", code: String(response.status)) }
            send(response, to: requestHead, closing: !isKeepAlive || isShuttingDown, on: connection)
            head = nil
            routed = nil
            isAwaitingResponse = false
            if isKeepAlive && !isClosing && !isShuttingDown {
                armHeaderTimerIfRequestStarted(connection)
                resumeReadingWhenDrained(connection)
            } else {
                isClosing = true
                connection.closeLingering()
            }
        }
    }

    /// Reads the next request once the client has read (nearly) all of the last response.
    private func resumeReadingWhenDrained(_ connection: any ByteTransport) {
        if connection.outboundByteCount > Self.outboundHighWater {
            isWaitingForDrain = true
        } else {
            connection.resumeReading()
        }
    }

    func connectionDidDrain(_ connection: any ByteTransport) {
        guard isWaitingForDrain else { return }
        isWaitingForDrain = false
        if !isClosing && !isAwaitingResponse { connection.resumeReading() }
    }

    /// Answers with an error and closes (every parse error, and refusals made before the body was read).
    func refuse(status: HTTPStatus, _ error: RESTError, bytes: HTTPMessageBytes, on connection: any ByteTransport) {
        let key = ledger.connectionKey
        book(bytes)
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = 1
        context.ledger.add(key, counters)
        context.operations.error(transport: "http", code: String(status.code))
        var response = error.response
        response.status = status.code
        let version = head?.version ?? .http1_1
        let serialized = HTTPResponseSerializer.makeResponse(
            status: status, version: version, headers: Self.headers(response), body: response.body, isClosing: true)
        ledger.queue(header: serialized.count - response.body.count, payload: response.body.count)
        isClosing = true
        cancelHeaderTimer(connection)
        cancelRequestTimer(connection)
        heldBody.release(0, budget: context.requestBuffers)
        connection.write(serialized)
        connection.closeLingering()
    }

    private func send(_ response: RESTResponse, to requestHead: HTTPRequestHead, closing: Bool,
                      on connection: any ByteTransport) {
        let serialized = HTTPResponseSerializer.makeResponse(
            to: requestHead, status: HTTPStatus(code: response.status), headers: Self.headers(response),
            body: response.body, isClosing: closing)
        let bodyBytes = requestHead.method == "HEAD" ? 0 : response.body.count
        ledger.queue(header: serialized.count - bodyBytes, payload: bodyBytes)
        connection.write(serialized)
    }

    /// Books a request's inbound bytes to the connection's row (which counts the connection on its first request),
    /// and posts the rows now rather than in the before-sleep hook: the answer to this request (a bandwidth report)
    /// must count the request's own bytes.
    private func book(_ bytes: HTTPMessageBytes) {
        if !ledger.isConnectionCounted {
            openProtocol = ledger.connectionKey.protocolName
            context.operations.connectionOpened(ledger.connectionKey.protocolName)
        }
        ledger.received(Traffic(header: Int64(bytes.head), framing: Int64(bytes.chunkFraming),
                                payload: Int64(bytes.payload)))
        postRows()
    }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        cancelHeaderTimer(connection)
        cancelRequestTimer(connection)
        heldBody.releaseAll(budget: context.requestBuffers)
        if reason == .writeTimedOut { context.protection.timedOut(.write) }
        if let openProtocol { context.operations.connectionClosed(openProtocol) }
        // Bytes read that no request accounted for (a request cut short, garbage, what a lingering close
        // discarded) and the count of a connection that never completed a request.
        ledger.close { key, counters in context.ledger.add(key, counters) }
    }

    /// Shutdown: an idle connection closes now; one with a request in flight closes after its response.
    func beginShutdown() {
        guard let connection = currentConnection, !connection.isClosed, !isClosing else { return }
        if !isAwaitingResponse && head == nil {
            isClosing = true
            cancelHeaderTimer(connection)
            cancelRequestTimer(connection)
            connection.closeLingering()
        } else {
            isShuttingDown = true
        }
    }

    private static func headers(_ response: RESTResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.append(name: name, value: value) }
        return headers
    }

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
