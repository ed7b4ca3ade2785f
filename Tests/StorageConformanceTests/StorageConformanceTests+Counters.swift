// The bandwidth counters (totals per protocol and device, history in base buckets summed into steps), the deny
// list as committed beside the store, and the commit feed.

import Storage
import Telemetry
import Testing

extension StorageConformanceTests {
    /// The brute-force history: each addition's bytes and readings in the step holding its base bucket's start,
    /// additions without bytes or readings leaving no row, over base buckets starting in [fromMs, toMs).
    static func expectedHistory(
        _ additions: [(atMs: Int64, delta: CounterDelta)], baseMs: Int64, stepMs: Int64, fromMs: Int64?, toMs: Int64?
    ) -> [HistoryBucket] {
        var sums: [String: HistoryBucket] = [:]
        for (atMs, delta) in additions where delta.bytesIn != 0 || delta.bytesOut != 0 || delta.readings != 0 {
            let bucket = floorToMultiple(atMs, baseMs)
            guard bucket >= (fromMs ?? .min), toMs.map({ bucket < $0 }) ?? true else { continue }
            let start = floorToMultiple(bucket, stepMs)
            let key = "\(start) \(delta.protocolName)"
            var sum =
                sums[key]
                ?? HistoryBucket(
                    startMs: start, protocolName: delta.protocolName, bytesIn: 0, bytesOut: 0, readings: 0)
            sum.bytesIn += delta.bytesIn
            sum.bytesOut += delta.bytesOut
            sum.readings += delta.readings
            sums[key] = sum
        }
        return sums.values.sorted { ($0.startMs, $0.protocolName) < ($1.startMs, $1.protocolName) }
    }

    /// The brute-force totals: every delta of a (protocol, device) summed, by protocol then device.
    static func expectedTotals(_ additions: [(atMs: Int64, delta: CounterDelta)]) -> [CounterRow] {
        var rows: [String: CounterRow] = [:]
        for (atMs, delta) in additions {
            let key = "\(delta.protocolName)\u{0}\(delta.device)"
            guard let row = rows[key] else {
                rows[key] = CounterRow(totals: delta, updatedMs: atMs)
                continue
            }
            let amounts = zip(row.totals.amounts, delta.amounts).map { $0 + $1 }
            rows[key] = CounterRow(
                totals: CounterDelta(protocolName: delta.protocolName, device: delta.device, amounts: amounts),
                updatedMs: max(row.updatedMs, atMs))
        }
        return rows.keys.sorted().map { rows[$0]! }
    }

    /// A delta whose every amount differs (`scale` apart), so a sum in the wrong column shows.
    static func countingDelta(_ protocolName: String, _ device: String, scale: UInt64) -> CounterDelta {
        CounterDelta(
            protocolName: protocolName, device: device,
            amounts: (1...UInt64(CounterDelta.amountCount)).map { $0 * scale })
    }

    @Test(arguments: StorageBackend.available)
    func countersSumEveryAdditionAndHistorySumsIntoSteps(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let storage = opened.storage
        #expect(try storage.counters() == [])
        #expect(try storage.counterHistory(stepMs: storage.historyBucketMs, fromMs: nil, toMs: nil) == [])
        let base = storage.historyBucketMs
        // Times at the base buckets' edges, before 1970 too, in increasing order (so "latest" is unambiguous).
        let additions: [(atMs: Int64, delta: CounterDelta)] = [
            (-base - 1, CounterDelta(protocolName: "grpc", device: "d1", bytesIn: 8, bytesOut: 16, readings: 1)),
            (-1, Self.countingDelta("grpc", "d1", scale: 1)),
            (0, CounterDelta(protocolName: "grpc", bytesIn: 7, headerBytesIn: 3, connections: 1)),
            (base - 1, Self.countingDelta("grpc", "d1", scale: 100)),
            (base, CounterDelta(protocolName: "http1", device: "d2", bytesIn: 1, bytesOut: 2, readings: 3)),
            (6 * base - 1, CounterDelta(protocolName: "grpc", device: "d2", bytesIn: 16, readings: 4)),
            (6 * base, CounterDelta(protocolName: "grpc", connections: 1)),  // no bytes, no readings: no history
            (6 * base, CounterDelta(protocolName: "grpc", device: "d1", bytesIn: 32, bytesOut: 64, readings: 5)),
        ]
        for addition in additions {
            try await opened.addCounters([addition.delta], atMs: addition.atMs)
        }
        try await opened.addCounters([], atMs: 7 * base)
        #expect(try storage.counters() == Self.expectedTotals(additions))
        for stepMs in [base, 2 * base, 3 * base, 60 * base] {
            let ranges: [(Int64?, Int64?)] = [(nil, nil), (0, base), (1, 6 * base), (-base, 0), (nil, -base)]
            for (fromMs, toMs) in ranges {
                let expected = Self.expectedHistory(
                    additions, baseMs: base, stepMs: stepMs, fromMs: fromMs, toMs: toMs)
                #expect(
                    try storage.counterHistory(stepMs: stepMs, fromMs: fromMs, toMs: toMs) == expected,
                    "step \(stepMs) [\(fromMs as Any), \(toMs as Any))")
            }
        }
    }

    /// One collector's own rows: all of them. A shared backend names its collector and lists it once it has
    /// counters; a backend one collector owns names none, and its own rows are `counters()`.
    @Test(arguments: StorageBackend.available)
    func aCollectorsOwnCountersAreAllOfThemWhenItIsAlone(_ backend: StorageBackend) async throws {
        let opened = try open(backend, collectorName: "c1")
        defer { opened.remove() }
        let storage = opened.storage
        #expect(storage.sharedCollectorName == (backend.isShared ? "c1" : nil))
        #expect(try storage.counterCollectors() == [])
        #expect(try storage.counters(collector: "c1") == [])
        let additions: [(atMs: Int64, delta: CounterDelta)] = [
            (1_000, Self.countingDelta("grpc", "d1", scale: 2)), (2_000, Self.countingDelta("http1", "", scale: 3)),
            (3_000, Self.countingDelta("grpc", "d1", scale: 5)),
        ]
        for addition in additions { try await opened.addCounters([addition.delta], atMs: addition.atMs) }
        let totals = Self.expectedTotals(additions)
        #expect(try storage.counters() == totals)
        #expect(try storage.counters(collector: "c1") == totals)
        #expect(try storage.counterCollectors() == (backend.isShared ? ["c1"] : []))
        if backend.isShared {
            #expect(try storage.counters(collector: "c2") == [], "a collector that never added has no rows")
        }
    }

    @Test(arguments: StorageBackend.available)
    func twoDeltasInOneCallAreBothAdded(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let additions: [(atMs: Int64, delta: CounterDelta)] = [
            (5_000, Self.countingDelta("grpc", "d1", scale: 3)), (5_000, Self.countingDelta("grpc", "d1", scale: 5)),
            (5_000, Self.countingDelta("http1", "", scale: 7)),
        ]
        try await opened.addCounters(additions.map(\.delta), atMs: 5_000)
        try await opened.addCounters([Self.countingDelta("grpc", "d1", scale: 1)], atMs: 9_000)
        let all = additions + [(9_000, Self.countingDelta("grpc", "d1", scale: 1))]
        #expect(try opened.storage.counters() == Self.expectedTotals(all))
    }

    /// A fresh store revokes no device; the deny list changed beside the running store (`collector devices`) is
    /// what `revokedDevices()` reads, sorted by device, and revoked devices' batches are still the collector's
    /// business, not the store's.
    @Test(arguments: StorageBackend.available)
    func theDenyListIsWhatWasCommittedBesideTheStore(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        #expect(try opened.storage.revokedDevices() == [])
        _ = try await opened.store(deviceID: "d", batch: makeBatch(seq: 1, [("x", [(1, 1)])]))
        #expect(try opened.storage.revokedDevices() == [])
        let first = try opened.changeDenyList(revoke: ["dev-b", "dev-a", "B"], restore: [], atMs: 1_000)
        #expect(Set(first.revoked) == ["dev-b", "dev-a", "B"])
        let second = try opened.changeDenyList(revoke: ["dev-a", "dev-c"], restore: ["dev-b", "dev-x"], atMs: 2_000)
        #expect(second.revoked == ["dev-c"] && second.restored == ["dev-b"])
        #expect(
            try opened.storage.revokedDevices() == [
                RevokedDevice(device: "B", revokedAtMs: 1_000), RevokedDevice(device: "dev-a", revokedAtMs: 1_000),
                RevokedDevice(device: "dev-c", revokedAtMs: 2_000),
            ])
        let outcome = try await opened.store(deviceID: "dev-a", batch: makeBatch(seq: 1, [("x", [(1, 1)])]))
        #expect(outcome.readingsStored == 1)
    }

    /// A live watcher (no sinceMs) gets `subscribed`, then each committed batch's newly stored readings: none of a
    /// duplicate or a refused batch, none already stored (first write wins), each entry in ts order.
    @Test(arguments: StorageBackend.available)
    func theCommitFeedCarriesExactlyTheNewlyStoredReadings(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let before = makeBatch(seq: 1, [("temp", [(1_000, 1), (2_000, 2), (3_000, 3)])])
        model.apply(deviceID: "d", batch: before)
        _ = try await opened.store(deviceID: "d", batch: before)

        let events = Collected<CommitEvent>()
        let subscription = CommitSubscription(filter: CommitFilter(), sinceMs: nil, maxQueuedBatches: 10_000) {
            events.append($0)
        }
        defer { subscription.cancel() }
        try opened.storage.watchCommits(subscription)
        try await waitUntil("subscribed") {
            if case .subscribed = events.all.first { true } else { false }
        }
        // A second watcher following one device's one sensor.
        let filtered = Collected<CommitEvent>()
        let filter = CommitFilter(devices: ["e"], sensors: ["hum"])
        let narrow = CommitSubscription(filter: filter, sinceMs: nil, maxQueuedBatches: 10_000) { filtered.append($0) }
        defer { narrow.cancel() }
        try opened.storage.watchCommits(narrow)
        try await waitUntil("the filtered watcher subscribed") {
            if case .subscribed = filtered.all.first { true } else { false }
        }
        var expectedFiltered: [String] = []
        let batches: [(String, ReadingBatch)] = [
            // Late readings among stored ones (2000 stored already), and one after them.
            ("d", makeBatch(seq: 2, [("temp", [(2_000, 9), (2_500, 4), (4_000, 5)])])),
            ("d", makeBatch(seq: 2, [("temp", [(9_000, 9)])])),  // a duplicate: nothing
            ("d", makeBatch(seq: 3, [("temp", [(5_000, 6), (5_000, 7), (4_500, 8)])])),  // backwards, repeated
            ("e", makeBatch(seq: 1, [("hum", [(1, 1), (2, 2)]), ("co2", [(1, 3)])])),
            ("e", makeBatch(seq: 2, [("hum", [(3, 4)]), ("co2", [(2, 5)])])),
            ("e", makeBatch(seq: 3, [("hum", [(1, 7)])])),  // all stored already: nothing
            ("d", makeBatch(seq: 4, [("temp", [(-5, -5)]), ("rh", [(3_000, 30)])])),
        ]
        var expected: [String] = []
        for (device, batch) in batches {
            let (expectedOutcome, stored) = model.apply(deviceID: device, batch: batch)
            if !stored.isEmpty { expected.append(Self.describe(device, batch.seq, stored)) }
            let followed = stored.filter { filter.follows(device: device) && filter.follows(sensor: $0.sensor) }
            if !followed.isEmpty { expectedFiltered.append(Self.describe(device, batch.seq, followed)) }
            let outcome = try await opened.store(deviceID: device, batch: batch)
            #expect(outcome == expectedOutcome, "\(device)#\(batch.seq)")
        }
        // A refused batch publishes nothing; the batch after it does.
        await #expect(throws: StoreError.self) {
            _ = try await opened.store(
                deviceID: "d", batch: makeBatch(seq: 5, [("temp", [(6_000, 1), (7_000, .nan)])]))
        }
        let after = makeBatch(seq: 6, [("temp", [(6_000, 2)])])
        let (afterOutcome, afterStored) = model.apply(deviceID: "d", batch: after)
        expected.append(Self.describe("d", after.seq, afterStored))
        #expect(try await opened.store(deviceID: "d", batch: after) == afterOutcome)
        let committed = { (events: Collected<CommitEvent>) -> [CommittedBatch] in
            events.all.flatMap { event -> [CommittedBatch] in
                if case .committed(let batches) = event { return batches }
                return []
            }
        }
        try await waitUntil("every batch arrived") { committed(events).count >= expected.count }
        try await waitUntil("every followed batch arrived") { committed(filtered).count >= expectedFiltered.count }
        try await Task.sleep(for: .milliseconds(100))  // nothing more may come
        let got = committed(events)
        #expect(got.map { Self.describe($0.deviceID, $0.batch.seq, $0.batch.readings) } == expected)
        #expect(
            committed(filtered).map { Self.describe($0.deviceID, $0.batch.seq, $0.batch.readings) }
                == expectedFiltered)
        for batch in got {
            for entry in batch.batch.sensors {
                #expect(zip(entry.timestamps, entry.timestamps.dropFirst()).allSatisfy { $0 < $1 }, "ts order")
            }
        }
        #expect(!(events.all + filtered.all).contains { if case .ended = $0 { true } else { false } })
    }

    /// A batch's readings as one comparable line: device, seq, and its (sensor, ts, value)s sorted.
    static func describe(_ device: String, _ seq: UInt64, _ readings: [Reading]) -> String {
        let sorted = readings.sorted { ($0.sensor, $0.ts) < ($1.sensor, $1.ts) }
        return "\(device)#\(seq): " + sorted.map { "\($0.sensor)@\($0.ts)=\($0.value)" }.joined(separator: " ")
    }
}

extension ReadingBatch {
    /// The batch's readings, entry by entry.
    var readings: [Reading] {
        sensors.flatMap { entry in
            zip(entry.timestamps, entry.values).map { Reading(sensor: entry.sensor, ts: $0, value: $1) }
        }
    }
}
