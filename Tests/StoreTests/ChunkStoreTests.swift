import Clocks
import Foundation
import SplitMix
import Telemetry
import Testing

import Storage
@testable import Store

/// The chunked layout: the write paths, compaction, retention and rollups, checked on a real file.
@Suite struct ChunkStoreTests {
    /// Chunk headers of every series of `device`'s `sensor`, in ts order: (start, end, count).
    static func chunks(_ path: String, _ device: String, _ sensor: String) throws -> [(Int64, Int64, Int64)] {
        let database = try Database(path: path, mode: .readOnly, busyTimeoutMs: 1_000)
        let select = try database.prepare(
            """
            SELECT c.start_ts, c.end_ts, c.count FROM chunks c JOIN series s ON s.id = c.series_id
            JOIN devices d ON d.id = s.device_id WHERE d.name = ?1 AND s.sensor = ?2 ORDER BY c.start_ts
            """, operation: "test")
        try select.bind(device, at: 1)
        try select.bind(sensor, at: 2)
        defer { select.reset() }
        var rows: [(Int64, Int64, Int64)] = []
        while try select.step() { rows.append((select.int64(at: 0), select.int64(at: 1), select.int64(at: 2))) }
        return rows
    }

    /// Every reading of a device's sensor through the read API, following cursors.
    static func allReadings(_ store: TelemetryStore, _ device: String, _ sensor: String) throws -> [Reading] {
        var rows: [Reading] = []
        var cursor: ReadingCursor?
        repeat {
            let page = try store.readings(deviceID: device, sensor: sensor, limit: 5_000, after: cursor)
            rows += page.readings
            cursor = page.nextCursor
        } while cursor != nil
        return rows
    }

    /// One reading a second: batch `index` holds readings `index × size ..< (index + 1) × size`.
    static func secondly(_ index: Int, size: Int = 10, base: Int64 = 1_700_000_000_000) -> [(Int64, Double)] {
        (index * size..<(index + 1) * size).map { (base + Int64($0) * 1_000, Double($0 % 997) / 100) }
    }

    @Test func inOrderBatchesTakeTheFastPathAndCompactIntoHourChunks() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        for index in 0..<400 {
            let outcome = try await store.store(
                deviceID: "d", batch: makeBatch(seq: UInt64(index + 1), [("t", Self.secondly(index))]))
            #expect(outcome.readingsStored == 10)
        }
        #expect(store.metrics().mergedSeriesWrites == 0, "in-order batches never read stored chunks")
        let before = try Self.chunks(path, "d", "t")
        // 3,600 readings fill a chunk: the compactor may already have merged the first hour in the background.
        #expect(before.count >= 41 && before.allSatisfy { $0.2 == 10 || $0.2 == 3_600 })
        try await store.compactAndSweep()
        let after = try Self.chunks(path, "d", "t")
        #expect(after.map(\.2) == [3_600, 400], "an hour, then the rest")
        #expect(after[0].1 - after[0].0 == 3_599_000)
        let expected = (0..<400).flatMap { Self.secondly($0) }
        let read = try Self.allReadings(store, "d", "t")
        #expect(read.map(\.ts) == expected.map(\.0))
        #expect(read.map(\.value.bitPattern) == expected.map(\.1.bitPattern))
        #expect(try store.device("d")?.readings == 4_000)
        #expect(store.metrics().chunksCompacted >= 360)
    }

    @Test func overlapsAndRepeatsAreMergedFirstWriteWinsWithExactCounts() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        func put(_ seq: UInt64, _ readings: [(Int64, Double)]) async throws -> Int {
            try await store.store(deviceID: "d", batch: makeBatch(seq: seq, [("x", readings)])).readingsStored
        }
        #expect(try await put(1, [(100, 1), (110, 1), (120, 1)]) == 3)
        #expect(try await put(2, [(200, 2), (210, 2)]) == 2)
        // Inside the first chunk, repeating one stored ts with another value, and a repeat inside the batch.
        #expect(try await put(3, [(105, 3), (110, 9), (105, 7), (115, 3)]) == 2)
        // Across a gap, before everything, after everything, and on both chunks' edges.
        #expect(try await put(4, [(150, 4), (50, 4), (300, 4), (120, 8), (200, 8), (160, 4)]) == 4)
        #expect(try await put(5, [(100, 5), (210, 5)]) == 0)
        let read = try Self.allReadings(store, "d", "x")
        let expected: [(Int64, Double)] = [
            (50, 4), (100, 1), (105, 3), (110, 1), (115, 3), (120, 1), (150, 4), (160, 4), (200, 2), (210, 2),
            (300, 4),
        ]
        #expect(read.map(\.ts) == expected.map(\.0))
        #expect(read.map(\.value) == expected.map(\.1))
        #expect(try store.device("d")?.readings == 11)
        #expect(store.metrics().mergedSeriesWrites == 3)
        // Chunks never overlap.
        let headers = try Self.chunks(path, "d", "x")
        for (left, right) in zip(headers, headers.dropFirst()) { #expect(left.1 < right.0) }
        #expect(headers.reduce(0) { $0 + $1.2 } == 11)
        try await store.compactAndSweep()
        #expect(try Self.chunks(path, "d", "x").count == 1)
        #expect(try Self.allReadings(store, "d", "x").map(\.ts) == expected.map(\.0))
    }

    @Test func randomBatchesInAnyOrderEqualTheModelBeforeAndAfterCompaction() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        var random = SplitMix64(seed: 0xC4A7)
        var model = ReferenceModel()
        for seq in 1...300 {
            let base = Int64.random(in: 0...20_000, using: &random)
            let count = Int.random(in: 1...40, using: &random)
            let readings = (0..<count).map { _ in
                (base + Int64.random(in: 0...400, using: &random), Double(Int.random(in: -999...999, using: &random)) / 10)
            }
            let batch = makeBatch(seq: UInt64(seq), [("s", readings)])
            let before = model.readings["r"]?["s"]?.count ?? 0
            model.apply(deviceID: "r", batch: batch)
            let added = (model.readings["r"]?["s"]?.count ?? 0) - before
            #expect(try await store.store(deviceID: "r", batch: batch).readingsStored == added, "batch \(seq)")
        }
        let expected = model.sortedReadings(deviceID: "r", sensor: "s", fromMs: nil, toMs: nil)
        #expect(try Self.allReadings(store, "r", "s") == expected)
        try await store.compactAndSweep()
        #expect(try Self.allReadings(store, "r", "s") == expected)
        let headers = try Self.chunks(path, "r", "s")
        for (left, right) in zip(headers, headers.dropFirst()) { #expect(left.1 < right.0) }
        #expect(headers.count < 20)
    }

    @Test func batchesSharingATransactionShareChunksAndAFailedOneLeavesNothing() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        // A large first batch keeps the writer busy while the rest queue up behind it and share a transaction.
        let results = ResultCollector<(UInt64, Result<BatchOutcome, StoreError>)>()
        try store.submit(deviceID: "busy", batch: makeBatch(seq: 1, [("x", incompressibleReadings(50_000))])) { _ in }
        for index in 0..<30 {
            var readings = Self.secondly(index)
            if index == 17 { readings[4].1 = .nan }  // this batch fails alone, with its readings
            try store.submit(deviceID: "d", batch: makeBatch(seq: UInt64(index + 1), [("t", readings)])) {
                results.append((UInt64(index + 1), $0))
            }
        }
        _ = try await store.store(deviceID: "after", batch: makeBatch(seq: 1, [("x", [(1, 1)])]))
        let outcomes = Dictionary(uniqueKeysWithValues: results.values)
        #expect(outcomes.count == 30)
        for seq in 1...30 {
            if seq == 18 {
                guard case .failure(.invalidArgument) = outcomes[UInt64(seq)] else {
                    Issue.record("batch 18 should fail: \(String(describing: outcomes[18]))")
                    continue
                }
            } else {
                #expect((try? outcomes[UInt64(seq)]?.get())?.readingsStored == 10, "batch \(seq)")
            }
        }
        let expected = (0..<30).filter { $0 != 17 }.flatMap { Self.secondly($0) }
        #expect(try Self.allReadings(store, "d", "t").map(\.ts) == expected.map(\.0))
        let headers = try Self.chunks(path, "d", "t")
        #expect(headers.count < 29, "batches committed together share chunks: \(headers.map(\.2))")
        #expect(headers.reduce(0) { $0 + $1.2 } == 290)
        for (left, right) in zip(headers, headers.dropFirst()) { #expect(left.1 < right.0) }
        #expect(try store.device("d")?.readings == 290)
    }

    @Test func infinitiesOfBothSignsAreStoredAndSumToNaN() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        let readings: [(Int64, Double)] = [(1, .infinity), (2, 5), (3, -.infinity)]
        #expect(try await store.store(deviceID: "d", batch: makeBatch(seq: 1, [("x", readings)])).readingsStored == 3)
        #expect(try Self.allReadings(store, "d", "x").map(\.value) == [.infinity, 5, -.infinity])
        let sum = try store.series(deviceID: "d", sensor: "x", stepMs: 1_000, aggregate: .sum)
        #expect(sum.count == 1 && sum[0].value.isNaN && sum[0].count == 3)
        let max = try store.series(deviceID: "d", sensor: "x", stepMs: 1_000, aggregate: .max)
        #expect(max.map(\.value) == [.infinity])
    }

    @Test func aReopenedStoreKnowsWhereEachSeriesEnds() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        do {
            let store = try TelemetryStore(path: path)
            _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 1, [("x", [(10, 1), (20, 1)])]))
            store.close()
        }
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        let outcome = try await store.store(deviceID: "d", batch: makeBatch(seq: 2, [("x", [(20, 2), (30, 2)])]))
        #expect(outcome.readingsStored == 1)
        #expect(try Self.allReadings(store, "d", "x").map(\.value) == [1, 1, 2])
    }

    @Test func idleSeriesAreCompactedInTheBackground() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        var configuration = StoreConfiguration()
        configuration.compactionIdleMs = 50
        let store = try TelemetryStore(path: path, configuration: configuration)
        defer { store.close() }
        for index in 0..<6 {
            _ = try await store.store(
                deviceID: "d", batch: makeBatch(seq: UInt64(index + 1), [("t", Self.secondly(index))]))
        }
        let deadline = Date().addingTimeInterval(5)
        while try Self.chunks(path, "d", "t").count > 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try Self.chunks(path, "d", "t").map(\.2) == [60])
    }

    @Test func retentionDeletesWholeChunksAndRollupsKeepTheirAggregates() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        var configuration = StoreConfiguration()
        let day: Int64 = 86_400_000
        configuration.retentionMs = day
        configuration.rollups = [StoreConfiguration.Rollup(stepMs: 3_600_000, keepMs: 365 * day)]
        let store = try TelemetryStore(path: path, configuration: configuration)
        defer { store.close() }
        let hour: Int64 = 3_600_000
        let oldStart = (WallClock.nowMs() - 3 * day) / hour * hour  // three days ago, on an hour
        let recentStart = WallClock.nowMs() - 600_000
        var model = ReferenceModel()
        var seq: UInt64 = 0
        for (start, minutes) in [(oldStart, 150), (recentStart, 5)] {
            for minute in 0..<minutes {
                seq += 1
                let readings = (0..<60).map { second in
                    (start + Int64(minute * 60 + second) * 1_000, Double((minute * 60 + second) % 101) / 4)
                }
                let batch = makeBatch(seq: seq, [("t", readings)])
                model.apply(deviceID: "d", batch: batch)
                _ = try await store.store(deviceID: "d", batch: batch)
            }
        }
        try await store.compactAndSweep()
        // Everything of three days ago is gone, the recent readings stay, and the totals say so.
        let read = try Self.allReadings(store, "d", "t")
        #expect(read.count == 300 && read.allSatisfy { $0.ts >= recentStart })
        #expect(try store.device("d")?.readings == 300)
        #expect(try store.latest(deviceID: "d").first?.readings == 300)
        #expect(store.metrics().readingsExpired == 9_000)
        // Hourly buckets over the whole range: the deleted hours come from the rollups, exactly.
        let all = model.sortedReadings(deviceID: "d", sensor: "t", fromMs: nil, toMs: nil)
        for aggregate in SeriesAggregate.allCases {
            let buckets = try store.series(deviceID: "d", sensor: "t", stepMs: hour, aggregate: aggregate)
            let expected = QueryTests.bruteForceBuckets(
                Dictionary(uniqueKeysWithValues: all.map { ($0.ts, $0.value) }), hour, nil, nil, aggregate)
            #expect(buckets == expected, "\(aggregate)")
        }
        // A step the rollup cannot be cut to sees only the readings still stored.
        let halfHours = try store.series(deviceID: "d", sensor: "t", stepMs: hour / 2, aggregate: .count)
        #expect(halfHours.reduce(0) { $0 + $1.count } == 300)
    }
}
