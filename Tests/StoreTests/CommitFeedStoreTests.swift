import Foundation
import Synchronization
import Telemetry
import Testing

import Storage
@testable import Store

/// The SQLite store's commit feed (GroupCommitWriter+Feed.swift, CommitReplay.swift): what each commit publishes,
/// and the replay/live boundary under concurrent writes.
@Suite struct CommitFeedStoreTests {
    /// Subscribes and waits until the writer registered the subscription.
    private func subscribe(
        _ store: TelemetryStore, sinceMs: Int64? = nil, filter: CommitFilter = CommitFilter(), limit: Int = 100_000
    ) async throws -> (CommitSubscription, EventLog) {
        let log = EventLog()
        let subscription = CommitSubscription(filter: filter, sinceMs: sinceMs, maxQueuedBatches: limit) {
            log.record($0)
        }
        try store.watchCommits(subscription)
        try await waitUntil { log.all.first == .subscribed }
        return (subscription, log)
    }

    private func waitUntil(timeoutMs: Int = 10_000, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("condition not met in \(timeoutMs) ms")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// (device, sensor, ts, value) of committed batches.
    private func readings(_ batches: [CommittedBatch]) -> [String] {
        batches.flatMap { committed in
            committed.batch.sensors.flatMap { entry in
                zip(entry.timestamps, entry.values).map { "\(committed.deviceID) \(entry.sensor) \($0) \($1)" }
            }
        }
    }

    @Test func eachCommitPublishesExactlyTheNewlyStoredReadingsInCommitOrder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        _ = try await store.store(
            deviceID: "d", batch: makeBatch(seq: 1, [("temp", [(1000, 1), (2000, 2), (3000, 3)])]))
        let (subscription, log) = try await subscribe(store)
        defer { subscription.cancel() }
        // Late readings merged into the stored chunk: 2000 is already stored (first write wins), 2500 is new; 4000
        // lands after the chunk.
        _ = try await store.store(
            deviceID: "d", batch: makeBatch(seq: 2, [("temp", [(2000, 9), (2500, 4), (4000, 5)])]))
        // A retried batch publishes nothing.
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 2, [("temp", [(9000, 9)])]))
        // Out of order with a repeated ts: sorted, the first of each ts kept.
        _ = try await store.store(
            deviceID: "d", batch: makeBatch(seq: 3, [("temp", [(5000, 6), (5000, 7), (4500, 8)])]))
        // A new device and sensor (general path), then the same again in order (fast path).
        _ = try await store.store(
            deviceID: "e", batch: makeBatch(seq: 1, [("hum", [(1, 1), (2, 2)]), ("co2", [(1, 3)])]))
        _ = try await store.store(deviceID: "e", batch: makeBatch(seq: 2, [("hum", [(3, 4)]), ("co2", [(2, 5)])]))
        // A batch whose every reading is stored already publishes nothing, though it is not a duplicate.
        _ = try await store.store(deviceID: "e", batch: makeBatch(seq: 3, [("hum", [(1, 7)])]))
        try await waitUntil { log.committed.count >= 4 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(log.committed.map { "\($0.deviceID)#\($0.batch.seq)" } == ["d#2", "d#3", "e#1", "e#2"])
        #expect(readings(log.committed) == [
            "d temp 2500 4.0", "d temp 4000 5.0",
            "d temp 4500 8.0", "d temp 5000 6.0",
            "e hum 1 1.0", "e hum 2 2.0", "e co2 1 3.0",
            "e hum 3 4.0", "e co2 2 5.0",
        ])
    }

    @Test func nothingIsCollectedWithoutSubscribersAndAFailedBatchPublishesNothing() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 1, [("t", [(1, 1)])]))
        #expect(!store.feed.isActive)
        let (subscription, log) = try await subscribe(store)
        #expect(store.feed.isActive)
        // NaN in a late (merged) reading fails that batch alone.
        await #expect(throws: StoreError.self) {
            _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 2, [("t", [(1, 5), (0, .nan)])]))
        }
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 3, [("t", [(2, 2)])]))
        try await waitUntil { !log.committed.isEmpty }
        #expect(readings(log.committed) == ["d t 2 2.0"])
        subscription.cancel()
        #expect(!store.feed.isActive)
    }

    @Test func replayThenLiveHaveNoGapAndNoDuplicateUnderConcurrentWrites() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        let since: Int64 = 25_000
        for k in 1...50 {
            for device in ["a", "b"] {
                _ = try await store.store(
                    deviceID: device, batch: makeBatch(seq: UInt64(k), [("v", [(Int64(k) * 1000, Double(k))])]))
            }
        }
        let progress = Atomic<Int>(0)
        let writer = Task.detached {
            for k in 51...250 {
                for device in ["a", "b"] {
                    _ = try await store.store(
                        deviceID: device, batch: makeBatch(seq: UInt64(k), [("v", [(Int64(k) * 1000, Double(k))])]))
                }
                // A late reading merged among stored ones after `since`.
                _ = try await store.store(
                    deviceID: "a",
                    batch: makeBatch(seq: UInt64(10_000 + k), [("v", [(Int64(k - 40) * 1000 + 1, -Double(k))])]))
                progress.add(1, ordering: .relaxed)
            }
        }
        try await waitUntil { progress.load(ordering: .relaxed) >= 20 }
        let (subscription, log) = try await subscribe(store, sinceMs: since)
        defer { subscription.cancel() }
        // Pull the replay page by page, as a watcher does.
        var pagesSeen = 0
        subscription.requestReplayPage()
        while true {
            try await waitUntil {
                log.all.count { if case .replayed = $0 { true } else { false } } > pagesSeen
            }
            pagesSeen += 1
            let pages = log.all.compactMap { entry -> Bool? in
                if case .replayed(_, let isLast) = entry { return isLast }
                return nil
            }
            if pages.last == true { break }
            subscription.requestReplayPage()
        }
        try await writer.value
        let raw = try RawConnection(path: directory.path())
        let expected = try raw.rows(
            "SELECT device || ' ' || sensor, ts, value FROM readings WHERE ts >= \(since) ORDER BY 1, 2"
        ).map { "\($0.0) \($0.1) \($0.2)" }
        let replayed = log.all.flatMap { entry -> [CommittedBatch] in
            if case .replayed(let batches, _) = entry { return batches }
            return []
        }
        try await waitUntil { readings(replayed).count + readings(log.committed).count >= expected.count }
        let live = readings(log.committed).filter { Int64($0.split(separator: " ")[2])! >= since }
        let got = readings(replayed) + live
        #expect(Set(got).count == got.count, "a reading was delivered twice")
        #expect(got.sorted() == expected.sorted())
        #expect(replayed.allSatisfy { $0.batch.seq == 0 })
        #expect(!replayed.isEmpty && !log.committed.isEmpty)
        #expect(Set(readings(replayed)).isDisjoint(with: readings(log.committed)))
    }

    @Test func aReplayPinsItsSnapshotAndReleasesItsConnection() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        for k in 1...3 {
            _ = try await store.store(deviceID: "a", batch: makeBatch(seq: UInt64(k), [("v", [(Int64(k), 1)])]))
        }
        let (subscription, log) = try await subscribe(store, sinceMs: 1, filter: CommitFilter(sensors: ["v"]))
        // Written after the subscription: live only, never in the snapshot.
        _ = try await store.store(deviceID: "a", batch: makeBatch(seq: 4, [("v", [(4, 1)])]))
        subscription.requestReplayPage()
        try await waitUntil { log.all.contains { if case .replayed(_, true) = $0 { true } else { false } } }
        let replayed = log.all.flatMap { entry -> [CommittedBatch] in
            if case .replayed(let batches, _) = entry { return batches }
            return []
        }
        #expect(readings(replayed) == ["a v 1 1.0", "a v 2 1.0", "a v 3 1.0"])
        try await waitUntil { !log.committed.isEmpty }
        #expect(readings(log.committed) == ["a v 4 1.0"])
        subscription.cancel()
    }

    @Test func atMostSixteenReplaysHoldASnapshot() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        _ = try await store.store(deviceID: "a", batch: makeBatch(seq: 1, [("v", [(1, 1)])]))
        var holding: [CommitSubscription] = []
        for _ in 0..<CommitReplay.maxConcurrentReplays {
            holding.append(try await subscribe(store, sinceMs: 1).0)
        }
        let refused = EventLog()
        let extra = CommitSubscription(filter: CommitFilter(), sinceMs: 1, maxQueuedBatches: 10) { refused.record($0) }
        try store.watchCommits(extra)
        try await waitUntil { !refused.all.isEmpty }
        #expect(refused.all == [.ended(.tooManyReplays(limit: CommitReplay.maxConcurrentReplays))])
        // A live watch needs no snapshot.
        _ = try await subscribe(store)
        // One replay ends: its snapshot is released (on a read thread) and another may start.
        holding.removeFirst().cancel()
        var started = false
        for _ in 0..<200 where !started {
            let log = EventLog()
            let next = CommitSubscription(filter: CommitFilter(), sinceMs: 1, maxQueuedBatches: 10) { log.record($0) }
            try store.watchCommits(next)
            try await waitUntil { !log.all.isEmpty }
            started = log.all.first == .subscribed
            if started { holding.append(next) } else { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(started)
        for subscription in holding { subscription.cancel() }
    }
}
