// The commit feed: how a backend tells watchers what each transaction stored, right after its COMMIT.
//
// Order rule. The backend's writer publishes each committed transaction's batches (CommittedBatch.swift: only
// newly stored readings) once, after COMMIT and before the next BEGIN, in the order they were written, together
// with the subscriptions registered at that moment; a subscription registered between two transactions therefore
// sees exactly the transactions committed after it. The feed's dispatcher (one serial queue) offers them to those
// subscriptions in publishing order, so a consumer that hops every event to one thread (an event loop's FIFO task
// queue) sees commit order.
//
// Cost rule. With nobody subscribed the writer pays one atomic load per transaction (`isActive`) and collects
// nothing. With subscribers it collects the stored readings and hands the transaction to the dispatcher: one
// hand-off per transaction whatever the number of watchers. The dispatcher, not the writer (the limit of ingest),
// filters per subscription and hands each its part without blocking (`CommitSubscription.offer`: an atomic add
// and the consumer's hand-off, `loop.execute`).
//
// Bound rule. A subscription counts the batches and readings handed over and not yet consumed; when an offer would
// pass either limit the subscription ends with `fellBehind` (`fellBehindReadings`) instead, and the feed forgets
// it. So a consumer that stops reading holds at most `maxQueuedBatches` batches of at most `maxQueuedReadings`
// readings in all, and never slows the writer.

import Dispatch
import Synchronization

/// The subscriptions of one backend's commit feed, and the writer's side of it (see the rules above).
public final class CommitFeed: Sendable {
    private let subscriptions = Mutex<[CommitSubscription]>([])
    private let hasSubscribers = Atomic<Bool>(false)
    private let dispatcher = DispatchQueue(label: "fleetwire-commit-feed")

    /// An empty feed.
    public init() {}

    /// True while any subscription is registered: the writer collects stored readings only then.
    public var isActive: Bool { hasSubscribers.load(ordering: .acquiring) }

    /// Subscriptions registered now.
    public var count: Int { subscriptions.withLock { $0.count } }

    /// Registers `subscription` (the writer calls this between transactions) and tells its consumer; the
    /// subscription leaves the feed by itself when it ends.
    public func register(_ subscription: CommitSubscription) {
        guard !subscription.isEnded else { return }
        subscriptions.withLock {
            $0.append(subscription)
            hasSubscribers.store(true, ordering: .releasing)
        }
        subscription.onEnd { [weak self] in self?.remove(subscription) }
        subscription.deliver(.subscribed)
    }

    /// Hands one committed transaction's batches to the dispatcher, for the subscriptions registered now (writer
    /// thread, right after COMMIT; never waits).
    public func publish(_ batches: [CommittedBatch]) {
        guard !batches.isEmpty else { return }
        let current = subscriptions.withLock { $0 }
        guard !current.isEmpty else { return }
        dispatcher.async {
            for subscription in current { subscription.offer(batches) }
        }
    }

    /// Returns once everything published so far has been offered (tests, and `endAll`).
    public func waitUntilDispatched() {
        dispatcher.sync {}
    }

    /// Ends every subscription (the backend is closing), after what was published before.
    public func endAll(_ reason: CommitWatchEnd) {
        waitUntilDispatched()
        let current = subscriptions.withLock { $0 }
        for subscription in current { subscription.end(reason) }
    }

    private func remove(_ subscription: CommitSubscription) {
        subscriptions.withLock {
            $0.removeAll { $0 === subscription }
            hasSubscribers.store(!$0.isEmpty, ordering: .releasing)
        }
    }
}
