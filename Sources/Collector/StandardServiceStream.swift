// A call to a standard gRPC service (Health, server reflection) on one HTTP/2 stream: the HTTP/2 transport of a
// StandardServiceHandler. It carries the stream's DATA to the handler and writes the parts it returns
// (HTTP2GRPCResponseWriter, the same encoding as Telemetry calls), and does what only the transport can: a tick
// about once a second while the call is open (the handler's `poll`: a Health Watch re-reads the serving status),
// the `grpc-timeout` deadline (DEADLINE_EXCEEDED), the request bytes the stream may hold, the stream idle timeout,
// and the end of the call when its connection shuts down (UNAVAILABLE, so a Watch does not hold a graceful shutdown
// for its whole grace period). Each call is counted once (calls, errors) under its bandwidth row, also when the
// client cancels it: that is how a Watch ends, and how reflection clients often end their stream.

import Accounting
import EventIO
import GRPC

/// One HTTP/2 stream carrying a call to a standard gRPC service (see the file comment).
final class StandardServiceStream: ServerStreamHandler {
    /// How often an open call's handler is polled.
    static let tickInterval = Duration.seconds(1)

    /// The HTTP/2 stream id.
    let id: Int32
    /// The call.
    let handler: any StandardServiceHandler
    /// The bandwidth row the call is counted under.
    let key: BandwidthKey
    private weak var owner: HTTP2ServerConnection?
    private var response: HTTP2GRPCResponseWriter
    /// Request messages already reported to the connection ledger.
    private var messagesCounted = 0
    /// When the client last sent a byte on the stream (for the stream idle timeout).
    private var lastReceived = ContinuousClock.now
    private var tick: TimerHandle?
    private var deadline: TimerHandle?
    /// True once the final status was written or the stream went away.
    private var isFinished = false

    /// Opens the stream for `handler`'s call, counted under `key`.
    init(id: Int32, handler: any StandardServiceHandler, key: BandwidthKey, owner: HTTP2ServerConnection) {
        self.id = id
        self.handler = handler
        self.key = key
        self.owner = owner
        response = HTTP2GRPCResponseWriter(streamID: id)
    }

    var idleSince: ContinuousClock.Instant? {
        isFinished || handler.isRequestComplete ? nil : lastReceived
    }

    /// Arms the call's deadline (when it has one) and its tick.
    func start() {
        guard let loop = owner?.connection?.loop else { return }
        if let nanoseconds = handler.timeoutNanoseconds {
            deadline = loop.schedule(after: .nanoseconds(Int64(clamping: nanoseconds))) { [weak self] in
                guard let self else { return }
                deadline = nil
                perform(handler.end(with: GRPCStatus(.deadlineExceeded, "the call's grpc-timeout passed")))
                owner?.scheduleFlush()
            }
        }
        scheduleTick(on: loop)
    }

    // MARK: Request

    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !isFinished, let owner else { return true }
        defer { holdBufferedBytes() }
        lastReceived = .now
        let parts = handler.receive(bytes)
        let seen = handler.messageCount
        owner.ledger.messages(streamID: id, count: seen - messagesCounted, inbound: true)
        messagesCounted = seen
        perform(parts)
        return true  // requests are small and answered at once: credited as they arrive
    }

    func receiveEnd() {
        guard !isFinished else { return }
        perform(handler.receiveEnd())
        holdBufferedBytes()
    }

    func expireIdle(_ message: String) {
        perform(handler.end(with: GRPCStatus(.unavailable, message + "; retry")))
    }

    func cancel() {
        guard !isFinished else { return }
        isFinished = true
        handler.cancel()
        cancelTimers()
        if let owner { count(isError: false, owner: owner) }
    }

    /// Reserves what the call holds of an unfinished message; past the connection's share or the process budget
    /// the call ends (RESOURCE_EXHAUSTED, UNAVAILABLE).
    private func holdBufferedBytes() {
        guard !isFinished, let shortage = owner?.hold(handler.bufferedBytes, on: id) else { return }
        let code: GRPCStatus.Code
        if case .connection = shortage { code = .resourceExhausted } else { code = .unavailable }
        perform(handler.end(with: GRPCStatus(code, "\(shortage)" + (code == .unavailable ? "; retry later" : ""))))
    }

    // MARK: Ticks

    private func scheduleTick(on loop: EventLoop) {
        tick = loop.schedule(after: Self.tickInterval) { [weak self] in
            guard let self, !isFinished, let owner else { return }
            tick = nil
            if owner.isShuttingDown {
                perform(handler.end(with: GRPCStatus(.unavailable, "the collector is shutting down; retry")))
            } else {
                perform(handler.poll())
            }
            owner.scheduleFlush()
            if !isFinished { scheduleTick(on: loop) }
        }
    }

    private func cancelTimers() {
        guard let loop = owner?.connection?.loop else { return }
        if let tick { loop.cancel(tick) }
        if let deadline { loop.cancel(deadline) }
        tick = nil
        deadline = nil
    }

    // MARK: Response

    private func perform(_ parts: [GRPCResponsePart]) {
        guard let owner else { return }
        for part in parts where !isFinished {
            if case .status(let status, _) = part { finish(status, owner: owner) }
            response.write(part, on: owner)
        }
    }

    /// The call is over: counted (a call, and an error unless OK), timers gone.
    private func finish(_ status: GRPCStatus, owner: HTTP2ServerConnection) {
        isFinished = true
        cancelTimers()
        count(isError: status.code != .ok, owner: owner)
        if status.code != .ok { owner.context.operations.error(transport: "grpc", code: status.code.name) }
    }

    private func count(isError: Bool, owner: HTTP2ServerConnection) {
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = isError ? 1 : 0
        owner.context.ledger.add(key, counters)
    }
}
