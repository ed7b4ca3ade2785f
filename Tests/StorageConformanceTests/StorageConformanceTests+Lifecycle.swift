// A store's life: close commits everything queued and refuses more; everything survives a restart (readings,
// exactly-once, exponents, counters); reads on the read threads; the health and metrics of a healthy store.

import Foundation
import Storage
import Telemetry
import Testing

extension StorageConformanceTests {
    @Test(arguments: StorageBackend.available)
    func closeCommitsEverythingQueuedAndEverythingSurvivesAReopen(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let results = Collected<(Int, Result<BatchOutcome, StoreError>)>()
        var expected: [BatchOutcome] = []
        for index in 0..<300 {
            let device = "d\(index % 3)"
            let seq = UInt64(index / 3 + 1)
            let readings = (0..<5).map { (Int64(seq) * 10 + Int64($0) - 20, Double(index)) }  // overlapping
            let batch = makeBatch(seq: seq, exponent: Int32(index % 3) - 2, [("t", readings)])
            expected.append(model.apply(deviceID: device, batch: batch).outcome)
            try opened.storage.submit(deviceID: device, batch: batch) { results.append((index, $0)) }
        }
        let counted = Collected<Bool>()
        try opened.storage.addCounters([Self.countingDelta("grpc", "d0", scale: 1)], atMs: 1_000) {
            counted.append((try? $0.get()) != nil)
        }
        opened.storage.close()
        // Everything queued was committed before close() returned.
        #expect(results.all.count == 300)
        for (index, result) in results.all {
            #expect(try result.get() == expected[index], "#\(index)")
        }
        #expect(counted.all == [true])
        #expect(opened.storage.isClosed)
        #expect(!opened.storage.readinessProblems().isEmpty, "a closed store is not ready")
        #expect(throws: StoreError.closed) {
            try opened.storage.submit(deviceID: "d0", batch: makeBatch(seq: 999, [("t", [(1, 1)])])) { _ in }
        }
        #expect(throws: StoreError.closed) { try opened.storage.addCounters([], atMs: 0, completion: nil) }
        #expect(throws: StoreError.closed) { try opened.storage.performRead {} }
        #expect(throws: StoreError.closed) {
            try opened.storage.watchCommits(
                CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 1) { _ in })
        }
        opened.storage.close()  // idempotent

        let reopened = try reopen(opened)
        defer { reopened.remove() }
        try expectStorage(reopened.storage, equals: model, "reopened:")
        #expect(
            try reopened.storage.counters()
                == Self.expectedTotals([(1_000, Self.countingDelta("grpc", "d0", scale: 1))]))
        // The reopened store knows every stored seq and where each series ends.
        for batch in [
            makeBatch(seq: 100, [("t", [(0, -1)])]),  // stored before the restart: a duplicate
            makeBatch(seq: 101, exponent: 3, [("t", [(985, 7), (995, 7), (1_005, 7), (2_000, 7)])]),
            makeBatch(seq: 50, [("t", [(-100, 8), (475, 8), (480, 8)])]),  // a lower seq never stored
        ] {
            let expected = model.apply(deviceID: "d0", batch: batch).outcome
            let outcome = try await reopened.store(deviceID: "d0", batch: batch)
            #expect(outcome == expected, "seq \(batch.seq) after the reopen")
        }
        try expectStorage(reopened.storage, equals: model, "written after the reopen:")
        try await reopened.settle()
        try expectStorage(reopened.storage, equals: model, "settled after the reopen:")
    }

    @Test(arguments: StorageBackend.available)
    func readsRunOnTheReadThreads(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        _ = try await opened.store(deviceID: "d", batch: makeBatch(seq: 1, [("t", [(1, 1), (2, 2)])]))
        let storage = opened.storage
        let pages = Collected<Int>()
        for _ in 0..<20 {
            try storage.performRead {
                let page = try? storage.readings(
                    deviceID: "d", sensor: nil, fromMs: nil, toMs: nil, limit: 10, order: .ascending, after: nil)
                pages.append(page?.readings.count ?? -1)
            }
        }
        try await waitUntil("every read ran") { pages.all.count == 20 }
        #expect(pages.all == Array(repeating: 2, count: 20))
    }

    /// A healthy store is ready, and its metrics count what it committed.
    @Test(arguments: StorageBackend.available)
    func aHealthyStoresMetricsCountWhatItCommitted(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let storage = opened.storage
        #expect(storage.readinessProblems() == [])
        #expect(!storage.storageHealth().isFailing)
        var model = StorageModel()
        let batches = [
            makeBatch(seq: 1, [("t", [(1, 1), (2, 2)])]), makeBatch(seq: 1, [("t", [(3, 3)])]),
            makeBatch(seq: 2, [("t", [(2, 9), (4, 4)])]), makeBatch(seq: 3, [("t", [(5, .nan)])]),
            makeBatch(seq: 4, [("u", [(1, 1)])]),
        ]
        var stored = 0
        var duplicates = 0
        var readings = 0
        for batch in batches {
            if batch.sensors.contains(where: { $0.values.contains(where: \.isNaN) }) {
                await #expect(throws: StoreError.self) { _ = try await opened.store(deviceID: "d", batch: batch) }
                continue
            }
            let outcome = model.apply(deviceID: "d", batch: batch).outcome
            if outcome.isDuplicate { duplicates += 1 } else { stored += 1 }
            readings += outcome.readingsStored
            _ = try await opened.store(deviceID: "d", batch: batch)
        }
        try await opened.addCounters([Self.countingDelta("grpc", "d", scale: 1)], atMs: 0)
        let metrics = storage.metrics()
        #expect(metrics.committedBatches == UInt64(stored))
        #expect(metrics.duplicateBatches == UInt64(duplicates))
        #expect(metrics.failedBatches == 1)
        #expect(metrics.committedReadings == UInt64(readings))
        #expect(metrics.committedCounterFlushes == 1)
        #expect(metrics.queuedBatches == 0 && metrics.queuedReadings == 0)
        #expect(metrics.commits >= 1 && metrics.failedCommits == 0)
        #expect(storage.readinessProblems() == [])
        #expect(!storage.storageHealth().isFailing, "a refused batch says nothing about the storage")
    }

    /// A device's first and last seen times are the wall clock of its first and latest stored batches.
    @Test(arguments: StorageBackend.available)
    func aDevicesSeenTimesAreItsBatchesWallClock(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000) }
        let slackMs: Int64 = 1_000  // the server's clock and rounding
        let before = nowMs()
        _ = try await opened.store(deviceID: "d", batch: makeBatch(seq: 1, [("t", [(1, 1)])]))
        let between = nowMs()
        try await Task.sleep(for: .milliseconds(1_100))
        let beforeSecond = nowMs()
        _ = try await opened.store(deviceID: "d", batch: makeBatch(seq: 2, [("t", [(2, 2)])]))
        let after = nowMs()
        let summary = try #require(try opened.storage.device("d"))
        #expect(summary.firstSeenMs >= before - slackMs && summary.firstSeenMs <= between + slackMs, "\(summary)")
        #expect(summary.lastSeenMs >= beforeSecond - slackMs && summary.lastSeenMs <= after + slackMs, "\(summary)")
        #expect(summary.lastSeenMs > summary.firstSeenMs)
    }
}
