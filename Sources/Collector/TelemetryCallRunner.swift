// Runs one Telemetry call for any transport: the call's handler (GRPC module) decides everything about the call;
// the runner performs what it returns with the collector's policy around it, and hands response parts to the
// call's transport (GRPCCallTransport). Policy: a device revoked while its call is open has its next batch and
// the rest of the call refused (PERMISSION_DENIED); a batch goes to the store's bounded queue, and what the store
// committed is counted under the call's row even when the client has gone away meanwhile; the `grpc-timeout`
// deadline ends the call; every call is counted once (calls, errors) and failures a client can provoke at will are
// logged at most every 10 s per status code. Store completions and the deadline timer hold the runner and act on
// the call only while `isFinished` is false; the transport is held weakly and is alive while the call is open.

import EventIO
import Accounting
import CollectorService
import GRPC
import Telemetry

/// The collector's side of one Telemetry call, shared by every transport (see the file comment).
final class TelemetryCallRunner {
    /// The call itself.
    let handler: any TelemetryServerHandler
    /// The bandwidth row of the call: (its method's protocol, its device).
    let key: BandwidthKey
    private let context: CollectorContext
    private let loop: EventLoop?
    private weak var transport: (any GRPCCallTransport)?
    /// Runs after every store completion and deadline, open call or not: the transport's connection marks itself
    /// for the loop's before-sleep flush (its output and ledger rows).
    private let afterAsyncWork: () -> Void
    /// Runs after each store completion, before `afterAsyncWork` (the transport takes DATA it held back).
    var afterCommit: () -> Void = {}
    private var deadline: TimerHandle?
    /// A turn of the loop that takes the call's due Ack (Sync) is queued.
    private var isAckTurnQueued = false
    /// True once the call's final status was sent or the call was cancelled.
    private(set) var isFinished = false

    init(
        handler: any TelemetryServerHandler, key: BandwidthKey, context: CollectorContext, loop: EventLoop?,
        transport: any GRPCCallTransport, afterAsyncWork: @escaping () -> Void
    ) {
        self.handler = handler
        self.key = key
        self.context = context
        self.loop = loop
        self.transport = transport
        self.afterAsyncWork = afterAsyncWork
    }

    /// Starts the call: arms its deadline (`grpc-timeout`) when it has one.
    func start() {
        guard let nanoseconds = handler.head.timeoutNanoseconds, let loop else { return }
        deadline = loop.schedule(after: .nanoseconds(Int64(clamping: nanoseconds))) { [weak self] in
            guard let self, !isFinished else { return }
            deadline = nil
            perform(handler.deadlineExpired())
            afterAsyncWork()
        }
    }

    /// Request message bytes.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isFinished else { return }
        perform(handler.receive(bytes))
    }

    /// The client ended its side.
    func receiveEnd() {
        guard !isFinished else { return }
        perform(handler.receiveEnd())
    }

    /// The transport ends the call with `status` (a limit it enforces: held bytes, idleness).
    func end(with status: GRPCStatus) {
        guard !isFinished else { return }
        handler.cancel()
        send(.status(status, trailers: GRPCMetadata()))
    }

    /// The client or the connection went away: nothing more is sent; batches already submitted still complete.
    func cancel() {
        isFinished = true
        handler.cancel()
        cancelDeadline()
    }

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
                    counters = outcome.counters
                    actions = handler.committed(
                        readingsStored: outcome.readingsStored,
                        isDuplicate: outcome.isDuplicate, lastSeq: outcome.lastSeq)
                case .failure(let error):
                    actions = handler.storeFailed(error.grpcStatus)
                }
                ledger.add(key, counters)
                if !isFinished { perform(actions) }
                afterCommit()
                queueAckTurn(on: loop)
                afterAsyncWork()
            }
        } catch {
            perform(handler.storeFailed(error.grpcStatus))
        }
    }

    /// Sync: takes the due Ack on a later turn of the loop, so that the completions of one group commit (queued on
    /// the loop together) are answered by one Ack.
    private func queueAckTurn(on loop: EventLoop) {
        guard !isAckTurnQueued, !isFinished, handler.hasDueAck else { return }
        isAckTurnQueued = true
        let runner = LoopBound(self, on: loop)
        loop.execute { runner.value.takeDueAck() }
    }

    private func takeDueAck() {
        isAckTurnQueued = false
        guard !isFinished else { return }
        perform(handler.takeDueAck())
        afterAsyncWork()
    }

    /// Hands a part to the transport; the status part ends the call first (counted, logged, deadline gone).
    private func send(_ part: GRPCResponsePart) {
        guard !isFinished else { return }
        if case .status(let status, _) = part { finish(status) }
        transport?.write(part)
    }

    private func finish(_ status: GRPCStatus) {
        isFinished = true
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
                context.log.info(
                    """
                    \(key.protocolName) call from \(handler.head.deviceID) ended \(status)\
                    \(suppressed.suppressedSuffix)
                    """)
            }
        }
    }

    private func cancelDeadline() {
        if let deadline, let loop { loop.cancel(deadline) }
        deadline = nil
    }
}
