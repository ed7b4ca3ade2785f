// A gRPC call on one HTTP/2 stream: the HTTP/2 transport of a TelemetryCallRunner. It carries the stream's DATA
// to the call, writes the call's response parts as HTTP/2 (HEADERS, DATA with the framed message, trailers; or a
// single Trailers-Only HEADERS when the call fails before any response headers), and enforces what is the
// transport's: the request bytes a stream may hold, the stream idle timeout, and the byte ledger's message counts.
// Backpressure on a Sync stream: while its call has `maxOutstandingSyncBatches` batches in the store's queue, or
// `maxUnreadAckBytes` of its Acks wait unsent (its client does not read them, or grants no window), further DATA
// is held back uncredited (the client stops when its flow-control window is spent) and is taken and credited as
// commits come back and Acks drain; the held bytes count against the request buffer budget like a partial
// message. A stream held back for unread Acks for the stream idle timeout is ended (RESOURCE_EXHAUSTED), so a
// client that never reads holds a bounded amount for a bounded time.

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
    /// DATA held back (not yet credited) while the Sync call has its share of the store's queue.
    private var heldBack: [UInt8] = []
    /// The client's END_STREAM arrived behind held-back DATA.
    private var isEndHeldBack = false
    /// Batches a Sync call may have in the store's queue before its stream's DATA is held back.
    static let maxOutstandingSyncBatches = 64
    /// Bytes of a Sync call's Acks that may wait unsent before its stream's DATA is held back.
    static let maxUnreadAckBytes = 4 << 10
    /// When the stream started holding DATA back.
    private var heldBackSince = ContinuousClock.now

    /// The request body's bytes as frames (grpc-web-text's decoded from base64).
    private var requestBody: GRPCWebRequestDecoder

    /// Opens the stream for `handler`'s call, counted under `key`; `web` and `responseEncoding` are a gRPC-Web
    /// call's request and response encodings (nil for gRPC), `cors` its CORS response headers.
    init(id: Int32, handler: any TelemetryServerHandler, key: BandwidthKey, web: GRPCWebFraming.Encoding? = nil,
         responseEncoding: GRPCWebFraming.Encoding? = nil, cors: GRPCMetadata = GRPCMetadata(),
         owner: HTTP2ServerConnection) {
        self.id = id
        self.owner = owner
        requestBody = GRPCWebRequestDecoder(web)
        response = HTTP2GRPCResponseWriter(streamID: id, web: responseEncoding, cors: cors)
        runner = TelemetryCallRunner(
            handler: handler, key: key, context: owner.context, loop: owner.connection?.loop, transport: self,
            afterAsyncWork: { [weak owner] in owner?.scheduleFlush() })
        runner.afterCommit = { [weak self] in self?.takeHeldBack() }
    }

    var idleSince: ContinuousClock.Instant? {
        if runner.isFinished { return nil }
        // Held back for the store: not idle. Held back for unread Acks: idle since then.
        if !heldBack.isEmpty { return hasUnreadAcks ? heldBackSince : nil }
        return runner.handler.isRequestComplete ? nil : lastReceived
    }

    // MARK: Request

    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !runner.isFinished else { return true }
        lastReceived = .now
        if !heldBack.isEmpty || mustHoldBack {
            if heldBack.isEmpty {
                heldBackSince = .now
                owner?.streamsHoldingBack.insert(id)
            }
            heldBack.append(contentsOf: bytes)
            holdBufferedBytes()
            return false
        }
        deliver(bytes)
        return true
    }

    func receiveEnd() {
        guard !runner.isFinished else { return }
        if !heldBack.isEmpty {
            isEndHeldBack = true
            return
        }
        if let failure = requestBody.finish() {
            runner.end(with: failure)
            return
        }
        runner.receiveEnd()
        holdBufferedBytes()
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer) {
        guard let owner else { return }
        if let failure = requestBody.decode(bytes, into: runner.receive) {
            runner.end(with: failure)
            return
        }
        let seen = runner.handler.messageCount
        owner.ledger.messages(streamID: id, count: seen - messagesCounted, inbound: true)
        messagesCounted = seen
        holdBufferedBytes()
    }

    /// A Sync call with its share of the store's queue taken, or with Acks its client has not read: its stream's
    /// DATA waits.
    private var mustHoldBack: Bool {
        runner.handler.head.method == .sync
            && (runner.handler.outstandingBatches >= Self.maxOutstandingSyncBatches || hasUnreadAcks)
    }

    /// The call's Acks wait unsent past `maxUnreadAckBytes`.
    private var hasUnreadAcks: Bool {
        (owner?.session.pendingBodyBytes(streamID: id) ?? 0) >= Self.maxUnreadAckBytes
    }

    /// After a commit or a flush of the connection's output: takes (and credits) the DATA held back, once the
    /// call's share of the queue has room and its Acks have drained.
    func takeHeldBack() {
        guard !heldBack.isEmpty, !mustHoldBack, let owner else { return }
        let bytes = heldBack
        heldBack = []
        owner.streamsHoldingBack.remove(id)
        if !runner.isFinished { bytes.withUnsafeBytes { deliver($0) } }
        owner.session.consume(streamID: id, count: bytes.count)
        if isEndHeldBack {
            isEndHeldBack = false
            receiveEnd()
        }
    }

    func expireIdle(_ message: String) {
        if !heldBack.isEmpty {
            let unread = owner?.session.pendingBodyBytes(streamID: id) ?? 0
            let waited = (ContinuousClock.now - heldBackSince).components.seconds
            runner.end(with: GRPCStatus(
                .resourceExhausted, "the client left \(unread) bytes of Acks unread for \(waited) s; read the Acks"))
            return
        }
        runner.end(with: GRPCStatus(.unavailable, message + "; retry"))
    }

    func cancel() {
        runner.cancel()
    }

    /// Reserves what the call holds of an unfinished message; past the connection's share or the process budget
    /// the call ends (RESOURCE_EXHAUSTED, UNAVAILABLE).
    private func holdBufferedBytes() {
        guard !runner.isFinished,
              let shortage = owner?.hold(runner.handler.bufferedBytes + heldBack.count, on: id) else { return }
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
