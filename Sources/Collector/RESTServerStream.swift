// A REST request on one HTTP/2 stream (REST over h2c): routed and access-checked at its headers, its body
// buffered within `maxBodyBytes` and the held-bytes limits, run by the RESTService at END_STREAM, answered with
// the response the service returns (the ingest response comes after the commit). Once the request is handed to
// the service (or refused) the stream stops receiving: the connection's table then holds AnsweredServerStream.

import Accounting
import CollectorService
import EventIO
import HTTP2

/// The HTTP/2 transport of one REST request (see the file comment).
final class RESTServerStream: ServerStreamHandler {
    /// The HTTP/2 stream id.
    let id: Int32
    /// The request's `:method`, `:path` and header block, as received.
    let method: String
    let target: String
    let headers: [HTTP2HeaderField]
    /// The route and bandwidth row, decided at the headers.
    let routed: RoutedRequest
    private weak var owner: HTTP2ServerConnection?
    private let context: CollectorContext
    private var body: [UInt8] = []
    /// When the client last sent a byte on the stream (for the stream idle timeout).
    private var lastReceived = ContinuousClock.now
    /// True once the request no longer receives: dispatched to the service, refused, or the stream closed.
    private var isDone = false

    init(
        id: Int32, method: String, target: String, headers: [HTTP2HeaderField], routed: RoutedRequest,
        owner: HTTP2ServerConnection
    ) {
        self.id = id
        self.method = method
        self.target = target
        self.headers = headers
        self.routed = routed
        self.owner = owner
        self.context = owner.context
    }

    var idleSince: ContinuousClock.Instant? { isDone ? nil : lastReceived }

    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool {
        receiveBody(bytes)
        return true
    }

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        guard !isDone, let owner else { return }
        lastReceived = .now
        let maxBodyBytes = context.configuration.maxBodyBytes
        guard body.count + bytes.count <= maxBodyBytes else {
            refuse(RESTError(413, "payload_too_large", "body exceeds \(maxBodyBytes) bytes").response)
            return
        }
        body.append(contentsOf: bytes)
        guard let shortage = owner.hold(body.count, on: id) else { return }
        let message = "\(shortage)"
        if case .connection = shortage {
            refuse(RESTError(413, "payload_too_large", message).response)
        } else {
            refuse(RESTError.unavailable(message + "; retry later").response)
        }
    }

    func receiveEnd() {
        guard !isDone else { return }
        dispatch()
    }

    func expireIdle(_ message: String) {
        guard !isDone else { return }
        refuse(RESTError(408, "request_timeout", message).response)
    }

    func cancel() {
        isDone = true
    }

    /// Answers with an error while the request is still receiving; what the client still sends is discarded.
    func refuse(_ response: RESTResponse) {
        stopReceiving()
        respond(response, counters: HTTP2ServerConnection.errorCounters)
    }

    /// Answers a CORS preflight (CORSPolicy), counted as one call.
    func answerPreflight(_ response: RESTResponse) {
        stopReceiving()
        var counters = BandwidthCounters()
        counters.calls = 1
        respond(response, counters: counters)
    }

    /// Runs the complete request (unless earlier responses wait unread); the response comes back on the loop.
    func dispatch() {
        guard let owner, let loop = owner.connection?.loop else { return }
        stopReceiving()
        owner.held.release(id, budget: context.requestBuffers)
        if let refusal = owner.unreadResponsesRefusal() {
            respond(refusal.response, counters: HTTP2ServerConnection.errorCounters)
            return
        }
        let request = RESTRequest(
            method: method, path: routed.path, query: routed.query,
            headers: headers.filter { !$0.name.hasPrefix(":") }.map { ($0.name, $0.value) },
            body: body)
        body = []
        owner.service.handle(request, routed: routed, on: loop) { [self] response, counters in
            // Answered and counted even when the client reset the stream meanwhile (the session drops the frames).
            guard let owner = self.owner else { return }
            if case .success(let route) = routed.route, route.isStoreQuery,
                let refusal = owner.unreadResponsesRefusal()
            {
                // The query ran on a read thread while earlier answers piled up unread: this one is not added.
                respond(refusal.response, counters: HTTP2ServerConnection.errorCounters)
            } else {
                respond(response, counters: counters)
            }
            owner.scheduleFlush()
        }
    }

    private func stopReceiving() {
        isDone = true
        owner?.streams[id] = AnsweredServerStream.shared
    }

    /// Sends `response` and counts the request under its row.
    private func respond(_ response: RESTResponse, counters: BandwidthCounters) {
        guard let owner else { return }
        owner.held.release(id, budget: context.requestBuffers)
        context.ledger.add(routed.key, counters)
        if response.status >= 400 { context.operations.error(transport: "http", code: String(response.status)) }
        let isHead = method == "HEAD"
        var response = response
        context.configuration.cors.addResponseHeaders(to: &response, origin: headers.first { $0.name == "origin" }?.value)
        var fields = [HTTP2HeaderField(":status", String(response.status))]
        fields += response.headers.map { HTTP2HeaderField($0.name, $0.value) }
        fields.append(HTTP2HeaderField("content-length", String(response.body.count)))
        if isHead || response.body.isEmpty {
            try? owner.session.submitResponse(streamID: id, fields, endStream: true)
        } else {
            try? owner.session.submitResponse(streamID: id, fields, endStream: false)
            owner.session.send(streamID: id, response.body)
            owner.session.finish(streamID: id)
        }
    }
}
