// One Watch call for any transport: subscribes to the store's commit feed and streams each followed batch as a
// DeviceBatch message (the call's rules are WatchServerCall's in GRPC; the feed's are CommitFeed's in Storage). Its
// transports: an HTTP/2 stream (WatchServerStream, for gRPC and gRPC-Web over h2) and an HTTP/1.1 exchange
// (HTTP1RPCExchange, gRPC-Web from browsers).
//
// Bound rule. What a watcher costs is bounded twice. Live batches the store handed over and this call has not yet
// written to its transport count against `maxQueuedBatches` and their readings against `maxQueuedReadings` (the
// subscription's queue, checked by the feed's dispatcher: past either the watcher ends with RESOURCE_EXHAUSTED
// "watcher fell behind: N batches queued (limit M)", or "N readings queued").
// Batches move from that queue to the transport only while fewer than `maxUnsentBytes` of this call's response wait
// unsent there (in the HTTP/2 session, which flow control keeps while the client does not read; or in the HTTP/1.1
// connection's output). So a watcher that never reads holds at most `maxUnsentBytes` plus `maxQueuedBatches`
// batches of `maxQueuedReadings` readings in all, and the writer never waits for it.
//
// Replay rule. With `since_ms` the store pins a snapshot when it registers the subscription and this call pulls
// the replay one page at a time, asking for the next page only once the last one is written; live batches that
// commit meanwhile wait in the queue (and count against its bound), and follow the replay's last page.
//
// Liveness. Between commits nothing moves, so every `idleTimeoutMs / 3` without a message the transport is asked to
// keep the connection alive (HTTP/2: a PING, whose ACK keeps the connection's idle timeout from closing a quiet
// watcher; HTTP/1.1 instead lifts the idle timeout while the response streams).

import Accounting
import Clocks
import CollectorService
import EventIO
import GRPC
import Storage
import Telemetry

/// A Watch stream's bounds (see WatchCallRunner.swift); part of `CollectorConfiguration`.
public struct WatchLimits: Sendable {
    /// Live batches handed over by the store and not yet written to the transport.
    public var maxQueuedBatches = 1_024
    /// Live readings in those batches (16 bytes each in memory): what bounds the queue's size.
    public var maxQueuedReadings = 1_000_000
    /// Response bytes of one watcher waiting unsent in its transport (the client is not reading).
    public var maxUnsentBytes = 1 << 20

    /// The defaults.
    public init() {}
}

/// What a Watch call needs from whatever carries it.
protocol WatchCallTransport: AnyObject {
    /// Bytes of this call's response written to the transport and not yet taken by the client.
    var unsentResponseBytes: Int { get }
    /// Writes one part of the response.
    func write(_ part: GRPCResponsePart)
    /// Nothing was sent for a third of the idle timeout: keep the connection from idling out.
    func sendKeepAlive()
    /// Marks the connection for the loop's before-sleep flush.
    func scheduleFlush()
}

/// The collector's side of one Watch call, shared by every transport (see the file comment).
final class WatchCallRunner {
    /// The call's rules (request, headers, messages, status).
    private(set) var call = WatchServerCall()
    private let key: BandwidthKey
    private let context: CollectorContext
    private let loop: EventLoop
    private let limits: WatchLimits
    private let timeout: UInt64?
    private weak var transport: (any WatchCallTransport)?
    private var subscription: CommitSubscription?
    /// Live batches waiting for room in the transport, from `head` on.
    private var queued: [CommittedBatch] = []
    private var head = 0
    /// The replay page being sent, from `replayIndex` on; nil when no replay runs.
    private var replayPage: [CommittedBatch]?
    private var replayIndex = 0
    private var isReplayPageRequested = false
    private var isLastReplayPage = false
    private var lastSent = ContinuousClock.now
    private var deadline: TimerHandle?
    private var keepAlive: TimerHandle?

    /// A call counted under `key`, written to `transport`; `timeoutNanoseconds` is its `grpc-timeout`.
    init(key: BandwidthKey, timeoutNanoseconds: UInt64?, context: CollectorContext, loop: EventLoop,
         transport: any WatchCallTransport) {
        self.key = key
        self.context = context
        self.loop = loop
        self.limits = context.configuration.watchLimits
        self.timeout = timeoutNanoseconds
        self.transport = transport
    }

    /// True once the final status was sent or the call was cancelled.
    var isFinished: Bool { call.isFinished }

    // MARK: Request

    /// Request bytes; a malformed request ends the call.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        if case .fail(let status) = call.receive(bytes) { finish(status) }
    }

    /// The client ended its request: the watch starts, or the request's failure ends it.
    func receiveEnd() {
        switch call.receiveEnd() {
        case .start(let request): start(request)
        case .fail(let status): finish(status)
        case nil: break
        }
    }

    /// The client went away (reset, connection closed): how a watch usually ends, a call and no error.
    func cancel() {
        if !call.isFinished { count(errors: 0) }
        call.cancel()
        stop()
    }

    // MARK: Subscription

    private func start(_ request: WatchRequest) {
        let bound = LoopBound(self, on: loop)
        let loop = loop
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
        armKeepAlive()
        do throws(StoreError) {
            try context.store.watchCommits(subscription)
        } catch {
            finish(error.grpcStatus)
        }
    }

    /// One event of the subscription, on this call's loop.
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

    /// Moves batches to the transport while this call's unsent response stays under `maxUnsentBytes`: the replay
    /// page first, then (once the replay is over) the live queue. The transport calls it again as output drains.
    func pump() {
        guard !call.isFinished, let transport, let subscription else { return }
        var sent = 0
        defer {
            if sent > 0 {
                lastSent = .now
                transport.scheduleFlush()
            }
        }
        while transport.unsentResponseBytes < limits.maxUnsentBytes {
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
        if committed.committedAtNs > 0 {
            let now = MonotonicClock.nowNs()
            let delay = now > committed.committedAtNs ? now - committed.committedAtNs : 0
            context.operations.watchDelivered(afterMs: Double(delay) / 1e6)
        }
    }

    // MARK: Response

    private func write(_ parts: [GRPCResponsePart]) {
        guard let transport else { return }
        for part in parts { transport.write(part) }
        transport.scheduleFlush()
    }

    /// Ends the call with `status` (once): counted like every call, the subscription released.
    func finish(_ status: GRPCStatus) {
        guard !call.isFinished else { return }
        write(call.finish(with: status))
        stop()
        count(errors: status.code == .ok ? 0 : 1)
        if status.code != .ok {
            context.operations.error(transport: "grpc", code: status.code.name)
            if status.code == .resourceExhausted {
                context.logThrottle.log("watch-\(status.code.name)") { [context] suppressed in
                    context.log.info("watch ended \(status)\(suppressed.suppressedSuffix)")
                }
            }
        }
    }

    /// Counts the call once, when it ends.
    private func count(errors: Int64) {
        var counters = BandwidthCounters()
        counters.calls = 1
        counters.errors = errors
        context.ledger.add(key, counters)
    }

    /// Releases the subscription (and with it this call) and the timers.
    private func stop() {
        subscription?.cancel()
        subscription = nil  // its hand-off holds this call: let both go
        if let deadline { _ = loop.cancel(deadline) }
        if let keepAlive { _ = loop.cancel(keepAlive) }
        deadline = nil
        keepAlive = nil
        queued.removeAll()
        replayPage = nil
    }

    /// Asks the transport to keep the connection alive whenever nothing was sent for a third of the idle timeout.
    private func armKeepAlive() {
        let interval = Duration.milliseconds(max(context.configuration.idleTimeoutMs / 3, 100))
        keepAlive = loop.schedule(after: interval) { [weak self] in
            guard let self, !call.isFinished, let transport else { return }
            if ContinuousClock.now - lastSent >= interval {
                transport.sendKeepAlive()
                transport.scheduleFlush()
            }
            armKeepAlive()
        }
    }
}
