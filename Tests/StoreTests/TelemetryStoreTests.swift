import Clocks
import Foundation
import Synchronization
import Telemetry
import Testing

import Storage
@testable import Store

@Suite struct TelemetryStoreTests {
    @Test func storedBatchReportsItsOutcomeAndIsReadable() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        let outcome = try await store.store(
            deviceID: "dev-1",
            batch: makeBatch(seq: 1, [("temp", [(1_000, 20.5), (2_000, 21)]), ("rh", [(1_000, 40)])]))
        #expect(outcome == BatchOutcome(readingsStored: 3, isDuplicate: false, lastSeq: 1))
        let page = try store.readings(deviceID: "dev-1", limit: 10)
        #expect(
            page.readings == [
                Reading(sensor: "rh", ts: 1_000, value: 40),
                Reading(sensor: "temp", ts: 1_000, value: 20.5),
                Reading(sensor: "temp", ts: 2_000, value: 21),
            ])
        #expect(page.nextCursor == nil)
    }

    @Test func closeAndReopenKeepsReadingsDevicesAndCounters() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let before = WallClock.nowMs()
        do {
            let store = try TelemetryStore(path: path)
            _ = try await store.store(
                deviceID: "dev-1", batch: makeBatch(seq: 1, exponent: -1, [("temp", [(10, 1.5)])]))
            _ = try await store.store(
                deviceID: "dev-1", batch: makeBatch(seq: 2, exponent: -1, [("temp", [(20, 2.5)])]))
            store.close()
        }
        let after = WallClock.nowMs()
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        let device = try #require(try store.device("dev-1"))
        #expect(device.readings == 2 && device.batches == 2 && device.lastSeq == 2 && device.sensors == ["temp"])
        #expect(device.firstSeenMs >= before && device.firstSeenMs <= device.lastSeenMs && device.lastSeenMs <= after)
        #expect(try store.readings(deviceID: "dev-1", limit: 10).readings.map(\.value) == [1.5, 2.5])
        #expect(
            try store.latest(deviceID: "dev-1") == [
                SensorLatest(sensor: "temp", exponent: -1, ts: 20, value: 2.5, readings: 2)
            ])
        // The reopened store's caches start empty: a new batch must find the stored device and series.
        let third = try await store.store(deviceID: "dev-1", batch: makeBatch(seq: 3, [("temp", [(30, 3.5)])]))
        #expect(third == BatchOutcome(readingsStored: 1, isDuplicate: false, lastSeq: 3))
        let raw = try RawConnection(path: path)
        #expect(try raw.integer("SELECT count(*) FROM devices") == 1)
        #expect(try raw.integer("SELECT count(*) FROM series") == 1)
        #expect(try raw.integer("SELECT readings FROM series") == 3)
    }

    @Test func retriedBatchIsStoredOnceAlsoAcrossReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let batch = makeBatch(seq: 7, [("temp", [(1, 1), (2, 2)])])
        do {
            let store = try TelemetryStore(path: path)
            #expect(try await store.store(deviceID: "d", batch: batch).readingsStored == 2)
            #expect(
                try await store.store(deviceID: "d", batch: batch)
                    == BatchOutcome(readingsStored: 0, isDuplicate: true, lastSeq: 7))
            // A retry with different content is still the same (device, seq): nothing of it is written.
            let changed = makeBatch(seq: 7, [("temp", [(3, 3)]), ("other", [(3, 3)])])
            #expect(try await store.store(deviceID: "d", batch: changed).isDuplicate)
            store.close()
        }
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        #expect(
            try await store.store(deviceID: "d", batch: batch)
                == BatchOutcome(readingsStored: 0, isDuplicate: true, lastSeq: 7))
        // A lower seq that was never stored is not a duplicate; last_seq stays the highest.
        #expect(
            try await store.store(deviceID: "d", batch: makeBatch(seq: 3, [("temp", [(4, 4)])]))
                == BatchOutcome(readingsStored: 1, isDuplicate: false, lastSeq: 7))
        let device = try #require(try store.device("d"))
        #expect(device.batches == 2 && device.readings == 3 && device.sensors == ["temp"])
        // The same seq from another device is a different batch.
        #expect(try await store.store(deviceID: "e", batch: batch).readingsStored == 2)
    }

    @Test func sameMillisecondFirstWriteWinsWithinAndAcrossBatches() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        // Within one batch: the second reading at ts 100 is ignored, also when it comes in a second entry.
        let first = makeBatch(seq: 1, [("temp", [(100, 1), (100, 2), (200, 3)]), ("temp", [(100, 4), (300, 5)])])
        #expect(try await store.store(deviceID: "d", batch: first).readingsStored == 3)
        // Across batches: stored readings are never changed; the new ts is stored.
        let second = makeBatch(seq: 2, [("temp", [(200, 30), (400, 6)])])
        #expect(try await store.store(deviceID: "d", batch: second).readingsStored == 1)
        // Another sensor at the same ms is a different series.
        #expect(
            try await store.store(deviceID: "d", batch: makeBatch(seq: 3, [("rh", [(100, 9)])])).readingsStored == 1)
        let readings = try store.readings(deviceID: "d", sensor: "temp", limit: 100).readings
        #expect(readings.map(\.ts) == [100, 200, 300, 400])
        #expect(readings.map(\.value) == [1, 3, 5, 6])
        let device = try #require(try store.device("d"))
        #expect(device.readings == 5)
        #expect(try store.latest(deviceID: "d").map(\.readings) == [1, 4])
    }

    @Test func firstDeclaredExponentIsKept() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 1, exponent: nil, [("temp", [(1, 1)])]))
        #expect(try store.latest(deviceID: "d").first?.exponent == nil)
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 2, exponent: -2, [("temp", [(2, 1)])]))
        #expect(try store.latest(deviceID: "d").first?.exponent == -2)
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 3, exponent: -1, [("temp", [(3, 1)])]))
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 4, exponent: nil, [("temp", [(4, 1)])]))
        #expect(try store.latest(deviceID: "d").first?.exponent == -2)
        #expect(store.metrics().exponentConflicts == 1)
    }

    @Test func concurrentSubmittersAreAllAcknowledgedAndEveryReadingIsStoredOnce() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        let tasks = 8
        let batchesPerTask = 200
        let outcomes = try await withThrowingTaskGroup(of: [BatchOutcome].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var outcomes: [BatchOutcome] = []
                    for seq in 1...batchesPerTask {
                        // Devices shared by two tasks each, so batches of one device interleave across threads.
                        let device = "dev-\(task / 2)"
                        let base = Int64(task % 2) * 1_000_000 + Int64(seq) * 10
                        let batch = makeBatch(
                            seq: UInt64(task % 2 * batchesPerTask + seq),
                            [("a", (0..<5).map { (base + $0, Double(base + $0)) }), ("b", [(base, -1)])])
                        outcomes.append(try await store.store(deviceID: device, batch: batch))
                    }
                    return outcomes
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        store.close()
        #expect(outcomes.count == tasks * batchesPerTask)
        #expect(outcomes.allSatisfy { !$0.isDuplicate && $0.readingsStored == 6 })
        let raw = try RawConnection(path: path)
        #expect(try raw.integer("SELECT count(*) FROM readings") == Int64(tasks * batchesPerTask * 6))
        #expect(try raw.integer("SELECT count(*) FROM batches") == Int64(tasks * batchesPerTask))
        #expect(try raw.integer("SELECT sum(readings) FROM devices") == Int64(tasks * batchesPerTask * 6))
        #expect(try raw.integer("SELECT min(last_seq) FROM devices") == Int64(2 * batchesPerTask))
        #expect(try raw.integer("SELECT sum(readings) FROM batches") == Int64(tasks * batchesPerTask * 6))
        #expect(try raw.rows("PRAGMA foreign_key_check").isEmpty, "a row refers to a missing parent")
        #expect(try raw.rows("PRAGMA integrity_check").map(\.0) == ["ok"])
        let metrics = store.metrics()
        #expect(metrics.committedBatches == UInt64(tasks * batchesPerTask))
        #expect(metrics.committedReadings == UInt64(tasks * batchesPerTask * 6))
        #expect(metrics.commits >= 1 && metrics.commits <= UInt64(tasks * batchesPerTask))
        #expect(metrics.commitLatency.count == metrics.commits)
        #expect(metrics.batchLatency.count == metrics.committedBatches + metrics.duplicateBatches + metrics.failedBatches)
    }

    @Test func completionRunsOnlyAfterTheCommitIsVisibleToAnotherConnection() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        let seen = ResultCollector<Int64>()
        let count = 50
        let done = ResultCollector<Bool>()
        for seq in 1...count {
            let batch = makeBatch(seq: UInt64(seq), [("temp", [(Int64(seq), 1), (Int64(seq) + 100_000, 2)])])
            try store.submit(deviceID: "d", batch: batch) { result in
                // A separate connection must already see this batch's rows.
                let visible =
                    (try? RawConnection(path: path).integer(
                        "SELECT count(*) FROM readings_view WHERE device = 'd' AND ts IN (\(seq), \(seq + 100_000))"))
                    ?? -1
                seen.append(visible)
                done.append((try? result.get()) != nil)
            }
        }
        store.close()
        #expect(seen.values.count == count)
        #expect(seen.values.allSatisfy { $0 == 2 })
        #expect(done.values.allSatisfy { $0 })
    }

    @Test func fullQueueThrowsOverloadedAndLosesNothingAccepted() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(
            path: path, configuration: StoreConfiguration(maxQueuedBatches: 2, maxQueuedReadings: 1_000))
        let acknowledged = ResultCollector<BatchOutcome>()
        var accepted = 0
        var overloaded = 0
        for seq in 1...300 {
            let readings = (0..<50).map { (Int64(seq * 100 + $0), 1.0) }
            do throws(StoreError) {
                try store.submit(deviceID: "d", batch: makeBatch(seq: UInt64(seq), [("x", readings)])) { result in
                    if case .success(let outcome) = result { acknowledged.append(outcome) }
                }
                accepted += 1
            } catch {
                #expect(error.isUnavailable)
                guard case .overloaded(let queued) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(queued <= 2)
                overloaded += 1
            }
        }
        store.close()
        #expect(overloaded > 0, "a queue of 2 batches never filled up")
        #expect(accepted + overloaded == 300)
        #expect(acknowledged.values.count == accepted)
        #expect(try RawConnection(path: path).integer("SELECT count(*) FROM readings") == Int64(accepted * 50))
    }

    @Test func closeDrainsTheQueueAndLaterSubmitsThrowClosed() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        let completed = ResultCollector<Bool>()
        for seq in 1...500 {
            try store.submit(deviceID: "d", batch: makeBatch(seq: UInt64(seq), [("x", [(Int64(seq), 1)])])) { result in
                completed.append((try? result.get()) != nil)
            }
        }
        store.close()
        #expect(completed.values.count == 500)
        #expect(completed.values.allSatisfy { $0 })
        #expect(store.isClosed)
        #expect(throws: StoreError.closed) {
            try store.submit(deviceID: "d", batch: makeBatch(seq: 501, [("x", [(1, 1)])])) { _ in }
        }
        #expect(throws: StoreError.closed) { try store.addCounters([], atMs: 0) }
        #expect(throws: StoreError.closed) { try store.readings(deviceID: "d", limit: 1) }
        store.close()  // idempotent
        // Every connection is closed: the last one checkpointed the WAL and removed it.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(try RawConnection(path: path).integer("SELECT count(*) FROM readings") == 500)
    }

    @Test func closeFromACompletionDoesNotDeadlockAndStillDrains() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        let completed = ResultCollector<Bool>()
        try store.submit(deviceID: "d", batch: makeBatch(seq: 1, [("x", [(1, 1)])])) { _ in
            store.close()
            completed.append(true)
        }
        for seq in 2...20 {
            try? store.submit(deviceID: "d", batch: makeBatch(seq: UInt64(seq), [("x", [(Int64(seq), 1)])])) { _ in
                completed.append(true)
            }
        }
        store.close()
        #expect(completed.values.count == (try RawConnection(path: path).integer("SELECT count(*) FROM batches")))
    }

    @Test func unclosedStoreIsClosedWhenReleased() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        do {
            let store = try TelemetryStore(path: path)
            try store.submit(deviceID: "d", batch: makeBatch(seq: 1, [("x", [(1, 1)])])) { _ in }
        }
        // deinit closed it, after committing the queued batch; the file opens again and holds the batch.
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        #expect(try store.device("d")?.batches == 1)
    }

    @Test func aFailingBatchFailsAloneAndLeavesNoTrace() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        // Keep the writer busy so the next three batches likely share one transaction.
        let busy = makeBatch(seq: 1, [("x", (0..<20_000).map { (Int64($0), 1) })])
        let results = ResultCollector<(UInt64, Result<BatchOutcome, StoreError>)>()
        try store.submit(deviceID: "other", batch: busy) { results.append((1, $0)) }
        // NaN has no place in a chunk's aggregates: the store refuses the batch as an invalid argument.
        let poisoned = makeBatch(seq: 5, [("new-sensor", [(1, 1)]), ("temp", [(2, .nan)])])
        try store.submit(deviceID: "fresh", batch: makeBatch(seq: 4, [("temp", [(1, 1)])])) { results.append((4, $0)) }
        try store.submit(deviceID: "fresh", batch: poisoned) { results.append((5, $0)) }
        try store.submit(deviceID: "fresh", batch: makeBatch(seq: 6, [("temp", [(3, 3)])])) { results.append((6, $0)) }
        let retry = try await store.store(deviceID: "fresh", batch: makeBatch(seq: 5, [("temp", [(2, 2)])]))
        #expect(retry == BatchOutcome(readingsStored: 1, isDuplicate: false, lastSeq: 6))
        let bySeq = Dictionary(uniqueKeysWithValues: results.values)
        #expect(bySeq.count == 4)
        guard case .failure(.invalidArgument(let message)) = bySeq[5] else {
            Issue.record("the NaN batch did not fail as an invalid argument: \(String(describing: bySeq[5]))")
            return
        }
        #expect(message.contains("temp") && message.contains("NaN"), "the message names the sensor: \(message)")
        #expect((try? bySeq[4]?.get())?.readingsStored == 1)
        #expect((try? bySeq[6]?.get())?.readingsStored == 1)
        // Nothing of the failed batch survived: not its new series, not its readings.
        #expect(try store.device("fresh")?.sensors == ["temp"])
        #expect(try store.readings(deviceID: "fresh", limit: 10).readings.map(\.ts) == [1, 2, 3])
        #expect(try store.device("fresh")?.batches == 3)
        #expect(store.metrics().failedBatches == 1)
    }

    @Test func aFullDiskFailsTheBatchAsUnavailableAndLeavesNoTrace() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var configuration = StoreConfiguration()
        configuration.maxPageCount = 40  // the schema takes about 15 pages; 20,000 readings need about 100 more
        let store = try TelemetryStore(path: directory.path(), configuration: configuration)
        defer { store.close() }
        let big = makeBatch(seq: 1, [("x", incompressibleReadings(20_000))])
        do {
            _ = try await store.store(deviceID: "new-device", batch: big)
            Issue.record("a batch larger than the file cap was stored")
        } catch {
            #expect(error.isUnavailable, "a full disk must read as unavailable: \(error)")
            guard case .storageFailure(let code, _, let message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(code & 0xFF == 13, "SQLITE_FULL")
            #expect(message.contains("full"))
        }
        #expect(try store.device("new-device") == nil)
        let failing = store.storageHealth()
        #expect(failing.isFailing && failing.failureSpells == 1 && failing.failedWrites == 1)
        #expect(failing.failingSinceMs != nil)
        guard case .storageFailure(let code, _, _)? = failing.currentFailure, code & 0xFF == 13 else {
            Issue.record("the health does not report the full disk: \(failing)")
            return
        }
        // The device and series ids the failed attempt created must not linger in the writer's caches: if they
        // did, these readings would be written under ids that no longer exist and the device would stay unknown.
        let small = try await store.store(deviceID: "new-device", batch: makeBatch(seq: 1, [("x", [(1, 1)])]))
        #expect(small == BatchOutcome(readingsStored: 1, isDuplicate: false, lastSeq: 1))
        #expect(try store.device("new-device")?.readings == 1)
        #expect(
            try store.readings(deviceID: "new-device", limit: 10).readings == [
                Reading(sensor: "x", ts: 1, value: 1)
            ])
        #expect(store.metrics().failedBatches == 1)
        // The next commit ends the failing spell; the last failure is kept.
        let recovered = store.storageHealth()
        #expect(!recovered.isFailing && recovered.failingSinceMs == nil && recovered.failureSpells == 1)
        #expect(recovered.lastFailure == failing.currentFailure)
    }

    @Test func whenATransactionIsLostEveryBatchInItFailsAndAcknowledgedMeansStored() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var configuration = StoreConfiguration()
        configuration.maxPageCount = 60
        let store = try TelemetryStore(path: directory.path(), configuration: configuration)
        defer { store.close() }
        // SQLITE_FULL makes SQLite abandon the whole transaction: the batches that share it fail with it, the ones
        // queued behind it commit in the next one. Whatever the grouping, acknowledged must mean stored.
        let devices = ["a", "b", "big", "c", "d"]
        let batches = devices.map { device in
            makeBatch(seq: 1, [("x", device == "big" ? incompressibleReadings(20_000) : (0..<3).map { (Int64($0), 1) })])
        }
        let busy = makeBatch(seq: 1, [("x", (0..<2_000).map { (Int64($0), 1) })])
        let results = ResultCollector<(String, Bool)>()
        try store.submit(deviceID: "busy", batch: busy) { _ in }  // keeps the writer busy while the rest queue up
        for (device, batch) in zip(devices, batches) {
            try store.submit(deviceID: device, batch: batch) { result in
                if case .failure(let error) = result { #expect(error.isUnavailable) }
                results.append((device, (try? result.get()) != nil))
            }
        }
        _ = try await store.store(deviceID: "after", batch: makeBatch(seq: 1, [("x", [(1, 1)])]))
        #expect(results.values.map(\.0) == devices, "completions must run in submission order")
        for (device, isAcknowledged) in results.values where device != "big" {
            let stored = try store.readings(deviceID: device, limit: 10).readings.count
            #expect(stored == (isAcknowledged ? 3 : 0), "\(device): acknowledged \(isAcknowledged), \(stored) stored")
            #expect(try (store.device(device) != nil) == isAcknowledged)
        }
        #expect(results.values.first { $0.0 == "big" }?.1 == false)
        #expect(try store.device("big") == nil)
    }
}
