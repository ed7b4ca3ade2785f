// A Watch call on one HTTP/2 stream (gRPC, gRPC-Web, or Connect's server streaming): the HTTP/2 transport of a WatchCallRunner, whose
// file states the call's bounds, replay and liveness rules. This stream carries the request's DATA to the call,
// holds its bytes against the connection's request budget, writes the call's parts through
// HTTP2GRPCResponseWriter (a Connect request's envelope is held whole and handed over as a gRPC frame at its end),
// measures what waits unsent in the session (the bound on moving batches) and keeps a
// quiet watch alive with HTTP/2 PINGs.

import Accounting
import EventIO
import GRPC
import HTTP2

/// One HTTP/2 stream carrying a Watch call (see the file comment).
final class WatchServerStream: ServerStreamHandler, WatchCallTransport {
    /// The HTTP/2 stream id.
    let id: Int32
    private weak var owner: HTTP2ServerConnection?
    private var runner: WatchCallRunner!
    private var response: HTTP2GRPCResponseWriter
    /// The request body's bytes as frames (grpc-web-text's decoded from base64).
    private var requestBody: GRPCWebRequestDecoder
    /// A Connect request's codec; its body (one envelope) is held here until its end.
    private let connect: ConnectProtocol.Codec?
    private var connectBody: [UInt8] = []
    private var messagesCounted = 0
    private var lastReceived = ContinuousClock.now

    /// Opens the stream on `loop`, counted under `key`; `timeoutNanoseconds` is the call's `grpc-timeout`; `web`
    /// and `responseEncoding` are a gRPC-Web call's request and response encodings (nil for gRPC), `cors` its CORS
    /// response headers.
    init(id: Int32, key: BandwidthKey, timeoutNanoseconds: UInt64?, web: GRPCWebFraming.Encoding?,
         responseEncoding: GRPCWebFraming.Encoding?, connect: ConnectProtocol.Codec? = nil, cors: GRPCMetadata,
         owner: HTTP2ServerConnection, loop: EventLoop) {
        self.id = id
        self.owner = owner
        self.response = HTTP2GRPCResponseWriter(streamID: id, web: responseEncoding, connect: connect, cors: cors)
        self.connect = connect
        requestBody = GRPCWebRequestDecoder(web)
        runner = WatchCallRunner(key: key, timeoutNanoseconds: timeoutNanoseconds, context: owner.context,
                                 loop: loop, transport: self)
    }

    var idleSince: ContinuousClock.Instant? { runner.call.isRequestComplete ? nil : lastReceived }

    // MARK: Request

    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool {
        defer { lastReceived = .now }
        guard !runner.isFinished, let owner else { return true }
        if connect != nil {
            connectBody.append(contentsOf: bytes)
            if let shortage = owner.hold(connectBody.count, on: id) {
                runner.finish(GRPCStatus(.resourceExhausted, "\(shortage)"))
            }
            return true
        }
        if let failure = requestBody.decode(bytes, into: runner.receive) {
            runner.finish(failure)
            return true
        }
        owner.ledger.messages(streamID: id, count: runner.call.messageCount - messagesCounted, inbound: true)
        messagesCounted = runner.call.messageCount
        if !runner.isFinished, let shortage = owner.hold(runner.call.bufferedBytes, on: id) {
            runner.finish(GRPCStatus(.resourceExhausted, "\(shortage)"))
        }
        return true  // the request is one small message: credited at once
    }

    func receiveEnd() {
        guard let owner else { return }
        owner.held.release(id, budget: owner.context.requestBuffers)
        if !runner.isFinished, let failure = requestBody.finish() {
            runner.finish(failure)
            return
        }
        if let connect, !runner.isFinished {
            let limits = owner.context.configuration.decodeLimits
            switch ConnectStreamCall.framedRequest(connectBody, codec: connect, limits: limits) {
            case .success(let frames): frames.withUnsafeBytes { runner.receive($0) }
            case .failure(let status):
                runner.finish(status)
                return
            }
            connectBody = []
        }
        runner.receiveEnd()
    }

    func expireIdle(_ message: String) {
        runner.finish(GRPCStatus(.unavailable, message + "; retry"))
    }

    func cancel() {
        runner.cancel()
    }

    func willFlush() { runner.pump() }

    func connectionWillShutDown() {
        runner.finish(GRPCStatus(.unavailable, "the collector is shutting down; watch again elsewhere or later"))
    }

    // MARK: WatchCallTransport

    var unsentResponseBytes: Int { owner?.session.pendingBodyBytes(streamID: id) ?? 0 }

    func write(_ part: GRPCResponsePart) {
        guard let owner else { return }
        response.write(part, on: owner)
    }

    func sendKeepAlive() { owner?.session.submitPing() }

    func scheduleFlush() { owner?.scheduleFlush() }
}
