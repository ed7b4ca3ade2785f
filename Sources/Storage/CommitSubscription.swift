import Synchronization

/// One watcher's subscription to a backend's commit feed: its filter, optional replay start, bounded queue and the
/// consumer's hand-off. It exists so the writer thread can hand events to a consumer on another thread without
/// ever waiting for it (see CommitFeed.swift for the order, cost and bound rules).
///
/// `deliver` runs on the store's threads (the writer, a read thread) and must only hand the event over (to an
/// event loop with `loop.execute`). The consumer reports each live batch it is done with (`consumed`), asks for
/// each next replay page (`requestReplayPage`) and calls `cancel` when it stops.
public final class CommitSubscription: Sendable {
    private struct State {
        var isEnded = false
        var endHooks: [@Sendable () -> Void] = []
        var replayPager: (@Sendable () -> Void)?
    }

    /// What the watcher follows.
    public let filter: CommitFilter
    /// Replay the stored readings with ts ≥ this first; nil: live only.
    public let sinceMs: Int64?
    /// Most live batches handed over and not consumed before the subscription ends with `fellBehind`.
    public let maxQueuedBatches: Int
    /// Most live readings handed over and not consumed before it ends with `fellBehindReadings` (what bounds the
    /// queue's memory: a batch may hold up to a message's worth of readings).
    public let maxQueuedReadings: Int
    private let handOff: @Sendable (CommitEvent) -> Void
    private let queued = Atomic<Int>(0)
    private let queuedReadingCount = Atomic<Int>(0)
    private let state = Mutex(State())

    /// A subscription (not registered yet: `TelemetryStorage.watchCommits` registers it).
    public init(
        filter: CommitFilter, sinceMs: Int64?, maxQueuedBatches: Int, maxQueuedReadings: Int = .max,
        deliver: @escaping @Sendable (CommitEvent) -> Void
    ) {
        self.filter = filter
        self.sinceMs = sinceMs
        self.maxQueuedBatches = max(1, maxQueuedBatches)
        self.maxQueuedReadings = max(1, maxQueuedReadings)
        self.handOff = deliver
    }

    /// Live batches handed over and not consumed yet.
    public var queuedBatches: Int { queued.load(ordering: .relaxed) }

    /// Live readings handed over and not consumed yet.
    public var queuedReadings: Int { queuedReadingCount.load(ordering: .relaxed) }

    /// True once ended or cancelled.
    public var isEnded: Bool { state.withLock { $0.isEnded } }

    // MARK: Consumer side

    /// The consumer is done with `count` live batches holding `readings` readings (sent them on, or dropped them).
    public func consumed(_ count: Int, readings: Int = 0) {
        if count > 0 { queued.subtract(count, ordering: .relaxed) }
        if readings > 0 { queuedReadingCount.subtract(readings, ordering: .relaxed) }
    }

    /// Asks the backend for the next replay page (delivered as `replayed`); ignored when there is no replay.
    public func requestReplayPage() {
        guard let pager = state.withLock({ $0.isEnded ? nil : $0.replayPager }) else { return }
        pager()
    }

    /// The consumer stops: nothing more is delivered, and the backend releases what it holds for it.
    public func cancel() {
        for hook in takeEndHooks() ?? [] { hook() }
    }

    // MARK: Backend side

    /// Hands the batches of one committed transaction that match the filter to the consumer, unless that would
    /// pass the queue's limit: then the subscription ends with `fellBehind` (writer thread; never blocks).
    public func offer(_ batches: [CommittedBatch]) {
        var matching: [CommittedBatch] = []
        for committed in batches {
            if let kept = filter.apply(committed) { matching.append(kept) }
        }
        guard !matching.isEmpty, !isEnded else { return }
        let total = queued.add(matching.count, ordering: .relaxed).newValue
        let readings = matching.reduce(0) { $0 + $1.batch.readingCount }
        let totalReadings = queuedReadingCount.add(readings, ordering: .relaxed).newValue
        if total > maxQueuedBatches {
            end(.fellBehind(queued: total, limit: maxQueuedBatches))
            return
        }
        if totalReadings > maxQueuedReadings {
            end(.fellBehindReadings(queued: totalReadings, limit: maxQueuedReadings))
            return
        }
        handOff(.committed(matching))
    }

    /// Hands `event` to the consumer unless the subscription has ended.
    public func deliver(_ event: CommitEvent) {
        guard !isEnded else { return }
        handOff(event)
    }

    /// Ends the subscription: tells the consumer why (once), then releases what the backend holds for it.
    public func end(_ reason: CommitWatchEnd) {
        let hooks = takeEndHooks()
        guard let hooks else { return }
        handOff(.ended(reason))
        for hook in hooks { hook() }
    }

    /// Runs `hook` when the subscription ends or is cancelled (at once when it already has).
    public func onEnd(_ hook: @escaping @Sendable () -> Void) {
        let isEnded = state.withLock { state -> Bool in
            if !state.isEnded { state.endHooks.append(hook) }
            return state.isEnded
        }
        if isEnded { hook() }
    }

    /// Installs what `requestReplayPage` runs (the backend, when the replay's snapshot is pinned).
    public func setReplayPager(_ pager: (@Sendable () -> Void)?) {
        state.withLock { $0.replayPager = pager }
    }

    /// Marks the subscription ended and takes its hooks; nil when it had already ended.
    private func takeEndHooks() -> [@Sendable () -> Void]? {
        state.withLock { state in
            guard !state.isEnded else { return nil }
            state.isEnded = true
            state.replayPager = nil
            defer { state.endHooks.removeAll() }
            return state.endHooks
        }
    }
}
