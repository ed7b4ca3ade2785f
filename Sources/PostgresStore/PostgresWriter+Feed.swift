// The writer's side of the commit feed (see CommitFeed.swift in Storage for the order, cost and bound rules).
//
// Collect rule. When the feed has subscribers as a transaction starts, the writer collects each stored batch's
// newly stored readings (PostgresWriter+Chunks.swift: the fast paths all of their run, a merge only the readings no
// stored chunk held) and publishes them right after COMMIT, before the completions run; nothing is published for a
// duplicate, a failed batch or a failed transaction. A subscription taken inside a transaction is registered right
// after it, so its first transaction is the next one.
//
// Replay. A subscription with `sinceMs` ends at once with `.failed(.invalidArgument)`: replaying stored readings
// from a pinned snapshot (the SQLite backend's CommitReplay) is not supported on the PostgreSQL backend yet. Live
// watching works.

import Clocks
import Storage

extension PostgresWriter {
    /// After COMMIT: hands the transaction's stored batches to the feed.
    func publish(_ captured: [CommittedBatch]) {
        guard !captured.isEmpty else { return }
        var batches = captured
        let committedAt = MonotonicClock.nowNs()
        for index in batches.indices { batches[index].committedAtNs = committedAt }
        context.feed.publish(batches)
    }

    /// Registers `subscription` now (between transactions); one asking for a replay is refused (see above).
    func subscribe(_ subscription: CommitSubscription) {
        guard subscription.sinceMs == nil else {
            subscription.end(
                .failed(.invalidArgument("Watch replay (since_ms) is not supported on the PostgreSQL backend yet")))
            return
        }
        context.feed.register(subscription)
    }
}
