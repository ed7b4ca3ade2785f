// Request streams on an h2c connection: gRPC calls and REST requests over HTTP/2.
//
// The connection only multiplexes: a stream is classified at its request headers and gets its own object
// (ServerStreamHandler) that owns its lifecycle; DATA, END_STREAM, idleness and close are handed to that object.
// A `/telemetry.v1.Telemetry/` path or a gRPC content type is a gRPC call, routed by the GRPC module's router
// (so a wrong method or content type gets the HTTP answer the gRPC spec prescribes: 405, 415); anything else is
// REST; a gRPC-Web content type makes it a gRPC-Web call, Connect's unary types (`application/proto`,
// `application/json`) under the service's path a Connect call (HTTP2ServerConnection+Connect.swift), the same call in gRPC-Web's encoding (and a CORS
// preflight is REST's, answered by CORSPolicy). Accepted streams are identified in the connection ledger as (protocol, device); refused ones are
// connection-level. DATA is credited back to the client as soon as it is handed on, except on a Sync stream
// whose call has as many batches in the store's queue as it may (GRPCServerStream holds the rest back and credits
// it as commits come back: flow control is the first backpressure; the store's bounded queue answers UNAVAILABLE
// when full, last).

import Accounting
import CollectorService
import TLS
import GRPC
import HTTP2

extension HTTP2ServerConnection {
    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event) {
        switch event {
        case .headers(let id, .request, let fields, let endStream, let isTooLarge):
            openStream(id, fields: fields, endStream: endStream, isTooLarge: isTooLarge)
        case .headers:
            break  // request trailers carry nothing we use
        case .data(let id, let bytes):
            if streams[id]?.receiveData(bytes) ?? true { session.consume(streamID: id, count: bytes.count) }
        case .endStream(let id):
            streams[id]?.receiveEnd()
        case .streamClosed(let id, _):
            held.release(id, budget: context.requestBuffers)
            streamsHoldingBack.remove(id)
            streams.removeValue(forKey: id)?.cancel()
        case .goaway:
            break
        }
    }

    private func openStream(_ id: Int32, fields: [HTTP2HeaderField], endStream: Bool, isTooLarge: Bool) {
        let path = fields[":path"] ?? ""
        if CORSPolicy.isPreflight(method: fields[":method"] ?? "", origin: fields["origin"],
                                  requestMethod: fields["access-control-request-method"]) {
            return openREST(id, fields: fields, endStream: endStream, isTooLarge: isTooLarge)
        }
        if StandardServices.handles(path: path) {
            openStandardServiceCall(id, head: GRPCRequestHead(http2Fields: fields), endStream: endStream,
                                    isTooLarge: isTooLarge)
            return
        }
        let isGRPC = path.hasPrefix(TelemetryMethod.servicePathPrefix)
            || (fields["content-type"].map(GRPCRequestHead.isGRPCContentType) ?? false)
        if isGRPC, path.hasPrefix(TelemetryMethod.servicePathPrefix),
            let codec = fields["content-type"].flatMap(ConnectProtocol.unaryCodec(ofContentType:))
        {
            openConnectCall(id, head: GRPCRequestHead(http2Fields: fields), codec: codec, endStream: endStream,
                            isTooLarge: isTooLarge)
        } else if isGRPC, path.hasPrefix(TelemetryMethod.servicePathPrefix),
            let codec = fields["content-type"].flatMap(ConnectProtocol.streamingCodec(ofContentType:))
        {
            openConnectWatch(id, head: GRPCRequestHead(http2Fields: fields), codec: codec, endStream: endStream,
                             isTooLarge: isTooLarge)
        } else if isGRPC {
            let web = fields["content-type"].flatMap(GRPCWebFraming.encoding(ofContentType:))
            openCall(id, head: GRPCRequestHead(http2Fields: fields), web: web, endStream: endStream,
                     isTooLarge: isTooLarge)
        } else {
            openREST(id, fields: fields, endStream: endStream, isTooLarge: isTooLarge)
        }
    }

    // MARK: gRPC

    /// Opens a gRPC call (or a gRPC-Web one, in `web`'s encoding), or refuses it at its headers.
    private func openCall(_ id: Int32, head: GRPCRequestHead, web: GRPCWebFraming.Encoding?, endStream: Bool,
                          isTooLarge: Bool) {
        if head.path == WatchServerCall.path {
            return openWatch(id, head: head, web: web, endStream: endStream, isTooLarge: isTooLarge)
        }
        let method = TelemetryMethod(rawValue: head.path ?? "")
        let wireProtocol = web.map(WireProtocol.init(web:)) ?? method?.wireProtocol ?? .grpcStream
        let responseEncoding = web.map { GRPCWebFraming.responseEncoding(request: $0, accept: head.metadata["accept"]) }
        let handler: any TelemetryServerHandler
        do throws(GRPCRequestRejection) {
            if isTooLarge {
                throw GRPCRequestRejection.grpc(GRPCStatus(
                    .resourceExhausted, "request headers exceed \(context.configuration.http2.maxHeaderListSize) bytes"))
            }
            if web != nil, let method, let refusal = TelemetryMethod.webRefusal(method) { throw .grpc(refusal) }
            handler = try context.grpcRouter.route(web == nil ? head : GRPCWebFraming.routableHead(head))
        } catch {
            refuseCall(id, error, protocolName: wireProtocol.rawValue, web: responseEncoding, cors: corsHeaders(head))
            return
        }
        let call = handler.head
        if let refusal = context.authenticator.checkDevice(
            call.deviceID, authorization: call.authorization, connectionDevice: pskDevice)
        {
            // Refused at the request headers (Trailers-Only), before any message is read.
            refuseCall(id, .grpc(refusal.grpcStatus), protocolName: wireProtocol.rawValue, web: responseEncoding,
                       cors: corsHeaders(head))
            return
        }
        let key = BandwidthKey(wireProtocol, call.deviceID)
        ledger.identify(streamID: id, as: key)
        countConnection(under: key)
        let stream = GRPCServerStream(id: id, handler: handler, key: key, web: web, responseEncoding: responseEncoding,
                                      cors: corsHeaders(head), owner: self)
        streams[id] = stream
        stream.runner.start()
        if endStream { stream.receiveEnd() } else { watchStreamIdleness() }
    }

    /// Refuses stream `id`'s call at its headers: an HTTP answer, or a Trailers-Only one (in gRPC-Web's `web`
    /// encoding for a gRPC-Web call).
    func refuseCall(_ id: Int32, _ rejection: GRPCRequestRejection, protocolName: String,
                    web: GRPCWebFraming.Encoding? = nil, cors: GRPCMetadata = GRPCMetadata()) {
        ledger.reject(streamID: id, protocolName: protocolName)
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = 1
        context.ledger.add(BandwidthKey(protocolName, WireProtocol.overheadDevice), counters)
        streams[id] = AnsweredServerStream.shared
        switch rejection {
        case .http(let status, _): context.operations.error(transport: "http", code: String(status))
        case .grpc(let status): context.operations.error(transport: "grpc", code: status.code.name)
        }
        switch rejection {
        case .http(let status, let message):
            respondHTTP(id, status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
        case .grpc(let status):
            let metadata = web.map { GRPCWebFraming.responseMetadata(status.trailersOnlyMetadata, $0) + cors }
                ?? status.trailersOnlyMetadata
            try? session.submitResponse(streamID: id, .response(status: 200, metadata), endStream: true)
        }
    }

    // MARK: REST over h2c

    /// The counters of a request answered with an error: one call, one error.
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
        routed.checkAccess(context.authenticator, authorization: fields["authorization"], connectionDevice: pskDevice)
        ledger.identify(streamID: id, as: routed.key)
        countConnection(under: routed.key)
        let stream = RESTServerStream(id: id, method: method, target: target, headers: fields, routed: routed,
                                      owner: self)
        streams[id] = stream
        if CORSPolicy.isPreflight(method: method, origin: fields["origin"],
                                  requestMethod: fields["access-control-request-method"]) {
            stream.answerPreflight(context.configuration.cors.preflight(
                origin: fields["origin"]!, requestHeaders: fields["access-control-request-headers"]))
            return
        }
        if isTooLarge {
            stream.refuse(RESTError(431, "header_fields_too_large", "request headers exceed "
                                    + "\(context.configuration.http2.maxHeaderListSize) bytes").response)
            return
        }
        if routed.isAccessRefusal, case .failure(let error) = routed.route {
            // Refused at the headers: the body (if any) is never buffered; its DATA is discarded as it arrives.
            stream.refuse(error.response)
            return
        }
        if case .success(.ingest) = routed.route, let refusal = RESTIngest.contentTypeRefusal(fields["content-type"]) {
            // A body that is not JSON is refused before it is buffered, as HTTP/1.1 does at the head.
            stream.refuse(refusal.response)
            return
        }
        if endStream { stream.dispatch() } else { watchStreamIdleness() }
    }

    private func respondHTTP(_ id: Int32, status: Int, contentType: String, body: [UInt8]) {
        let headers = [HTTP2HeaderField(":status", String(status)), HTTP2HeaderField("content-type", contentType),
                       HTTP2HeaderField("content-length", String(body.count))]
        try? session.submitResponse(streamID: id, headers, endStream: false)
        session.send(streamID: id, body)
        session.finish(streamID: id)
    }
}

extension HTTP2ServerConnection {
    /// The CORS headers of a gRPC-Web answer to `head` (CORSPolicy; none without an allowed `origin`).
    func corsHeaders(_ head: GRPCRequestHead) -> GRPCMetadata {
        var metadata = GRPCMetadata()
        for (name, value) in context.configuration.cors.responseHeaders(origin: head.metadata["origin"]) {
            metadata.append(name, value)
        }
        return metadata
    }

    /// The device whose TLS-PSK authenticated this connection, if any.
    var pskDevice: String? { (connection as? TLSTransport)?.pskIdentity }
}
