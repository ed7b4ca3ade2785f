// Calls to the standard gRPC services (Health, server reflection) on an HTTP/2 connection: routed by their own
// router before the Telemetry check (they carry no device-id and need no credentials, so that probes work), and
// accounted like the REST side's health and metrics requests: under `query`, device "" (the protocol's overhead
// row), as calls with their own stream bytes. A call the router refuses is connection-level, like any refused call.

import Accounting
import GRPC

extension HTTP2ServerConnection {
    /// Opens stream `id` for a call to a standard service, or refuses it at its headers.
    func openStandardServiceCall(_ id: Int32, head: GRPCRequestHead, endStream: Bool, isTooLarge: Bool) {
        let key = BandwidthKey.overhead(.query)
        let handler: any StandardServiceHandler
        do throws(GRPCRequestRejection) {
            if isTooLarge {
                let limit = context.configuration.http2.maxHeaderListSize
                throw GRPCRequestRejection.grpc(GRPCStatus(.resourceExhausted, "request headers exceed \(limit) bytes"))
            }
            handler = try context.standardServiceRouter.route(head)
        } catch {
            refuseCall(id, error, protocolName: key.protocolName)
            return
        }
        ledger.identify(streamID: id, as: key)
        countConnection(under: key)
        let stream = StandardServiceStream(id: id, handler: handler, key: key, owner: self)
        streams[id] = stream
        stream.start()
        if endStream { stream.receiveEnd() } else { watchStreamIdleness() }
    }
}
