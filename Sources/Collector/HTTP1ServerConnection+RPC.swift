// What an HTTP/1.1 connection does for browsers beyond REST: CORS preflights (CORSPolicy) and gRPC-Web and Connect
// calls (HTTP1RPCExchange, whose file states their rules). Both are decided at the head, before REST routing; a
// call's answer goes through the same state machine as a REST answer, or streams (Watch) while the state machine
// waits for it, reading nothing.

import Accounting
import CollectorService
import EventIO
import HTTP1
import TLS

extension HTTP1ServerConnection {
    /// Routes a preflight or a call, or returns nil for REST.
    func routeBrowserRequest(_ requestHead: HTTPRequestHead) -> HTTP1HeadVerdict? {
        let origin = requestHead.headers["origin"]
        if CORSPolicy.isPreflight(method: requestHead.method, origin: origin,
                                  requestMethod: requestHead.headers["access-control-request-method"]) {
            routed = nil
            rpc = nil
            ledger.requestKey = .overhead(.query)
            preflight = context.configuration.cors.preflight(
                origin: origin!, requestHeaders: requestHead.headers["access-control-request-headers"])
            return .accepted
        }
        guard let exchange = HTTP1RPCExchange(
            requestHead: requestHead, context: context, owner: self,
            pskDevice: (currentConnection as? TLSTransport)?.pskIdentity)
        else { return nil }
        routed = nil
        rpc = exchange
        return exchange.verdict
    }

    /// Answers a preflight or runs a call; returns false for REST.
    func dispatchBrowserRequest(_ requestHead: HTTPRequestHead, _ end: HTTPMessageEnd,
                                on connection: any ByteTransport) -> Bool {
        if let preflight {
            book(end.bytes)
            answer(.whole(preflight, bodyFraming: 0), on: connection)
            return true
        }
        guard let rpc else { return false }
        book(end.bytes, framing: rpc.requestFraming(end.body))
        rpc.run(body: end.body, on: connection.loop) { [weak self, weak connection] answer in
            guard let self, let connection, !connection.isClosed else { return }
            self.answer(answer, on: connection)
        }
        return true
    }

    // MARK: For a streaming call

    /// Bytes written to the connection and not yet sent.
    var outboundByteCount: Int { currentConnection?.outboundByteCount ?? 0 }

    /// Marks the connection for the loop's before-sleep flush (its ledger rows).
    func markForFlush() { flusher.mark(self) }

    /// Writes part of a streamed answer, booked to the call's row by part.
    func writeStreamed(_ bytes: [UInt8], header: Int, framing: Int, payload: Int) {
        guard let connection = currentConnection, !connection.isClosed, !bytes.isEmpty else { return }
        ledger.queue(header: header, framing: framing, payload: payload)
        connection.write(bytes)
    }

    /// A streamed answer's head is out: the connection is not idle while it streams, and it reads on (discarding)
    /// so that a client leaving (FIN) ends the call at once, even a quiet one.
    func streamingStarted() {
        currentConnection?.idleTimeout = nil
        currentConnection?.resumeReading()
    }

    /// A streamed answer ended: the idle timeout applies again.
    func streamEnded(on connection: any ByteTransport) {
        connection.idleTimeout = .milliseconds(context.configuration.idleTimeoutMs)
    }
}
