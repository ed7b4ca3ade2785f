// A gRPC call on one HTTP/2 stream: the HTTP/2 transport of a TelemetryCallRunner. It carries the stream's DATA
// to the call, writes the call's response parts as HTTP/2 (HEADERS, DATA with the framed message, trailers; or a
// single Trailers-Only HEADERS when the call fails before any response headers), and enforces what is the
// transport's: the request bytes a stream may hold, the stream idle timeout, and the byte ledger's message counts.

import Accounting
import GRPC
import HTTP2

/// One HTTP/2 stream carrying a gRPC call (see the file comment).
final class GRPCServerStream: ServerStreamHandler, GRPCCallTransport {
    /// The HTTP/2 stream id.
    let id: Int32
    private weak var owner: HTTP2ServerConnection?
    /// The call; set once at open (it needs this stream as its transport).
    private(set) var runner: TelemetryCallRunner!
    /// Request messages already reported to the connection ledger.
    private var messagesCounted = 0
    /// When the client last sent a byte on the stream (for the stream idle timeout).
    private var lastReceived = ContinuousClock.now
    /// Encodes the call's response parts as HTTP/2.
    private var response: HTTP2GRPCResponseWriter

    /// Opens the stream for `handler`'s call, counted under `key`.
    init(id: Int32, handler: any TelemetryServerHandler, key: BandwidthKey, owner: HTTP2ServerConnection) {
        self.id = id
        self.owner = owner
        response = HTTP2GRPCResponseWriter(streamID: id)
        runner = TelemetryCallRunner(
            handler: handler, key: key, context: owner.context, loop: owner.connection?.loop, transport: self,
            afterAsyncWork: { [weak owner] in owner?.scheduleFlush() })
    }

    var idleSince: ContinuousClock.Instant? {
        runner.isFinished || runner.handler.isRequestComplete ? nil : lastReceived
    }

    // MARK: Request

    func receiveData(_ bytes: UnsafeRawBufferPointer) {
        guard !runner.isFinished, let owner else { return }
        lastReceived = .now
        runner.receive(bytes)
        let seen = runner.handler.messageCount
        owner.ledger.messages(streamID: id, count: seen - messagesCounted, inbound: true)
        messagesCounted = seen
        holdBufferedBytes()
    }

    func receiveEnd() {
        guard !runner.isFinished else { return }
        runner.receiveEnd()
        holdBufferedBytes()
    }

    func expireIdle(_ message: String) {
        runner.end(with: GRPCStatus(.unavailable, message + "; retry"))
    }

    func cancel() {
        runner.cancel()
    }

    /// Reserves what the call holds of an unfinished message; past the connection's share or the process budget
    /// the call ends (RESOURCE_EXHAUSTED, UNAVAILABLE).
    private func holdBufferedBytes() {
        guard !runner.isFinished, let shortage = owner?.hold(runner.handler.bufferedBytes, on: id) else { return }
        let code: GRPCStatus.Code
        if case .connection = shortage { code = .resourceExhausted } else { code = .unavailable }
        runner.end(with: GRPCStatus(code, "\(shortage)" + (code == .unavailable ? "; retry later" : "")))
    }

    // MARK: Response

    func write(_ part: GRPCResponsePart) {
        guard let owner else { return }
        response.write(part, on: owner)
    }
}
