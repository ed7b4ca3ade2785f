// Opening a Watch stream on an h2c connection: the router's generic checks, then the admin token (Watch is a read:
// the same check as REST reads, answered with the same code), then the stream (WatchServerStream.swift), counted
// in the ledger under (`watch`, the overhead device): a watcher is no device. A gRPC-Web Watch is the same call
// in gRPC-Web's encoding.

import Accounting
import GRPC
import HTTP2

extension HTTP2ServerConnection {
    /// Opens stream `id` as a Watch call, or refuses it at its headers (Trailers-Only or an HTTP answer).
    func openWatch(_ id: Int32, head: GRPCRequestHead, web: GRPCWebFraming.Encoding?, endStream: Bool,
                   isTooLarge: Bool) {
        let timeoutNanoseconds: UInt64?
        let responseEncoding = web.map { GRPCWebFraming.responseEncoding(request: $0, accept: head.metadata["accept"]) }
        do throws(GRPCRequestRejection) {
            if isTooLarge {
                let limit = context.configuration.http2.maxHeaderListSize
                throw GRPCRequestRejection.grpc(GRPCStatus(.resourceExhausted, "request headers exceed \(limit) bytes"))
            }
            timeoutNanoseconds = try WatchServerCall.router.route(web == nil ? head : GRPCWebFraming.routableHead(head))
        } catch {
            refuseCall(id, error, protocolName: WireProtocol.watch.rawValue, web: responseEncoding,
                       cors: corsHeaders(head))
            return
        }
        if let refusal = context.authenticator.checkAdmin(authorization: head.metadata["authorization"]) {
            refuseCall(id, .grpc(refusal.grpcStatus), protocolName: WireProtocol.watch.rawValue, web: responseEncoding,
                       cors: corsHeaders(head))
            return
        }
        guard let loop = connection?.loop else { return }
        let key = BandwidthKey(WireProtocol.watch, WireProtocol.overheadDevice)
        ledger.identify(streamID: id, as: key)
        countConnection(under: key)
        let stream = WatchServerStream(id: id, key: key, timeoutNanoseconds: timeoutNanoseconds, web: web,
                                       responseEncoding: responseEncoding, cors: corsHeaders(head), owner: self,
                                       loop: loop)
        streams[id] = stream
        if endStream { stream.receiveEnd() } else { watchStreamIdleness() }
    }
}
