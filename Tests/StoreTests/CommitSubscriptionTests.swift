import Dispatch
import Synchronization
import Telemetry
import Testing

import Storage

/// What a test subscription received, in order.
final class EventLog: Sendable {
    enum Entry: Equatable {
        case subscribed
        case replayed([CommittedBatch], isLast: Bool)
        case committed([CommittedBatch])
        case ended(CommitWatchEnd)
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ event: CommitEvent) {
        let entry: Entry
        switch event {
        case .subscribed: entry = .subscribed
        case .replayed(let batches, let isLast): entry = .replayed(batches, isLast: isLast)
        case .committed(let batches): entry = .committed(batches)
        case .ended(let reason): entry = .ended(reason)
        }
        entries.withLock { $0.append(entry) }
    }

    var all: [Entry] { entries.withLock { $0 } }

    /// The live batches, in the order they were delivered.
    var committed: [CommittedBatch] {
        all.flatMap { entry -> [CommittedBatch] in
            if case .committed(let batches) = entry { return batches }
            return []
        }
    }
}

private func committed(_ device: String, seq: UInt64, _ sensors: [(String, [Int64])]) -> CommittedBatch {
    CommittedBatch(
        deviceID: device,
        batch: ReadingBatch(
            seq: seq,
            sensors: sensors.map {
                SensorReadings(sensor: $0.0, exponent: nil, timestamps: $0.1, values: $0.1.map(Double.init))
            }))
}

/// The subscription's bounded queue and lifecycle, and the feed's fan-out (CommitFeed.swift's rules).
@Suite struct CommitSubscriptionTests {
    @Test func offersPastTheLimitEndTheSubscriptionOnce() {
        let log = EventLog()
        let subscription = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 3) {
            log.record($0)
        }
        let hookRuns = Mutex(0)
        subscription.onEnd { hookRuns.withLock { $0 += 1 } }
        subscription.offer([committed("a", seq: 1, [("t", [1])]), committed("b", seq: 1, [("t", [1])])])
        #expect(subscription.queuedBatches == 2)
        subscription.consumed(1)
        subscription.offer([committed("a", seq: 2, [("t", [2])]), committed("a", seq: 3, [("t", [3])])])
        #expect(subscription.queuedBatches == 3)
        #expect(!subscription.isEnded)
        subscription.offer([committed("a", seq: 4, [("t", [4])])])
        #expect(subscription.isEnded)
        #expect(log.all.last == .ended(.fellBehind(queued: 4, limit: 3)))
        #expect(CommitWatchEnd.fellBehind(queued: 4, limit: 3).description
                == "watcher fell behind: 4 batches queued (limit 3)")
        subscription.offer([committed("a", seq: 5, [("t", [5])])])
        subscription.end(.failed(.closed))
        #expect(log.all.count == 3)  // two deliveries, one end
        #expect(hookRuns.withLock { $0 } == 1)
        subscription.onEnd { hookRuns.withLock { $0 += 10 } }  // after the end: runs at once
        #expect(hookRuns.withLock { $0 } == 11)
    }

    @Test func theFilterSelectsDevicesAndSensorsBeforeCounting() {
        let log = EventLog()
        let subscription = CommitSubscription(
            filter: CommitFilter(devices: ["a"], sensors: ["t"]), sinceMs: nil, maxQueuedBatches: 10
        ) { log.record($0) }
        subscription.offer([
            committed("a", seq: 1, [("t", [1]), ("h", [1])]),
            committed("b", seq: 1, [("t", [1])]),
            committed("a", seq: 2, [("h", [2])]),
        ])
        #expect(log.all == [.committed([committed("a", seq: 1, [("t", [1])])])])
        #expect(subscription.queuedBatches == 1)
    }

    @Test func cancelStopsDeliveryWithoutAnEndEvent() {
        let log = EventLog()
        let subscription = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 10) {
            log.record($0)
        }
        let pages = Mutex(0)
        subscription.setReplayPager { pages.withLock { $0 += 1 } }
        subscription.requestReplayPage()
        subscription.cancel()
        subscription.requestReplayPage()
        subscription.offer([committed("a", seq: 1, [("t", [1])])])
        subscription.deliver(.subscribed)
        #expect(log.all.isEmpty)
        #expect(pages.withLock { $0 } == 1)
    }

    @Test func theFeedRegistersPublishesInOrderAndForgetsEndedSubscriptions() {
        let feed = CommitFeed()
        #expect(!feed.isActive)
        let first = EventLog()
        let second = EventLog()
        let one = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 2) { first.record($0) }
        let two = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 100) { second.record($0) }
        feed.register(one)
        feed.register(two)
        #expect(feed.isActive && feed.count == 2)
        for seq in 1...3 { feed.publish([committed("a", seq: UInt64(seq), [("t", [Int64(seq)])])]) }
        feed.waitUntilDispatched()
        #expect(second.committed.map(\.batch.seq) == [1, 2, 3])
        #expect(first.all.first == .subscribed)
        #expect(first.all.last == .ended(.fellBehind(queued: 3, limit: 2)))
        #expect(feed.count == 1)
        two.cancel()
        #expect(feed.count == 0 && !feed.isActive)
        feed.publish([committed("a", seq: 4, [("t", [4])])])
        feed.waitUntilDispatched()
        #expect(second.committed.count == 3)
    }

    @Test func watchersThatFollowEverySensorShareOneEncoding() {
        let batch = committed("a", seq: 1, [("t", [1]), ("h", [1])])
        let calls = Mutex(0)
        let make = { () -> [UInt8] in
            calls.withLock { $0 += 1 }
            return [1, 2, 3]
        }
        let all = CommitFilter()
        let some = CommitFilter(sensors: ["t"])
        #expect(all.apply(batch)!.shared.bytes(make) == [1, 2, 3])
        #expect(all.apply(batch)!.shared.bytes(make) == [1, 2, 3])
        #expect(calls.withLock { $0 } == 1)
        _ = some.apply(batch)!.shared.bytes(make)  // a filtered copy is another message
        #expect(calls.withLock { $0 } == 2)
        #expect(some.apply(batch) == committed("a", seq: 1, [("t", [1])]))
    }

    @Test func aSubscriptionSeesOnlyTransactionsPublishedAfterItsRegistrationThoughDispatchIsLater() {
        let feed = CommitFeed()
        let gate = DispatchSemaphore(value: 0)
        let first = EventLog()
        let second = EventLog()
        let slow = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 100) { event in
            if case .committed = event { gate.wait() }  // holds the dispatcher on the first transaction
            first.record(event)
        }
        feed.register(slow)
        feed.publish([committed("a", seq: 1, [("t", [1])])])
        let late = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 100) {
            second.record($0)
        }
        feed.register(late)  // before transaction 1 was dispatched
        feed.publish([committed("a", seq: 2, [("t", [2])])])
        gate.signal()
        gate.signal()
        feed.waitUntilDispatched()
        #expect(first.committed.map(\.batch.seq) == [1, 2])
        #expect(second.committed.map(\.batch.seq) == [2])
    }

    @Test func readingsPastTheirLimitEndTheSubscriptionToo() {
        let log = EventLog()
        let subscription = CommitSubscription(
            filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 100, maxQueuedReadings: 5
        ) { log.record($0) }
        subscription.offer([committed("a", seq: 1, [("t", [1, 2, 3])])])
        #expect(subscription.queuedReadings == 3)
        subscription.consumed(1, readings: 3)
        subscription.offer([committed("a", seq: 2, [("t", [4, 5, 6, 7, 8])])])
        #expect(!subscription.isEnded)
        subscription.offer([committed("a", seq: 3, [("t", [9])])])
        #expect(log.all.last == .ended(.fellBehindReadings(queued: 6, limit: 5)))
        #expect(CommitWatchEnd.fellBehindReadings(queued: 6, limit: 5).description
                == "watcher fell behind: 6 readings queued (limit 5)")
    }
}
