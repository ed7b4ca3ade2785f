/// What a commit subscription hands its consumer, in order: `subscribed` once, then (with a replay) `replayed`
/// pages until one is the last, interleaved with `committed` batches as transactions commit, and `ended` at most
/// once, after which nothing more comes.
public enum CommitEvent: Sendable {
    /// The subscription is registered: every transaction committed from now on is delivered; with a replay, its
    /// snapshot holds exactly the transactions committed before.
    case subscribed
    /// One page of the replay, read from the snapshot taken at `subscribed`; `isLast`: the replay is over.
    /// The next page is read only when the consumer asks for it (`CommitSubscription.requestReplayPage`).
    case replayed([CommittedBatch], isLast: Bool)
    /// The batches of one transaction that match the filter, right after its COMMIT, in commit order.
    case committed([CommittedBatch])
    /// The subscription is over (see `CommitWatchEnd`); the consumer must stop.
    case ended(CommitWatchEnd)
}

/// Why the store ended a subscription.
public enum CommitWatchEnd: Equatable, Sendable, CustomStringConvertible {
    /// The consumer did not keep up: `queued` batches were handed over and not yet consumed (limit `limit`).
    case fellBehind(queued: Int, limit: Int)
    /// The consumer did not keep up: `queued` readings were handed over and not yet consumed (limit `limit`).
    case fellBehindReadings(queued: Int, limit: Int)
    /// The store could not subscribe, or the replay failed (closed, storage failing, ...).
    case failed(StoreError)
    /// `limit` replays already hold a snapshot each: this one was not started (retry later).
    case tooManyReplays(limit: Int)

    /// A sentence for the watcher's status.
    public var description: String {
        switch self {
        case .fellBehind(let queued, let limit): "watcher fell behind: \(queued) batches queued (limit \(limit))"
        case .fellBehindReadings(let queued, let limit):
            "watcher fell behind: \(queued) readings queued (limit \(limit))"
        case .failed(let error): "\(error)"
        case .tooManyReplays(let limit): "\(limit) watches are replaying already; retry later or watch without since_ms"
        }
    }
}
