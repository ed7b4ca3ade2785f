// Request streams on an h2c connection: gRPC Telemetry calls and REST requests over HTTP/2.
//
// A stream is classified at its request headers: a `/telemetry.v1.Telemetry/` path or a gRPC content type is a
// gRPC call (so a wrong method or content type gets the HTTP answer the gRPC spec prescribes: 405, 415); anything
// else is REST. Accepted streams are identified in the connection ledger as (protocol, device); refused ones are
// connection-level. DATA is credited back to the client as soon as it is handed on (the store's bounded queue
// answers UNAVAILABLE when full, which clients retry).

import Accounting
import EventIO
import GRPC
import HTTP2
import Telemetry

/// One open request stream.
enum ServerStream {
    case grpc(GRPCServerStream)
    case rest(RESTServerStream)
    /// Answered (or refused); frames may still arrive until it closes.
    case answered

    /// The client or the connection went away: stop timers, drop the call.
    func cancel(on loop: EventLoop) {
        if case .grpc(let stream) = self { stream.cancel(on: loop) }
    }
}

/// A gRPC call's state on its stream.
final class GRPCServerStream {
    var call: TelemetryServerCall
    let key: BandwidthKey
    var deadline: TimerHandle?
    var messagesCounted = 0
    /// When the client last sent a byte on the stream (for the stream idle timeout).
    var lastReceived = ContinuousClock.now

    init(call: TelemetryServerCall, key: BandwidthKey) {
        self.call = call
        self.key = key
    }

    func cancel(on loop: EventLoop) {
        call.cancel()
        if let deadline { loop.cancel(deadline) }
        deadline = nil
    }
}

/// A REST request's state on its stream: its head, route and body so far.
final class RESTServerStream {
    let method: String
    let target: String
    let headers: [HTTP2HeaderField]
    let routed: RoutedRequest
    var body: [UInt8] = []
    /// When the client last sent a byte on the stream (for the stream idle timeout).
    var lastReceived = ContinuousClock.now

    init(method: String, target: String, headers: [HTTP2HeaderField], routed: RoutedRequest) {
        self.method = method
        self.target = target
        self.headers = headers
        self.routed = routed
    }
}

extension HTTP2ServerConnection {
    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event) {
        switch event {
        case .headers(let id, .request, let fields, let endStream, let isTooLarge):
            openStream(id, fields: fields, endStream: endStream, isTooLarge: isTooLarge)
        case .headers:
            break  // request trailers carry nothing we use
        case .data(let id, let bytes):
            receiveData(id, bytes)
            session.consume(streamID: id, count: bytes.count)
        case .endStream(let id):
            endOfRequest(id)
        case .streamClosed(let id, _):
            held.release(id, budget: context.requestBuffers)
            if let stream = streams.removeValue(forKey: id), let loop = connection?.loop { stream.cancel(on: loop) }
        case .goaway:
            break
        }
    }

    private func openStream(_ id: Int32, fields: [HTTP2HeaderField], endStream: Bool, isTooLarge: Bool) {
        let path = fields[":path"] ?? ""
        let isGRPC = path.hasPrefix("/telemetry.v1.Telemetry/")
            || (fields["content-type"].map(GRPCRequestHead.isGRPCContentType) ?? false)
        if isGRPC {
            openCall(id, fields: fields, endStream: endStream, isTooLarge: isTooLarge)
        } else {
            openREST(id, fields: fields, endStream: endStream, isTooLarge: isTooLarge)
        }
    }

    // MARK: gRPC

    private func openCall(_ id: Int32, fields: [HTTP2HeaderField], endStream: Bool, isTooLarge: Bool) {
        let method = TelemetryMethod(rawValue: fields[":path"] ?? "")
        let head: GRPCRequestHead
        do throws(GRPCRequestRejection) {
            if isTooLarge {
                throw GRPCRequestRejection.grpc(GRPCStatus(
                    .resourceExhausted, "request headers exceed \(context.configuration.http2.maxHeaderListSize) bytes"))
            }
            head = try GRPCRequestHead(headers: fields)
        } catch {
            refuseCall(id, error, protocolName: (method?.wireProtocol ?? .grpcStream).rawValue)
            return
        }
        if let refusal = context.authenticator.checkDevice(head.deviceID, authorization: head.authorization) {
            // Refused at the request headers (Trailers-Only), before any message is read.
            refuseCall(id, .grpc(refusal.grpcStatus), protocolName: head.method.wireProtocol.rawValue)
            return
        }
        let key = BandwidthKey(head.method.wireProtocol, head.deviceID)
        ledger.identify(streamID: id, as: key)
        countConnection(under: key)
        let stream = GRPCServerStream(call: TelemetryServerCall(head: head, limits: context.configuration.decodeLimits),
                                      key: key)
        streams[id] = .grpc(stream)
        if let nanos = head.timeoutNanoseconds, let loop = connection?.loop {
            stream.deadline = loop.schedule(after: .nanoseconds(Int64(clamping: nanos))) { [weak self] in
                guard let self, case .grpc(let live)? = streams[id], live === stream else { return }
                stream.deadline = nil
                perform(stream.call.deadlineExpired(), on: id, stream)
                flush()
                postRows()
            }
        }
        if endStream { perform(stream.call.receiveEnd(), on: id, stream) } else { watchStreamIdleness() }
    }

    private func refuseCall(_ id: Int32, _ rejection: GRPCRequestRejection, protocolName: String) {
        ledger.reject(streamID: id, protocolName: protocolName)
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = 1
        context.ledger.add(BandwidthKey(protocolName, WireProtocol.overheadDevice), counters)
        streams[id] = .answered
        switch rejection {
        case .http(let status, _): context.operations.error(transport: "http", code: String(status))
        case .grpc(let status): context.operations.error(transport: "grpc", code: status.code.name)
        }
        switch rejection {
        case .http(let status, let message):
            respondHTTP(id, status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
        case .grpc(let status):
            try? session.submitResponse(streamID: id, status.trailersOnlyHeaders, endStream: true)
        }
    }

    private func receiveData(_ id: Int32, _ bytes: UnsafeRawBufferPointer) {
        switch streams[id] {
        case .grpc(let stream):
            stream.lastReceived = .now
            let actions = stream.call.receive(bytes)
            let seen = stream.call.messageCount
            ledger.messages(streamID: id, count: seen - stream.messagesCounted, inbound: true)
            stream.messagesCounted = seen
            perform(actions, on: id, stream)
            if case .grpc(let live)? = streams[id], live === stream { hold(stream.call.bufferedBytes, on: id) }
        case .rest(let stream):
            stream.lastReceived = .now
            guard stream.body.count + bytes.count <= context.configuration.maxBodyBytes else {
                streams[id] = .answered
                answer(id, stream, RESTError(413, "payload_too_large",
                                             "body exceeds \(context.configuration.maxBodyBytes) bytes").response,
                       counters: Self.errorCounters)
                return
            }
            stream.body.append(contentsOf: bytes)
            hold(stream.body.count, on: id)
        case .answered, nil:
            break
        }
    }

    private func endOfRequest(_ id: Int32) {
        switch streams[id] {
        case .grpc(let stream):
            perform(stream.call.receiveEnd(), on: id, stream)
            if case .grpc(let live)? = streams[id], live === stream { hold(stream.call.bufferedBytes, on: id) }
        case .rest(let stream): dispatch(id, stream)
        case .answered, nil: break
        }
    }

    /// Carries out what a call asks for.
    func perform(_ actions: [TelemetryServerCall.Action], on id: Int32, _ stream: GRPCServerStream) {
        for action in actions {
            switch action {
            case .submit where context.authenticator.isRevoked(stream.call.head.deviceID):
                // Revoked while its Upload stream was open: this batch and the rest of the call are refused.
                let status = GRPCStatus(.permissionDenied, "device \(stream.call.head.deviceID) is revoked")
                perform(stream.call.storeFailed(status), on: id, stream)
                return
            case .submit(let batch): submit(batch, on: id, stream)
            case .respond(let ack): finishCall(id, stream, status: .ok, ack: ack)
            case .fail(let status): finishCall(id, stream, status: status, ack: nil)
            }
        }
    }

    private func submit(_ batch: ReadingBatch, on id: Int32, _ stream: GRPCServerStream) {
        guard let loop = connection?.loop else { return }
        do {
            let ledger = context.ledger
            try context.submit(deviceID: stream.call.head.deviceID, batch: batch, on: loop) { [weak self] result in
                // Stored is stored: count it even when the client's connection has gone away meanwhile.
                var counters = BandwidthCounters()
                let actions: [TelemetryServerCall.Action]
                switch result {
                case .success(let outcome):
                    counters.batches = 1
                    counters.readings = Int64(outcome.readingsStored)
                    counters.duplicateBatches = outcome.isDuplicate ? 1 : 0
                    actions = stream.call.committed(readingsStored: outcome.readingsStored,
                                                    isDuplicate: outcome.isDuplicate, lastSeq: outcome.lastSeq)
                case .failure(let error):
                    actions = stream.call.storeFailed(error.grpcStatus)
                }
                ledger.add(stream.key, counters)
                guard let self else { return }
                if case .grpc(let live)? = streams[id], live === stream { perform(actions, on: id, stream) }
                flush()
                postRows()
            }
        } catch {
            perform(stream.call.storeFailed(error.grpcStatus), on: id, stream)
        }
    }

    func finishCall(_ id: Int32, _ stream: GRPCServerStream, status: GRPCStatus, ack: Ack?) {
        held.release(id, budget: context.requestBuffers)
        if let deadline = stream.deadline, let loop = connection?.loop { loop.cancel(deadline) }
        stream.deadline = nil
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = status.code == .ok ? 0 : 1
        context.ledger.add(stream.key, counters)
        if status.code != .ok { context.operations.error(transport: "grpc", code: status.code.name) }
        // Overload (UNAVAILABLE) can fail thousands of calls a second: it shows in the error counters, not the log;
        // other failures a client can provoke at will are logged at most every 10 s per status code.
        if status.code != .ok && status.code != .unavailable {
            context.logThrottle.log("grpc-\(status.code.name)") { suppressed in
                context.log.info("""
                    \(stream.key.protocolName) call from \(stream.call.head.deviceID) ended \(status)\
                    \(suppressed.suppressedSuffix)
                    """)
            }
        }
        streams[id] = .answered
        if let ack {
            do {
                try session.submitResponse(streamID: id, GRPCStatus.responseHeaders, endStream: false)
            } catch {
                return
            }
            session.send(streamID: id, GRPCMessageFramer.frame(ack.protobufBytes()))
            session.finish(streamID: id, trailers: status.trailers)
            ledger.messages(streamID: id, count: 1, inbound: false)
        } else {
            try? session.submitResponse(streamID: id, status.trailersOnlyHeaders, endStream: true)
        }
    }

    // MARK: REST over h2c

    static var errorCounters: BandwidthCounters {
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = 1
        return counters
    }

    private func openREST(_ id: Int32, fields: [HTTP2HeaderField], endStream: Bool, isTooLarge: Bool) {
        let method = fields[":method"] ?? "GET"
        let target = fields[":path"] ?? "/"
        var routed = RoutedRequest(method: method, target: target, isHTTP2: true)
        routed.checkAccess(context.authenticator, authorization: fields["authorization"])
        ledger.identify(streamID: id, as: routed.key)
        countConnection(under: routed.key)
        let stream = RESTServerStream(method: method, target: target, headers: fields, routed: routed)
        if isTooLarge {
            streams[id] = .answered
            answer(id, stream, RESTError(431, "header_fields_too_large", "request headers exceed "
                                         + "\(context.configuration.http2.maxHeaderListSize) bytes").response,
                   counters: Self.errorCounters)
            return
        }
        if routed.isAccessRefusal, case .failure(let error) = routed.route {
            // Refused at the headers: the body (if any) is never buffered; its DATA is discarded as it arrives.
            streams[id] = .answered
            answer(id, stream, error.response, counters: Self.errorCounters)
            return
        }
        streams[id] = .rest(stream)
        if endStream { dispatch(id, stream) } else { watchStreamIdleness() }
    }

    private func dispatch(_ id: Int32, _ stream: RESTServerStream) {
        guard let loop = connection?.loop else { return }
        streams[id] = .answered
        held.release(id, budget: context.requestBuffers)
        if let refusal = unreadResponsesRefusal() {
            answer(id, stream, refusal.response, counters: Self.errorCounters)
            return
        }
        let request = RESTRequest(method: stream.method, path: stream.routed.path, query: stream.routed.query,
                                  headers: stream.headers.filter { !$0.name.hasPrefix(":") }.map { ($0.name, $0.value) },
                                  body: stream.body)
        service.handle(request, routed: stream.routed, on: loop) { [weak self] response, counters in
            guard let self else { return }
            if case .success(let route) = stream.routed.route, route.isStoreQuery,
                let refusal = unreadResponsesRefusal()
            {
                // The query ran on a read thread while earlier answers piled up unread: this one is not added.
                answer(id, stream, refusal.response, counters: Self.errorCounters)
            } else {
                answer(id, stream, response, counters: counters)
            }
            flush()
            postRows()
        }
    }

    func answer(_ id: Int32, _ stream: RESTServerStream, _ response: RESTResponse, counters: BandwidthCounters) {
        held.release(id, budget: context.requestBuffers)
        context.ledger.add(stream.routed.key, counters)
        if response.status >= 400 { context.operations.error(transport: "http", code: String(response.status)) }
        let isHead = stream.method == "HEAD"
        var headers = [HTTP2HeaderField(":status", String(response.status))]
        headers += response.headers.map { HTTP2HeaderField($0.name, $0.value) }
        headers.append(HTTP2HeaderField("content-length", String(response.body.count)))
        if isHead || response.body.isEmpty {
            try? session.submitResponse(streamID: id, headers, endStream: true)
        } else {
            try? session.submitResponse(streamID: id, headers, endStream: false)
            session.send(streamID: id, response.body)
            session.finish(streamID: id)
        }
    }

    private func respondHTTP(_ id: Int32, status: Int, contentType: String, body: [UInt8]) {
        let headers = [HTTP2HeaderField(":status", String(status)), HTTP2HeaderField("content-type", contentType),
                       HTTP2HeaderField("content-length", String(body.count))]
        try? session.submitResponse(streamID: id, headers, endStream: false)
        session.send(streamID: id, body)
        session.finish(streamID: id)
    }
}
