// A Watch call on one HTTP/2 stream: subscribes to the store's commit feed and streams each followed batch as a
// DeviceBatch message (the call's rules are WatchServerCall's in GRPC; the feed's are CommitFeed's in Storage).
//
// Bound rule. What a watcher costs is bounded twice. Live batches the store handed over and this stream has not yet
// written into the session count against `maxQueuedBatches` and their readings against `maxQueuedReadings` (the
// subscription's queue, checked by the feed's dispatcher: past either the watcher ends with RESOURCE_EXHAUSTED
// "watcher fell behind: N batches queued (limit M)", or "N readings queued").
// Batches move from that queue into the session only while fewer than `maxUnsentBytes` of this stream's response
// wait there unframed, which HTTP/2 flow control keeps there while the client does not read. So a watcher that
// never reads holds at most `maxUnsentBytes` plus `maxQueuedBatches` batches of `maxQueuedReadings` readings in
// all, and the writer never waits for it.
//
// Replay rule. With `since_ms` the store pins a snapshot when it registers the subscription and this stream pulls
// the replay one page at a time, asking for the next page only once the last one is in the session; live batches
// that commit meanwhile wait in the queue (and count against its bound), and follow the replay's last page.
//
// Liveness. Between commits nothing moves on the connection, so every `idleTimeoutMs / 3` without a message the
// stream sends an HTTP/2 PING, whose ACK keeps the connection's idle timeout from closing a quiet watcher.

import Accounting
import Clocks
import CollectorService
import EventIO
import GRPC
import HTTP2
import Storage
import Telemetry

/// A Watch stream's bounds (see WatchServerStream.swift); part of `CollectorConfiguration`.
public struct WatchLimits: Sendable {
    /// Live batches handed over by the store and not yet written into the session.
    public var maxQueuedBatches = 1_024
    /// Live readings in those batches (16 bytes each in memory): what bounds the queue's size.
    public var maxQueuedReadings = 1_000_000
    /// Response bytes of one watcher waiting in the HTTP/2 session (not yet framed: the client is not reading).
    public var maxUnsentBytes = 1 << 20

    /// The defaults.
    public init() {}
}

/// One HTTP/2 stream carrying a Watch call (see the file comment).
final class WatchServerStream: ServerStreamHandler {
    /// The HTTP/2 stream id.
    let id: Int32
    private weak var owner: HTTP2ServerConnection?
    private let key: BandwidthKey
    private let limits: WatchLimits
    private var call = WatchServerCall()
    private var response: HTTP2GRPCResponseWriter
    private var subscription: CommitSubscription?
    /// Live batches waiting for room in the session, from `head` on.
    private var queued: [CommittedBatch] = []
    private var head = 0
    /// The replay page being sent, from `replayIndex` on; nil when no replay runs.
    private var replayPage: [CommittedBatch]?
    private var replayIndex = 0
    private var isReplayPageRequested = false
    private var isLastReplayPage = false
    private var messagesCounted = 0
    private var lastReceived = ContinuousClock.now
    private var lastSent = ContinuousClock.now
    private var timeout: UInt64?
    private var deadline: TimerHandle?
    private var keepAlive: TimerHandle?

    /// Opens the stream, counted under `key`; `timeoutNanoseconds` is the call's `grpc-timeout`.
    init(id: Int32, key: BandwidthKey, timeoutNanoseconds: UInt64?, owner: HTTP2ServerConnection) {
        self.id = id
        self.key = key
        self.owner = owner
        self.limits = owner.context.configuration.watchLimits
        self.timeout = timeoutNanoseconds
        self.response = HTTP2GRPCResponseWriter(streamID: id)
    }

    var idleSince: ContinuousClock.Instant? { call.isRequestComplete ? nil : lastReceived }

    // MARK: Request

    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool {
        defer { lastReceived = .now }
        guard !call.isFinished, let owner else { return true }
        let failure = call.receive(bytes)
        owner.ledger.messages(streamID: id, count: call.messageCount - messagesCounted, inbound: true)
        messagesCounted = call.messageCount
        if case .fail(let status) = failure {
            finish(status)
        } else if let shortage = owner.hold(call.bufferedBytes, on: id) {
            finish(GRPCStatus(.resourceExhausted, "\(shortage)"))
        }
        return true  // the request is one small message: credited at once
    }

    func receiveEnd() {
        guard let owner, let loop = owner.connection?.loop else { return }
        owner.held.release(id, budget: owner.context.requestBuffers)
        switch call.receiveEnd() {
        case .start(let request): start(request, on: loop)
        case .fail(let status): finish(status)
        case nil: break
        }
    }

    func expireIdle(_ message: String) {
        finish(GRPCStatus(.unavailable, message + "; retry"))
    }

    func cancel() {
        // The client ending its watch (reset, connection closed) is how a watch usually ends: a call, no error.
        if !call.isFinished, let owner { count(errors: 0, in: owner) }
        call.cancel()
        stop()
    }

    func willFlush() { pump() }

    func connectionWillShutDown() {
        finish(GRPCStatus(.unavailable, "the collector is shutting down; watch again elsewhere or later"))
    }

    // MARK: Subscription

    private func start(_ request: WatchRequest, on loop: EventLoop) {
        guard let owner else { return }
        let bound = LoopBound(self, on: loop)
        let subscription = CommitSubscription(
            filter: CommitFilter(devices: Set(request.devices), sensors: Set(request.sensors)),
            sinceMs: request.sinceMs > 0 ? request.sinceMs : nil, maxQueuedBatches: limits.maxQueuedBatches,
            maxQueuedReadings: limits.maxQueuedReadings
        ) { event in
            loop.execute { bound.value.handle(event) }
        }
        self.subscription = subscription
        if let timeout {
            deadline = loop.schedule(after: .nanoseconds(Int64(clamping: timeout))) { [weak self] in
                self?.deadline = nil
                self?.finish(GRPCStatus(.deadlineExceeded, "the watch's grpc-timeout has passed"))
            }
        }
        armKeepAlive(on: loop)
        do throws(StoreError) {
            try owner.context.store.watchCommits(subscription)
        } catch {
            finish(error.grpcStatus)
        }
    }

    /// One event of the subscription, on this stream's loop.
    private func handle(_ event: CommitEvent) {
        guard !call.isFinished else { return }
        switch event {
        case .subscribed:
            write(call.headers())
            if subscription?.sinceMs != nil {
                replayPage = []
                requestReplayPage()
            }
        case .replayed(let batches, let isLast):
            replayPage = batches
            replayIndex = 0
            isReplayPageRequested = false
            isLastReplayPage = isLast
        case .committed(let batches):
            queued.append(contentsOf: batches)
        case .ended(let reason):
            switch reason {
            case .fellBehind, .fellBehindReadings: finish(GRPCStatus(.resourceExhausted, reason.description))
            case .failed(let error): finish(error.grpcStatus)
            case .tooManyReplays: finish(GRPCStatus(.unavailable, reason.description))
            }
            return
        }
        pump()
    }

    /// Moves batches into the session while this stream's unsent response stays under `maxUnsentBytes`: the replay
    /// page first, then (once the replay is over) the live queue.
    private func pump() {
        guard !call.isFinished, let owner, let subscription else { return }
        var sent = 0
        defer {
            if sent > 0 {
                lastSent = .now
                owner.scheduleFlush()
            }
        }
        while owner.session.pendingBodyBytes(streamID: id) < limits.maxUnsentBytes {
            if let page = replayPage {
                if replayIndex < page.count {
                    send(page[replayIndex])
                    replayIndex += 1
                    sent += 1
                    continue
                }
                if !isLastReplayPage {
                    requestReplayPage()
                    return
                }
                replayPage = nil
            }
            guard head < queued.count else { break }
            send(queued[head])
            subscription.consumed(1, readings: queued[head].batch.readingCount)
            head += 1
            sent += 1
        }
        if head == queued.count {
            queued.removeAll(keepingCapacity: queued.count <= 1_024)
            head = 0
        } else if head >= 1_024 {
            queued.removeFirst(head)
            head = 0
        }
    }

    private func requestReplayPage() {
        guard !isReplayPageRequested else { return }
        isReplayPageRequested = true
        subscription?.requestReplayPage()
    }

    private func send(_ committed: CommittedBatch) {
        let encoded = committed.shared.bytes {
            WatchServerCall.encode(device: committed.deviceID, readings: committed.batch)
        }
        write(call.message(encoded: encoded))
        if committed.committedAtNs > 0, let owner {
            let now = MonotonicClock.nowNs()
            let delay = now > committed.committedAtNs ? now - committed.committedAtNs : 0
            owner.context.operations.watchDelivered(afterMs: Double(delay) / 1e6)
        }
    }

    // MARK: Response

    private func write(_ parts: [GRPCResponsePart]) {
        guard let owner else { return }
        for part in parts { response.write(part, on: owner) }
        owner.scheduleFlush()
    }

    /// Ends the call with `status` (once): counted like every call, the subscription released.
    private func finish(_ status: GRPCStatus) {
        guard !call.isFinished, let owner else { return }
        write(call.finish(with: status))
        stop()
        count(errors: status.code == .ok ? 0 : 1, in: owner)
        if status.code != .ok {
            owner.context.operations.error(transport: "grpc", code: status.code.name)
            if status.code == .resourceExhausted {
                owner.context.logThrottle.log("watch-\(status.code.name)") { [context = owner.context] suppressed in
                    context.log.info("watch ended \(status)\(suppressed.suppressedSuffix)")
                }
            }
        }
    }

    /// Counts the call once, when it ends.
    private func count(errors: Int64, in owner: HTTP2ServerConnection) {
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = errors
        owner.context.ledger.add(key, counters)
    }

    /// Releases the subscription (and with it this stream) and the timers.
    private func stop() {
        subscription?.cancel()
        subscription = nil  // its hand-off holds this stream: let both go
        let loop = owner?.connection?.loop
        if let deadline { _ = loop?.cancel(deadline) }
        if let keepAlive { _ = loop?.cancel(keepAlive) }
        deadline = nil
        keepAlive = nil
        queued.removeAll()
        replayPage = nil
    }

    /// Sends a PING whenever the stream sent nothing for a third of the idle timeout (see the file comment).
    private func armKeepAlive(on loop: EventLoop) {
        guard let owner else { return }
        let interval = Duration.milliseconds(max(owner.context.configuration.idleTimeoutMs / 3, 100))
        keepAlive = loop.schedule(after: interval) { [weak self] in
            guard let self, !call.isFinished, let owner = self.owner else { return }
            if ContinuousClock.now - lastSent >= interval {
                owner.session.submitPing()
                owner.scheduleFlush()
            }
            armKeepAlive(on: loop)
        }
    }
}
