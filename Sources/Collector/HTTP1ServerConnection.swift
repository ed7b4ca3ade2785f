// One HTTP/1.1 connection on the collector: parse, route, answer in order, account every byte.
//
// Requests are handled one at a time: while one waits for its commit the connection stops reading, so pipelined
// requests are answered strictly in order and unread input stays bounded. A request is routed as soon as its head
// is complete: a refusal that needs no body (404, 405, 411, 415, 413) is sent before the body is read when the
// client asked `Expect: 100-continue`; otherwise the body is read (bounded by the body limit) and then refused.
// An authentication refusal (401, 403) of a request with a body is always sent at the head, and the connection
// closes: an unauthenticated client never gets its body buffered (the lingering close discards it).
// Accounting: a request's bytes (exact parser offsets) are booked to its row before it is handled; response bytes
// are booked as they are written; bytes read but never parsed are booked to the connection's overhead row at
// close. Timeouts: no complete header block within `headerTimeoutMs` of the connection opening or of a request's
// first byte → 408 and close; no traffic for `idleTimeoutMs` → close.

import EventIO
import HTTP1
import Telemetry

/// The collector's handler for an HTTP/1.1 connection.
final class HTTP1ServerConnection: ConnectionHandler, GracefulShutdown {
    private enum Part { case header, payload }

    private let context: CollectorContext
    private let service: RESTService
    private var parser: HTTPRequestParser
    private var head: HTTPRequestHead?
    private var routed: RoutedRequest?
    private var isAwaitingResponse = false
    private var isClosing = false
    private var hasCountedConnection = false
    /// The protocol this connection is counted under in the open-connections gauge.
    private var openProtocol: String?
    private var inboundBooked = 0
    private var bytesRead = 0
    private var written = WrittenBytes<(BandwidthKey, Part)>()
    private var headerTimer: TimerHandle?
    private weak var currentConnection: Connection?
    private var isShuttingDown = false
    /// The row for bytes that belong to no request (garbage, a request cut short).
    private static let overheadKey = BandwidthKey(WireProtocol.restJSON, WireProtocol.overheadDevice)

    init(context: CollectorContext) {
        self.context = context
        self.service = RESTService(context: context)
        self.parser = HTTPRequestParser(limits: context.configuration.httpLimits, bodyDelivery: .accumulated)
    }

    /// Takes over from the sniffer, which already counted `bytesRead` bytes read.
    func start(on connection: Connection, bytesRead: Int) {
        self.bytesRead = bytesRead
        currentConnection = connection
        connection.idleTimeout = .milliseconds(context.configuration.idleTimeoutMs)
        armHeaderTimer(connection)
    }

    func connection(_ connection: Connection, didRead byteCount: Int) {
        bytesRead += byteCount
        context.ledger.recordSocketBytes(read: byteCount, written: 0)
    }

    func connection(_ connection: Connection, didWrite byteCount: Int) {
        context.ledger.recordSocketBytes(read: 0, written: byteCount)
        written.written(byteCount) { tag, count in
            var counters = BandwidthCounters()
            switch tag.1 {
            case .header: counters.bytesOut.header = Int64(count)
            case .payload: counters.bytesOut.payload = Int64(count)
            }
            context.ledger.add(tag.0, counters)
        }
    }

    func connection(_ connection: Connection, didReceive input: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        parsing: while !isAwaitingResponse && !isClosing {
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
        if isAwaitingResponse { connection.pauseReading() }
        return offset
    }

    private func received(_ requestHead: HTTPRequestHead, on connection: Connection) {
        cancelHeaderTimer(connection)
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
            written.append((route.key, .header), count: bytes.count)
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
        guard let contentType = requestHead.headers["content-type"] else {
            return RESTError(415, "unsupported_media_type", "Content-Type must be application/json (none given)")
        }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingSpaces.lowercased() ?? ""
        guard mediaType == "application/json" else {
            return RESTError(415, "unsupported_media_type", "Content-Type must be application/json, got \(contentType)")
        }
        return nil
    }

    private func completed(_ end: HTTPMessageEnd, on connection: Connection) {
        guard let requestHead = head, let route = routed else { return }
        book(end.bytes, to: route.key)
        isAwaitingResponse = true
        let request = RESTRequest(method: requestHead.method, path: route.path, query: route.query,
                                  headers: requestHead.headers.map { ($0.name.lowercased(), $0.value) },
                                  body: end.body)
        let isKeepAlive = end.isKeepAlive
        service.handle(request, routed: route, on: connection.loop) { [self] response, counters in
            context.ledger.add(route.key, counters)
            if response.status >= 400 { context.operations.error(transport: "http", code: String(response.status)) }
            send(response, to: requestHead, key: route.key, closing: !isKeepAlive || isShuttingDown, on: connection)
            head = nil
            routed = nil
            isAwaitingResponse = false
            if isKeepAlive && !isClosing && !isShuttingDown {
                armHeaderTimerIfRequestStarted(connection)
                connection.resumeReading()
            } else {
                isClosing = true
                connection.closeLingering()
            }
        }
    }

    /// Answers with an error and closes (every parse error, and refusals made before the body was read).
    private func refuse(status: HTTPStatus, _ error: RESTError, bytes: HTTPMessageBytes, on connection: Connection) {
        let key = routed?.key ?? Self.overheadKey
        book(bytes, to: key)
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
        written.append((key, .header), count: serialized.count - response.body.count)
        written.append((key, .payload), count: response.body.count)
        isClosing = true
        cancelHeaderTimer(connection)
        connection.write(serialized)
        connection.closeLingering()
    }

    private func send(_ response: RESTResponse, to requestHead: HTTPRequestHead, key: BandwidthKey, closing: Bool,
                      on connection: Connection) {
        let serialized = HTTPResponseSerializer.makeResponse(
            to: requestHead, status: HTTPStatus(code: response.status), headers: Self.headers(response),
            body: response.body, isClosing: closing)
        let bodyBytes = requestHead.method == "HEAD" ? 0 : response.body.count
        written.append((key, .header), count: serialized.count - bodyBytes)
        written.append((key, .payload), count: bodyBytes)
        connection.write(serialized)
    }

    /// Books a request's inbound bytes (and the connection, on its first request) to `key`.
    private func book(_ bytes: HTTPMessageBytes, to key: BandwidthKey) {
        var counters = BandwidthCounters()
        counters.bytesIn = Traffic(header: Int64(bytes.head), framing: Int64(bytes.chunkFraming),
                                   payload: Int64(bytes.payload))
        if !hasCountedConnection {
            counters.connections = 1
            hasCountedConnection = true
            openProtocol = key.protocolName
            context.operations.connectionOpened(key.protocolName)
        }
        inboundBooked += bytes.total
        context.ledger.add(key, counters)
    }

    func connection(_ connection: Connection, didCloseWith reason: CloseReason) {
        cancelHeaderTimer(connection)
        if let openProtocol { context.operations.connectionClosed(openProtocol) }
        // Bytes read that no request accounted for: a request cut short, garbage, or what a lingering close
        // discarded.
        let unbooked = bytesRead - inboundBooked
        if unbooked > 0 || !hasCountedConnection {
            var counters = BandwidthCounters()
            counters.bytesIn.framing = Int64(max(unbooked, 0))
            if !hasCountedConnection { counters.connections = 1 }
            context.ledger.add(routed?.key ?? Self.overheadKey, counters)
        }
    }

    /// Shutdown: an idle connection closes now; one with a request in flight closes after its response.
    func beginShutdown() {
        guard let connection = currentConnection, !connection.isClosed, !isClosing else { return }
        if !isAwaitingResponse && head == nil {
            isClosing = true
            cancelHeaderTimer(connection)
            connection.closeLingering()
        } else {
            isShuttingDown = true
        }
    }

    // MARK: Timeouts

    private func armHeaderTimer(_ connection: Connection) {
        cancelHeaderTimer(connection)
        headerTimer = connection.loop.schedule(after: .milliseconds(context.configuration.headerTimeoutMs)) {
            [weak self, weak connection] in
            guard let self, let connection, !connection.isClosed else { return }
            headerTimer = nil
            headerTimedOut(on: connection)
        }
    }

    /// No complete request head in time: 408 and close (unless a request is already being answered).
    func headerTimedOut(on connection: Connection) {
        guard head == nil, !isAwaitingResponse, !isClosing else { return }
        refuse(status: .requestTimeout,
               RESTError(408, "request_timeout",
                         "no complete request head within \(context.configuration.headerTimeoutMs) ms"),
               bytes: parser.messageBytes, on: connection)
    }

    private func armHeaderTimerIfRequestStarted(_ connection: Connection) {
        // Between keep-alive requests only the idle timeout applies; the header timer starts with a request's
        // first byte (see didReceive).
        cancelHeaderTimer(connection)
    }

    private func cancelHeaderTimer(_ connection: Connection) {
        if let timer = headerTimer {
            connection.loop.cancel(timer)
            headerTimer = nil
        }
    }

    private static func headers(_ response: RESTResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.append(name: name, value: value) }
        return headers
    }

    private static func code(for status: Int) -> String {
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
