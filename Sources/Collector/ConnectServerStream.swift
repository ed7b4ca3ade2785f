// A Connect unary call (Push) on one HTTP/2 stream: the HTTP/2 transport of a TelemetryCallRunner for Connect, as
// HTTP1RPCExchange is over HTTP/1.1 (ConnectUnaryCall.swift states the protocol's rules). The body is the bare
// message, so the stream holds it whole (against the connection's and the process's request budgets, like a REST
// body, within the message limit) and hands it to the call at END_STREAM; the call's parts are collected and the
// answer goes out at its status as one HEADERS (`:status` of the outcome) and one DATA (the Ack, or the error).

import Accounting
import CollectorService
import GRPC
import HTTP2

/// One HTTP/2 stream carrying a Connect unary call (see the file comment).
final class ConnectServerStream: ServerStreamHandler, GRPCCallTransport {
    /// The HTTP/2 stream id.
    let id: Int32
    private weak var owner: HTTP2ServerConnection?
    private let codec: ConnectProtocol.Codec
    private let cors: [(name: String, value: String)]
    /// The call; set once at open (it needs this stream as its transport).
    private(set) var runner: TelemetryCallRunner!
    private var body: [UInt8] = []
    private var responseMessage: [UInt8]?
    private var lastReceived = ContinuousClock.now

    /// Opens the stream for `handler`'s call, counted under `key`; `cors` are the answer's CORS headers.
    init(id: Int32, handler: any TelemetryServerHandler, key: BandwidthKey, codec: ConnectProtocol.Codec,
         cors: [(name: String, value: String)], owner: HTTP2ServerConnection) {
        self.id = id
        self.owner = owner
        self.codec = codec
        self.cors = cors
        runner = TelemetryCallRunner(
            handler: handler, key: key, context: owner.context, loop: owner.connection?.loop, transport: self,
            afterAsyncWork: { [weak owner] in owner?.scheduleFlush() })
    }

    var idleSince: ContinuousClock.Instant? { runner.isFinished || runner.handler.isRequestComplete ? nil : lastReceived }

    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !runner.isFinished, let owner else { return true }
        lastReceived = .now
        let limit = owner.context.configuration.maxMessageBytes
        guard body.count + bytes.count <= limit else {
            runner.end(with: GRPCStatus(.resourceExhausted, "message exceeds the limit of \(limit) bytes"))
            return true
        }
        body.append(contentsOf: bytes)
        if let shortage = owner.hold(body.count, on: id) {
            let code: GRPCStatus.Code
            if case .connection = shortage { code = .resourceExhausted } else { code = .unavailable }
            runner.end(with: GRPCStatus(code, "\(shortage)" + (code == .unavailable ? "; retry later" : "")))
        }
        return true
    }

    func receiveEnd() {
        guard !runner.isFinished, let owner else { return }
        owner.held.release(id, budget: owner.context.requestBuffers)
        let request = body
        body = []
        switch ConnectUnaryCall.framedRequest(request, codec: codec, limits: owner.context.configuration.decodeLimits) {
        case .success(let framed):
            runner.start()
            framed.withUnsafeBytes { runner.receive($0) }
            runner.receiveEnd()
        case .failure(let status):
            runner.end(with: status)
        }
    }

    func expireIdle(_ message: String) {
        runner.end(with: GRPCStatus(.unavailable, message + "; retry"))
    }

    func cancel() {
        runner.cancel()
    }

    // MARK: GRPCCallTransport

    func write(_ part: GRPCResponsePart) {
        guard let owner else { return }
        switch part {
        case .headers: break
        case .message(let message): responseMessage = message
        case .status(let status, _):
            owner.held.release(id, budget: owner.context.requestBuffers)
            owner.streams[id] = AnsweredServerStream.shared
            var response: RESTResponse
            if status.code == .ok, let responseMessage {
                response = ConnectUnaryCall.ackResponse(responseMessage, codec: codec)
            } else {
                response = ConnectUnaryCall.errorResponse(
                    status.code == .ok ? GRPCStatus(.internal, "the call produced no response message") : status)
            }
            response.headers += cors
            var fields = [HTTP2HeaderField(":status", String(response.status))]
            fields += response.headers.map { HTTP2HeaderField($0.name, $0.value) }
            fields.append(HTTP2HeaderField("content-length", String(response.body.count)))
            try? owner.session.submitResponse(streamID: id, fields, endStream: false)
            owner.session.send(streamID: id, response.body)
            owner.session.finish(streamID: id)
        }
    }
}
