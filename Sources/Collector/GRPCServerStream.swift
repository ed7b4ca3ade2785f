// A gRPC call on one HTTP/2 stream. The call's handler (GRPC module) decides everything about the call; this
// object carries its request bytes in, performs what it returns (store submissions, response parts as HTTP/2
// frames) and adds the collector's policy around it: revocation while the call is open, the `grpc-timeout`
// deadline, the limits on held request bytes, and the call's accounting (messages, calls, errors, batches).
// Store completions and the deadline timer hold this object and act only while `isFinished` is false.

import EventIO
import GRPC
import HTTP2
import Telemetry

/// The HTTP/2 transport of one gRPC call (see the file comment).
final class GRPCServerStream: ServerStreamHandler {
    /// The HTTP/2 stream id.
    let id: Int32
    /// The call itself.
    let handler: any TelemetryServerHandler
    /// The bandwidth row of the call: (its method's protocol, its device).
    let key: BandwidthKey
    private weak var owner: HTTP2ServerConnection?
    private let context: CollectorContext
    private var deadline: TimerHandle?
    /// Request messages already reported to the connection ledger.
    private var messagesCounted = 0
    /// When the client last sent a byte on the stream (for the stream idle timeout).
    private var lastReceived = ContinuousClock.now
    /// Response headers are out: the status goes in trailers, not in a Trailers-Only response.
    private var hasSentHeaders = false
    /// The session refused the response headers (the stream is gone): nothing more of the response is sent.
    private var isResponseAbandoned = false
    /// True once the call's final status was sent or the stream was cancelled: late store completions and timers
    /// do nothing but their accounting.
    private(set) var isFinished = false

    init(id: Int32, handler: any TelemetryServerHandler, key: BandwidthKey, owner: HTTP2ServerConnection) {
        self.id = id
        self.handler = handler
        self.key = key
        self.owner = owner
        self.context = owner.context
    }

    private var loop: EventLoop? { owner?.connection?.loop }

    var idleSince: ContinuousClock.Instant? { isFinished || handler.isRequestComplete ? nil : lastReceived }

    /// Arms the call's deadline (`grpc-timeout`).
    func startDeadline(nanoseconds: UInt64) {
        guard let loop else { return }
        deadline = loop.schedule(after: .nanoseconds(Int64(clamping: nanoseconds))) { [weak self] in
            guard let self, !isFinished, let owner else { return }
            deadline = nil
            perform(handler.deadlineExpired())
            owner.flush()
            owner.postRows()
        }
    }

    // MARK: Request

    func receiveData(_ bytes: UnsafeRawBufferPointer) {
        guard !isFinished, let owner else { return }
        lastReceived = .now
        let actions = handler.receive(bytes)
        let seen = handler.messageCount
        owner.ledger.messages(streamID: id, count: seen - messagesCounted, inbound: true)
        messagesCounted = seen
        perform(actions)
        if !isFinished { hold(handler.bufferedBytes) }
    }

    func receiveEnd() {
        guard !isFinished else { return }
        perform(handler.receiveEnd())
        if !isFinished { hold(handler.bufferedBytes) }
    }

    func expireIdle(_ message: String) {
        guard !isFinished else { return }
        handler.cancel()
        send(.status(GRPCStatus(.unavailable, message + "; retry"), trailers: GRPCMetadata()))
    }

    func cancel() {
        isFinished = true
        handler.cancel()
        cancelDeadline()
    }

    /// Reserves what the call holds of an unfinished message; past the connection's share or the process budget
    /// the call ends (RESOURCE_EXHAUSTED, UNAVAILABLE).
    private func hold(_ bytes: Int) {
        guard let shortage = owner?.hold(bytes, on: id) else { return }
        handler.cancel()
        let code: GRPCStatus.Code
        if case .connection = shortage { code = .resourceExhausted } else { code = .unavailable }
        let status = GRPCStatus(code, "\(shortage)" + (code == .unavailable ? "; retry later" : ""))
        send(.status(status, trailers: GRPCMetadata()))
    }

    // MARK: Actions

    /// Carries out what the handler asks for.
    private func perform(_ actions: [TelemetryServerAction]) {
        for action in actions {
            switch action {
            case .submit where context.authenticator.isRevoked(handler.head.deviceID):
                // Revoked while its Upload stream was open: this batch and the rest of the call are refused.
                let status = GRPCStatus(.permissionDenied, "device \(handler.head.deviceID) is revoked")
                perform(handler.storeFailed(status))
                return
            case .submit(let batch): submit(batch)
            case .send(let part): send(part)
            }
        }
    }

    private func submit(_ batch: ReadingBatch) {
        guard let loop else { return }
        do {
            let ledger = context.ledger
            try context.submit(deviceID: handler.head.deviceID, batch: batch, on: loop) { [self] result in
                // Stored is stored: count it even when the client's stream or connection has gone away meanwhile.
                var counters = BandwidthCounters()
                let actions: [TelemetryServerAction]
                switch result {
                case .success(let outcome):
                    counters.batches = 1
                    counters.readings = Int64(outcome.readingsStored)
                    counters.duplicateBatches = outcome.isDuplicate ? 1 : 0
                    actions = handler.committed(readingsStored: outcome.readingsStored,
                                                isDuplicate: outcome.isDuplicate, lastSeq: outcome.lastSeq)
                case .failure(let error):
                    actions = handler.storeFailed(error.grpcStatus)
                }
                ledger.add(key, counters)
                guard let owner else { return }
                if !isFinished { perform(actions) }
                owner.flush()
                owner.postRows()
            }
        } catch {
            perform(handler.storeFailed(error.grpcStatus))
        }
    }

    /// Sends one response part as HTTP/2: headers, a framed message in DATA, or the status (trailers, or a
    /// Trailers-Only response when no headers went out), which also ends the call here.
    private func send(_ part: GRPCResponsePart) {
        guard !isFinished, let owner else { return }
        switch part {
        case .headers(let metadata):
            hasSentHeaders = true
            do {
                try owner.session.submitResponse(streamID: id, .response(status: 200, metadata), endStream: false)
            } catch {
                isResponseAbandoned = true
            }
        case .message(let message):
            guard !isResponseAbandoned else { return }
            owner.session.send(streamID: id, GRPCMessageFramer.frame(message))
            owner.ledger.messages(streamID: id, count: 1, inbound: false)
        case .status(let status, let trailers):
            finish(status, on: owner)
            if !hasSentHeaders {
                try? owner.session.submitResponse(
                    streamID: id, .response(status: 200, status.trailersOnlyMetadata + trailers), endStream: true)
            } else if !isResponseAbandoned {
                owner.session.finish(streamID: id, trailers: .trailers(status.trailers + trailers))
            }
        }
    }

    /// The call is over: its held bytes, deadline and stream slot go; it is counted (and logged when it failed).
    private func finish(_ status: GRPCStatus, on owner: HTTP2ServerConnection) {
        isFinished = true
        owner.held.release(id, budget: context.requestBuffers)
        cancelDeadline()
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = status.code == .ok ? 0 : 1
        context.ledger.add(key, counters)
        if status.code != .ok { context.operations.error(transport: "grpc", code: status.code.name) }
        // Overload (UNAVAILABLE) can fail thousands of calls a second: it shows in the error counters, not the log;
        // other failures a client can provoke at will are logged at most every 10 s per status code.
        if status.code != .ok && status.code != .unavailable {
            let context = context
            context.logThrottle.log("grpc-\(status.code.name)") { suppressed in
                context.log.info("""
                    \(key.protocolName) call from \(handler.head.deviceID) ended \(status)\
                    \(suppressed.suppressedSuffix)
                    """)
            }
        }
        owner.streams[id] = AnsweredServerStream.shared
    }

    private func cancelDeadline() {
        if let deadline, let loop { loop.cancel(deadline) }
        deadline = nil
    }
}
