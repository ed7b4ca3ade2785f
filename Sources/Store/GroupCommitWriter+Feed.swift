// The writer's side of the commit feed (see CommitFeed.swift in Storage for the order, cost and bound rules).
//
// Collect rule. While the open transaction collects (the feed had subscribers at BEGIN), every path that stores
// readings reports exactly the readings it stores, in ts order: the fast paths all of their run, the merge only the
// readings no stored chunk held (first write wins), a batch's repeated ts once. A batch's collection is dropped when
// the batch fails (its savepoint is rolled back) or is a duplicate, and the whole transaction's when it fails.
//
// Replay rule. A subscription with `sinceMs` is registered here, between two transactions: the writer first pins a
// read snapshot (BEGIN and one SELECT on a read connection: WAL then shows that connection exactly the commits so
// far), then registers the subscription, so every later commit is live and every earlier one is in the snapshot.
// The replay itself (CommitReplay.swift) runs on the read threads.

import Clocks
import Storage
import Telemetry

/// Readings of one series collected for the feed.
struct StoredRun {
    var times: [Int64] = []
    var values: [Double] = []
}

extension GroupCommitWriter {
    /// Records readings the current batch stored (no-op unless the transaction collects).
    func captureStored(sensor: String, exponent: Int32?, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>) {
        guard batchCapture != nil, !times.isEmpty else { return }
        batchCapture?.append(
            SensorReadings(sensor: sensor, exponent: exponent, timestamps: Array(times), values: Array(values)))
    }

    /// Keeps the finished batch's collection for the feed when it stored something.
    func collectForFeed(deviceID: String, seq: UInt64, result: Result<BatchOutcome, StoreError>) {
        defer { batchCapture = nil }
        guard let captured = batchCapture, !captured.isEmpty, case .success(let outcome) = result,
            !outcome.isDuplicate
        else { return }
        transactionCapture.append(CommittedBatch(deviceID: deviceID, batch: ReadingBatch(seq: seq, sensors: captured)))
    }

    /// After COMMIT: publishes the transaction's batches, then registers the subscriptions taken inside it.
    func publishToFeed() {
        if !transactionCapture.isEmpty {
            let committedAt = MonotonicClock.nowNs()
            for index in transactionCapture.indices { transactionCapture[index].committedAtNs = committedAt }
            feed.publish(transactionCapture)
            transactionCapture.removeAll()
        }
        isCollectingForFeed = false
        let requests = subscriptionRequests
        subscriptionRequests.removeAll()
        for subscription in requests { subscribe(subscription) }
    }

    /// Registers `subscription` now (between transactions), pinning its replay's snapshot first when it has one.
    func subscribe(_ subscription: CommitSubscription) {
        guard let sinceMs = subscription.sinceMs else {
            feed.register(subscription)
            return
        }
        let replay: CommitReplay
        do throws(StoreError) {
            guard let pinned = try CommitReplay.pin(source: replaySource, filter: subscription.filter, sinceMs: sinceMs)
            else {
                subscription.end(.tooManyReplays(limit: CommitReplay.maxConcurrentReplays))
                return
            }
            replay = pinned
        } catch {
            subscription.end(.failed(error))
            return
        }
        replay.attach(to: subscription, source: replaySource)
        feed.register(subscription)
    }
}
