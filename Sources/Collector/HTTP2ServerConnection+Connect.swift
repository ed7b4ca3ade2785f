// Opening a Connect unary call on an HTTP/2 stream (a browser over TLS, or a device, speaking Connect): routed at
// its headers as over HTTP/1.1 (BrowserCallRoute), run by a ConnectServerStream, refused with Connect's error
// answer (the code's HTTP status and `{"code","message"}`) before any body is read.

import Accounting
import CollectorService
import GRPC
import HTTP2

extension HTTP2ServerConnection {
    /// Opens stream `id` as a Connect call in `codec`, or refuses it at its headers.
    func openConnectCall(_ id: Int32, head: GRPCRequestHead, codec: ConnectProtocol.Codec, endStream: Bool,
                         isTooLarge: Bool) {
        let cors = context.configuration.cors.responseHeaders(origin: head.metadata["origin"])
        let (route, key) = routeConnect(head, kind: .connect(codec), isTooLarge: isTooLarge)
        let handler: any TelemetryServerHandler
        switch route {
        case .push(let made): handler = made
        case .refused(let status, _):
            return refuseConnectCall(id, ConnectUnaryCall.errorResponse(status), key: key, code: status.code.name,
                                     cors: cors)
        case .refusedHTTP(let error):
            return refuseConnectCall(id, error.response, key: key, code: String(error.status), cors: cors)
        case .watch:
            return  // BrowserCallRoute refuses Watch over Connect
        }
        ledger.identify(streamID: id, as: key)
        countConnection(under: key)
        let stream = ConnectServerStream(id: id, handler: handler, key: key, codec: codec, cors: cors, owner: self)
        streams[id] = stream
        if endStream { stream.receiveEnd() } else { watchStreamIdleness() }
    }

    /// Opens stream `id` as a Watch over Connect's server streaming in `codec`, or refuses it at its headers (HTTP
    /// 200 and the end-of-stream envelope alone).
    func openConnectWatch(_ id: Int32, head: GRPCRequestHead, codec: ConnectProtocol.Codec, endStream: Bool,
                          isTooLarge: Bool) {
        let cors = context.configuration.cors.responseHeaders(origin: head.metadata["origin"])
        let (route, key) = routeConnect(head, kind: .connectStream(codec), isTooLarge: isTooLarge)
        let timeout: UInt64?
        switch route {
        case .watch(let timeoutNanoseconds): timeout = timeoutNanoseconds
        case .refused(let status, _):
            return refuseConnectCall(id, ConnectStreamCall.endedResponse(status, codec: codec), key: key,
                                     code: status.code.name, cors: cors)
        case .refusedHTTP(let error):
            return refuseConnectCall(id, error.response, key: key, code: String(error.status), cors: cors)
        case .push:
            return  // BrowserCallRoute gives Push only to the unary types
        }
        guard let loop = connection?.loop else { return }
        ledger.identify(streamID: id, as: key)
        countConnection(under: key)
        var corsMetadata = GRPCMetadata()
        for (name, value) in cors { corsMetadata.append(name, value) }
        let stream = WatchServerStream(id: id, key: key, timeoutNanoseconds: timeout, web: nil, responseEncoding: nil,
                                       connect: codec, cors: corsMetadata, owner: self, loop: loop)
        streams[id] = stream
        if endStream { stream.receiveEnd() } else { watchStreamIdleness() }
    }

    /// Routes a Connect request at its headers (BrowserCallRoute), refusing headers over the size limit.
    private func routeConnect(_ head: GRPCRequestHead, kind: BrowserCallKind, isTooLarge: Bool)
        -> (BrowserCallRoute, BandwidthKey)
    {
        var (route, key) = BrowserCallRoute.route(
            GRPCWebFraming.routableHead(head), path: head.path ?? "", kind: kind, context: context,
            pskDevice: pskDevice)
        if isTooLarge {
            let limit = context.configuration.http2.maxHeaderListSize
            route = .refused(GRPCStatus(.resourceExhausted, "request headers exceed \(limit) bytes"), isUnread: true)
        }
        return (route, key)
    }

    /// Answers a Connect call refused at its headers: counted as one call and one error under `key`'s protocol.
    private func refuseConnectCall(_ id: Int32, _ response: RESTResponse, key: BandwidthKey, code: String,
                                   cors: [(name: String, value: String)]) {
        ledger.reject(streamID: id, protocolName: key.protocolName)
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = 1
        context.ledger.add(BandwidthKey(key.protocolName, WireProtocol.overheadDevice), counters)
        context.operations.error(transport: "http", code: String(response.status))
        streams[id] = AnsweredServerStream.shared
        var fields = [HTTP2HeaderField(":status", String(response.status))]
        fields += (response.headers + cors).map { HTTP2HeaderField($0.name, $0.value) }
        fields.append(HTTP2HeaderField("content-length", String(response.body.count)))
        try? session.submitResponse(streamID: id, fields, endStream: false)
        session.send(streamID: id, response.body)
        session.finish(streamID: id)
    }
}
