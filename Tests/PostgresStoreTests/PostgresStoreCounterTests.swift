import Postgres
import PostgresTestSupport
import Storage
import Synchronization
import Telemetry
import Testing

@testable import PostgresStore

/// Counters per collector, the commit feed, and a server that goes away and comes back.
extension PostgresStoreTests {
    @Test func countersOfTwoCollectorsAreKeptApartAndSum() async throws {
        let (first, url) = try makeStore(collector: "a")
        defer { first.close() }
        let second = try openStore(url, collector: "b")
        defer { second.close() }
        try await first.addCounters(
            [CounterDelta(protocolName: "grpc", device: "d", bytesIn: 100, bytesOut: 10, readings: 5)], atMs: 25_000)
        try await first.addCounters(
            [CounterDelta(protocolName: "grpc", device: "d", bytesIn: 1, calls: 1)], atMs: 26_000)
        try await second.addCounters(
            [CounterDelta(protocolName: "grpc", device: "d", bytesIn: 50, segmentsOut: 7)], atMs: -1)
        let rows = try PostgresConnection(connectingTo: url).execute(
            "SELECT collector, bytes_in, bytes_out, readings, calls, segments_out, updated_ms FROM bandwidth "
                + "ORDER BY collector")
        #expect(
            rows.rows.map(\.values) == [
                ["a", "101", "10", "5", "1", "0", "26000"], ["b", "50", "0", "0", "0", "7", "-1"],
            ])
        #expect(try Self.column(url, "SELECT sum(bytes_in) FROM bandwidth WHERE protocol = 'grpc'") == ["151"])
        let history = try PostgresConnection(connectingTo: url).execute(
            "SELECT collector, bucket_ms, bytes_in, readings FROM bandwidth_history ORDER BY collector, bucket_ms")
        // 25 000 and 26 000 share the 20 000 bucket; -1 floors to -10 000.
        #expect(history.rows.map(\.values) == [["a", "20000", "101", "5"], ["b", "-10000", "50", "0"]])
    }

    @Test func aLiveWatcherGetsWhatWasStoredAndAReplayIsRefused() async throws {
        let (store, _) = try makeStore()
        defer { store.close() }
        let events = Mutex<[CommitEvent]>([])
        let subscription = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 10) { event in
            events.withLock { $0.append(event) }
        }
        try store.watchCommits(subscription)
        _ = try await store.store(deviceID: "d", batch: Self.batch(1, [(10, 1), (20, 2)]))
        _ = try await store.store(deviceID: "d", batch: Self.batch(1, [(10, 1), (20, 2)]))  // a duplicate: nothing
        _ = try await store.store(deviceID: "d", batch: Self.batch(2, [(20, 9), (30, 3)]))
        store.feed.waitUntilDispatched()
        let committed = events.withLock { $0 }.compactMap { event -> [CommittedBatch]? in
            if case .committed(let batches) = event { return batches }
            return nil
        }.flatMap { $0 }
        #expect(committed.map(\.batch.seq) == [1, 2])
        #expect(committed.last?.batch.sensors.first?.timestamps == [30])

        let refused = Mutex<[CommitEvent]>([])
        let replay = CommitSubscription(filter: CommitFilter(), sinceMs: 0, maxQueuedBatches: 10) { event in
            refused.withLock { $0.append(event) }
        }
        try store.watchCommits(replay)
        _ = try await store.store(deviceID: "d", batch: Self.batch(3, [(40, 4)]))
        #expect(replay.isEnded)
        let ended = refused.withLock { $0 }.contains { event in
            if case .ended(.failed(.invalidArgument(let text))) = event { return text.contains("since_ms") }
            return false
        }
        #expect(ended)
    }

    @Test func aLostServerFailsWritesAtOnceAndTheStoreComesBackByItself() async throws {
        let server = try TestPostgresServer.required()
        let (store, url) = try makeStore()
        defer { store.close() }
        _ = try await store.store(deviceID: "d", batch: Self.batch(1, [(10, 1)]))
        #expect(store.readinessProblems().isEmpty)

        try server.pause()
        var restarted = false
        defer { if !restarted { try? server.restart() } }
        let error = await #expect(throws: StoreError.self) {
            try await store.store(deviceID: "d", batch: Self.batch(2, [(20, 2)]))
        }
        #expect(error?.isUnavailable == true)
        // Taken while disconnected: refused at once, naming the database.
        let started = ContinuousClock.now
        let refusal = await #expect(throws: StoreError.self) {
            try await store.store(deviceID: "d", batch: Self.batch(3, [(30, 3)]))
        }
        #expect(refusal?.isUnavailable == true)
        #expect(ContinuousClock.now - started < .seconds(2))
        let problems = store.readinessProblems()
        #expect(!problems.isEmpty)
        #expect(problems.contains { $0.contains("unreachable") && $0.contains("127.0.0.1") }, "\(problems)")
        #expect(store.storageHealth().isFailing)

        try server.restart()
        restarted = true
        var outcome: BatchOutcome?
        let deadline = ContinuousClock.now + .seconds(10)
        while outcome == nil, ContinuousClock.now < deadline {
            do throws(StoreError) {
                outcome = try await store.store(deviceID: "d", batch: Self.batch(2, [(20, 2)]))
            } catch {
                #expect(error.isUnavailable, "\(error)")
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(outcome == BatchOutcome(readingsStored: 1, isDuplicate: false, lastSeq: 2))
        #expect(store.readinessProblems().isEmpty, "\(store.readinessProblems())")
        #expect(!store.storageHealth().isFailing)
        #expect(try Self.storedReadings(url, device: "d").map(\.0) == [10, 20])
    }

    @Test func aClosedStoreRefusesAndCommitsWhatWasQueued() async throws {
        let (store, url) = try makeStore()
        let stored = Mutex(0)
        for seq in UInt64(1)...50 {
            try store.submit(deviceID: "d", batch: Self.batch(seq, [(Int64(seq), 1)])) { result in
                if case .success = result { stored.withLock { $0 += 1 } }
            }
        }
        store.close()
        #expect(stored.withLock { $0 } == 50)
        #expect(try Self.column(url, "SELECT count(*) FROM batches") == ["50"])
        #expect(throws: StoreError.closed) { try store.submit(deviceID: "d", batch: Self.batch(99, [(1, 1)])) { _ in } }
    }
}
