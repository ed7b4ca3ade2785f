import Dispatch
import Postgres
import PostgresTestSupport
import Storage
import Synchronization
import Telemetry
import Testing

@testable import PostgresStore

/// Exactly once, first write wins, counts and refusals: the writer's rules (PostgresWriter*.swift).
extension PostgresStoreTests {
    @Test func aBatchIsStoredOnceAndItsRepeatIsADuplicate() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        let batch = Self.batch(7, [(1_000, 1.5), (2_000, 2.5)])
        let first = try await store.store(deviceID: "d1", batch: batch)
        #expect(first == BatchOutcome(readingsStored: 2, isDuplicate: false, lastSeq: 7))
        let again = try await store.store(deviceID: "d1", batch: batch)
        #expect(again == BatchOutcome(readingsStored: 0, isDuplicate: true, lastSeq: 7))
        #expect(try Self.storedReadings(url, device: "d1").map(\.0) == [1_000, 2_000])
        let device = try PostgresConnection(connectingTo: url).execute(
            "SELECT readings, batches, last_seq FROM devices WHERE name = 'd1'")
        #expect(device.rows.map(\.values) == [["2", "1", "7"]])
        #expect(try Self.column(url, "SELECT collector FROM batches") == ["c1"])
        let metrics = store.metrics()
        #expect(metrics.committedBatches == 1 && metrics.duplicateBatches == 1 && metrics.committedReadings == 2)
        #expect(metrics.commits == 2 && metrics.failedCommits == 0)
    }

    @Test func theSameBatchFromTwoCollectorsAtOnceIsStoredByExactlyOne() async throws {
        let (first, url) = try makeStore(collector: "a")
        defer { first.close() }
        let second = try openStore(url, collector: "b")
        defer { second.close() }
        let outcomes = try await withThrowingTaskGroup(of: BatchOutcome.self) { group in
            for seq in UInt64(1)...40 {
                let batch = Self.batch(seq, [(Int64(seq) * 10, Double(seq))])
                group.addTask { try await first.store(deviceID: "shared", batch: batch) }
                group.addTask { try await second.store(deviceID: "shared", batch: batch) }
            }
            var all: [BatchOutcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.count == 80)
        #expect(outcomes.filter { !$0.isDuplicate }.count == 40)
        #expect(outcomes.filter { !$0.isDuplicate }.allSatisfy { $0.readingsStored == 1 })
        #expect(try Self.storedReadings(url, device: "shared").count == 40)
        #expect(try Self.column(url, "SELECT count(*) FROM batches") == ["40"])
        #expect(try Self.column(url, "SELECT readings::text || '/' || batches FROM devices") == ["40/40"])
    }

    @Test func repeatedTimestampsInOneBatchKeepTheFirst() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        let outcome = try await store.store(
            deviceID: "d", batch: Self.batch(1, [(30, 3), (10, 1), (30, 99), (20, 2), (10, 98)]))
        #expect(outcome.readingsStored == 3)
        #expect(try Self.storedReadings(url, device: "d").map(\.1) == [1, 2, 3])
        #expect(try Self.column(url, "SELECT readings FROM batches") == ["3"])
    }

    @Test func overlappingBatchesNeverChangeAStoredReading() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        _ = try await store.store(deviceID: "d", batch: Self.batch(1, [(10, 1), (20, 2), (30, 3), (40, 4)]))
        // Late readings: 15 and 25 fall into the stored chunk, 5 before it, 20 and 40 are stored already, 50 after.
        let late = try await store.store(
            deviceID: "d", batch: Self.batch(2, [(15, 15), (25, 25), (5, 5), (20, 99), (40, 99), (50, 50)]))
        #expect(late.readingsStored == 4)
        let stored = try Self.storedReadings(url, device: "d")
        #expect(stored.map(\.0) == [5, 10, 15, 20, 25, 30, 40, 50])
        #expect(stored.map(\.1) == [5, 1, 15, 2, 25, 3, 4, 50])
        #expect(try Self.column(url, "SELECT readings::text || '/' || last_ts FROM series") == ["8/50"])
        #expect(try Self.column(url, "SELECT readings FROM batches ORDER BY seq") == ["4", "4"])
        #expect(store.metrics().mergedSeriesWrites == 1)
    }

    @Test func batchesOfOneTransactionOverlappingEachOtherKeepTheFirst() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        // Submitted back to back, so they usually share a transaction; the rule holds either way.
        let outcomes = try await withThrowingTaskGroup(of: (UInt64, BatchOutcome).self) { group in
            let first = Self.batch(1, [(10, 1), (20, 2), (30, 3)])
            let second = Self.batch(2, [(20, 99), (25, 25), (30, 99), (35, 35)])
            group.addTask { (1, try await store.store(deviceID: "d", batch: first)) }
            group.addTask { (2, try await store.store(deviceID: "d", batch: second)) }
            var all: [(UInt64, BatchOutcome)] = []
            for try await outcome in group { all.append(outcome) }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
        #expect(outcomes.map(\.readingsStored).reduce(0, +) == 5)
        let stored = try Self.storedReadings(url, device: "d")
        #expect(stored.map(\.0) == [10, 20, 25, 30, 35])
        let second = Dictionary(uniqueKeysWithValues: stored.map { ($0.0, $0.1) })
        // Whichever batch came first, a ts stored once never changed afterwards: 20 and 30 hold one batch's value.
        #expect([2.0, 99.0].contains(second[20]!) && [3.0, 99.0].contains(second[30]!))
    }

    @Test func twoCollectorsWritingOneSeriesKeepTheFirstWrite() async throws {
        let (first, url) = try makeStore(collector: "a")
        defer { first.close() }
        let second = try openStore(url, collector: "b")
        defer { second.close() }
        _ = try await first.store(deviceID: "d", batch: Self.batch(1, [(10, 1), (20, 2), (30, 3)]))
        let late = try await second.store(deviceID: "d", batch: Self.batch(2, [(20, 99), (25, 25), (40, 4)]))
        #expect(late == BatchOutcome(readingsStored: 2, isDuplicate: false, lastSeq: 2))
        let stored = try Self.storedReadings(url, device: "d")
        #expect(stored.map(\.0) == [10, 20, 25, 30, 40])
        #expect(stored.map(\.1) == [1, 2, 25, 3, 4])
        #expect(try Self.column(url, "SELECT collector FROM batches ORDER BY seq") == ["a", "b"])
    }

    @Test func theFirstDeclaredExponentIsKeptAndAConflictCounted() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        _ = try await store.store(deviceID: "d", batch: Self.batch(1, exponent: -2, [(10, 1)]))
        _ = try await store.store(deviceID: "d", batch: Self.batch(2, exponent: -3, [(20, 2)]))
        #expect(try Self.column(url, "SELECT exponent FROM series") == ["-2"])
        #expect(store.metrics().exponentConflicts == 1)
    }

    @Test func aBatchWithNaNFailsAloneAndWritesNothing() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        let error = await #expect(throws: StoreError.self) {
            try await store.store(deviceID: "d", batch: Self.batch(1, [(10, 1), (20, .nan)]))
        }
        guard case .invalidArgument(let text) = error else {
            Issue.record("expected invalidArgument, got \(String(describing: error))")
            return
        }
        #expect(text.contains("NaN"))
        let outcome = try await store.store(deviceID: "d", batch: Self.batch(1, [(10, 1)]))
        #expect(outcome.readingsStored == 1 && !outcome.isDuplicate)
        #expect(try Self.storedReadings(url, device: "d").count == 1)
    }

    @Test func aLongInOrderRunIsCutIntoChunksOfAtMost3600() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        let readings = (0..<8_000).map { (Int64($0) * 1_000, Double($0)) }
        let outcome = try await store.store(deviceID: "d", batch: Self.batch(1, readings))
        #expect(outcome.readingsStored == 8_000)
        #expect(try Self.column(url, "SELECT count FROM chunks ORDER BY start_ts") == ["3600", "3600", "800"])
        #expect(try Self.storedReadings(url, device: "d").count == 8_000)
    }

    @Test func manyBatchesOfManyDevicesAllLand() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for device in 0..<20 {
                group.addTask {
                    for seq in UInt64(1)...10 {
                        let base = Int64(seq) * 100
                        let batch = ReadingBatch(
                            seq: seq,
                            sensors: ["a", "b"].map { sensor in
                                SensorReadings(
                                    sensor: sensor, exponent: nil, timestamps: (0..<10).map { base + $0 },
                                    values: (0..<10).map { Double($0) })
                            })
                        _ = try await store.store(deviceID: "dev\(device)", batch: batch)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try Self.column(url, "SELECT sum(readings) FROM devices") == ["4000"])
        #expect(try Self.column(url, "SELECT sum(count) FROM chunks") == ["4000"])
        #expect(try Self.column(url, "SELECT sum(readings) FROM series") == ["4000"])
        #expect(store.metrics().committedReadings == 4_000)
    }
}

/// A lock another session holds past lock_timeout: the writer retries the whole transaction.
extension PostgresStoreTests {
    @Test func aTransactionStuckBehindAnotherSessionsLockIsRetried() async throws {
        let (store, url) = try makeStore { $0.statementTimeoutMs = 600 }  // lock_timeout 540 ms
        defer { store.close() }
        _ = try await store.store(deviceID: "d", batch: Self.batch(1, [(10, 1)]))
        let other = try PostgresConnection(connectingTo: url)
        try other.execute("BEGIN")
        try other.execute("SELECT id FROM series WHERE device = 'd' FOR UPDATE")
        async let outcome = store.store(deviceID: "d", batch: Self.batch(2, [(20, 2)]))
        try await Task.sleep(for: .milliseconds(800))  // past one lock_timeout, within the four attempts
        try other.execute("COMMIT")
        #expect(try await outcome == BatchOutcome(readingsStored: 1, isDuplicate: false, lastSeq: 2))
        #expect(try Self.storedReadings(url, device: "d").map(\.0) == [10, 20])
        #expect(store.metrics().failedCommits == 0)
    }
}

/// Runs of one series from several batches of one transaction become one chunk (PendingChunks' rule).
extension PostgresStoreTests {
    @Test func inOrderRunsOfOneTransactionJoinIntoOneChunkUpTo3600() async throws {
        let (store, url) = try makeStore()
        defer { store.close() }
        // Hold the writer in a completion so that the batches below queue up and share the next transaction.
        let gate = DispatchSemaphore(value: 0)
        try store.addCounters([], atMs: 0) { _ in gate.wait() }
        let group = DispatchGroup()
        let outcomes = Mutex<[UInt64: BatchOutcome]>([:])
        let batches = [
            Self.batch(1, [(10, 1), (20, 2)]), Self.batch(2, [(30, 3)]), Self.batch(3, [(40, 4), (50, 5)]),
            Self.batch(4, sensor: "big", (0..<2_000).map { (Int64($0), 1) }),
            Self.batch(5, sensor: "big", (2_000..<4_000).map { (Int64($0), 1) }),
        ]
        for batch in batches {
            group.enter()
            try store.submit(deviceID: "d", batch: batch) { result in
                if case .success(let outcome) = result { outcomes.withLock { $0[batch.seq] = outcome } }
                group.leave()
            }
        }
        gate.signal()
        group.wait()
        #expect(outcomes.withLock { $0.values.map(\.readingsStored).reduce(0, +) } == 4_005)
        #expect(store.metrics().commits == 2)
        let counts = try Self.column(
            url,
            "SELECT s.sensor || ':' || c.count FROM chunks c JOIN series s ON s.id = c.series_id "
                + "ORDER BY s.sensor, c.start_ts")
        // The transaction wrote three chunks: t's five readings as one, big's 4,000 as two (a run stops at 3,600).
        // Compaction may already have merged big's two (4,000 readings fill a chunk) when the query runs.
        #expect(store.metrics().chunksWritten == 3)
        #expect(counts == ["big:2000", "big:2000", "t:5"] || counts == ["big:3600", "big:400", "t:5"])
        #expect(try Self.storedReadings(url, device: "d").map(\.1) == [1, 2, 3, 4, 5])
    }
}
