import Foundation
import SplitMix
import Telemetry
import Testing

import Storage
@testable import Store

/// The query layer checked against a brute-force computation over the same seeded random data.
@Suite struct QueryTests {
    static let devices = ["alpha-1", "alpha-2", "beta"]
    static let sensors = ["a", "b.c", "temp", "z-9"]

    /// A store filled with seeded random batches (with same-ms collisions, negative times and bucket edges), and
    /// the reference model built from the same batches.
    /// With `compacted`, the small chunks are merged (and the layout settled) before the store is handed out.
    static func makeFixture(
        _ directory: TemporaryDirectory, compacted: Bool = false
    ) async throws -> (TelemetryStore, ReferenceModel) {
        var random = SplitMix64(seed: 0xF1EE7)
        let store = try TelemetryStore(path: directory.path())
        var model = ReferenceModel()
        var seqs: [String: UInt64] = [:]
        for _ in 0..<120 {
            let device = devices.randomElement(using: &random)!
            let sensorCount = Int.random(in: 1...3, using: &random)
            var entries: [SensorReadings] = []
            for _ in 0..<sensorCount {
                let sensor = sensors[Int.random(in: 0..<(device == "beta" ? 2 : 4), using: &random)]
                let count = Int.random(in: 0...12, using: &random)
                var timestamps: [Int64] = []
                var values: [Double] = []
                for _ in 0..<count {
                    let edge: [Int64] = [-3_000, -1_000, -1, 0, 999, 1_000, 2_000]
                    let ts =
                        Bool.random(using: &random)
                        ? edge.randomElement(using: &random)! : Int64.random(in: -4_000...4_000, using: &random)
                    timestamps.append(ts)
                    values.append(Double(Int.random(in: -400...400, using: &random)) / 4)
                }
                let exponent: Int32? = Bool.random(using: &random) ? Int32.random(in: -3...0, using: &random) : nil
                entries.append(
                    SensorReadings(sensor: sensor, exponent: exponent, timestamps: timestamps, values: values))
            }
            seqs[device, default: 0] += UInt64.random(in: 1...2, using: &random)
            let batch = ReadingBatch(seq: seqs[device]!, sensors: entries)
            model.apply(deviceID: device, batch: batch)
            _ = try await store.store(deviceID: device, batch: batch)
        }
        if compacted { try await store.compactAndSweep() }
        return (store, model)
    }

    /// Every page, following the cursors (through their string tokens) until there is none.
    static func collectAllPages(
        _ store: TelemetryStore, deviceID: String, sensor: String?, fromMs: Int64?, toMs: Int64?, limit: Int,
        order: ReadingOrder
    ) throws -> [Reading] {
        var collected: [Reading] = []
        var cursor: ReadingCursor?
        var pages = 0
        repeat {
            let page = try store.readings(
                deviceID: deviceID, sensor: sensor, fromMs: fromMs, toMs: toMs, limit: limit, order: order,
                after: cursor)
            #expect(page.readings.count <= limit)
            #expect(page.nextCursor == nil || page.readings.count == limit)
            collected += page.readings
            cursor = page.nextCursor.flatMap { ReadingCursor(token: $0.token) }
            #expect(cursor == page.nextCursor)
            pages += 1
        } while cursor != nil && pages < 10_000
        return collected
    }

    @Test(arguments: [false, true])
    func readingPagesInBothOrdersEqualTheBruteForceList(compacted: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (store, model) = try await Self.makeFixture(directory, compacted: compacted)
        defer { store.close() }
        let ranges: [(Int64?, Int64?)] = [(nil, nil), (-1_000, 1_000), (0, 1), (-1, 0), (2_000, nil), (nil, -3_000)]
        var checkedRows = 0
        for device in Self.devices + ["unknown"] {
            for sensor in [nil] + Self.sensors.map(Optional.some) {
                for (fromMs, toMs) in ranges {
                    for limit in [1, 3, 50] {
                        let expected = model.sortedReadings(
                            deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs)
                        let ascending = try Self.collectAllPages(
                            store, deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs, limit: limit,
                            order: .ascending)
                        #expect(
                            ascending == expected,
                            "\(device) \(sensor ?? "*") [\(fromMs as Any), \(toMs as Any)) limit \(limit)")
                        let descending = try Self.collectAllPages(
                            store, deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs, limit: limit,
                            order: .descending)
                        #expect(
                            descending == expected.reversed(), "descending \(device) \(sensor ?? "*") limit \(limit)")
                        checkedRows += expected.count
                    }
                }
            }
        }
        #expect(checkedRows > 1_000, "the fixture is too small to test anything")
    }

    /// Pages smaller than a chunk start and stop inside chunks; the chunk holding the cursor is found again.
    @Test(arguments: [1, 2, 5])
    func smallPagesAcrossChunksEqualTheBruteForceList(limit: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (store, model) = try await Self.makeFixture(directory)
        defer { store.close() }
        for device in Self.devices {
            for order in [ReadingOrder.ascending, .descending] {
                var expected = model.sortedReadings(deviceID: device, sensor: nil, fromMs: -2_000, toMs: 3_000)
                if order == .descending { expected.reverse() }
                var collected: [Reading] = []
                var cursor: ReadingCursor?
                repeat {
                    let page = try store.readPool.withConnection { (connection) throws(StoreError) in
                        try connection.readings(
                            deviceID: device, sensor: nil, lowMs: -2_000, highMs: 2_999, limit: limit, order: order,
                            after: cursor)
                    }
                    collected += page.readings
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(collected == expected, "\(device) \(order) limit \(limit)")
            }
        }
    }

    @Test func pagingWhileReadingsArriveNeitherSkipsNorRepeats() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (store, model) = try await Self.makeFixture(directory)
        defer { store.close() }
        for order in [ReadingOrder.ascending, .descending] {
            let device = "alpha-1"
            let existing = model.sortedReadings(deviceID: device, sensor: nil, fromMs: nil, toMs: nil)
            var collected: [Reading] = []
            var cursor: ReadingCursor?
            var seq: UInt64 = order == .ascending ? 10_000 : 20_000
            repeat {
                let page = try store.readings(deviceID: device, limit: 7, order: order, after: cursor)
                collected += page.readings
                cursor = page.nextCursor
                // New readings both behind and ahead of the cursor, at new times (between existing ones).
                seq += 1
                let fresh = makeBatch(
                    seq: seq, [("a", [(Int64(seq % 9_000) - 4_500, 0.5)]), ("new", [(0, 1), (5_000 + Int64(seq), 1)])])
                _ = try await store.store(deviceID: device, batch: fresh)
            } while cursor != nil
            let keys = collected.map { "\($0.ts)/\($0.sensor)" }
            #expect(Set(keys).count == keys.count, "a row was repeated")
            let collectedKeys = Set(keys)
            #expect(
                existing.allSatisfy { collectedKeys.contains("\($0.ts)/\($0.sensor)") }, "an existing row was skipped")
            let isSorted = zip(collected, collected.dropFirst()).allSatisfy { lhs, rhs in
                order == .ascending
                    ? (lhs.ts, lhs.sensor) < (rhs.ts, rhs.sensor) : (lhs.ts, lhs.sensor) > (rhs.ts, rhs.sensor)
            }
            #expect(isSorted)
        }
    }

    @Test(arguments: [false, true])
    func seriesBucketsForEveryAggregateEqualTheBruteForce(compacted: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (store, model) = try await Self.makeFixture(directory, compacted: compacted)
        defer { store.close() }
        var nonEmpty = 0
        for device in Self.devices {
            for sensor in Self.sensors {
                let series = model.readings[device]?[sensor] ?? [:]
                for stepMs: Int64 in [1, 7, 1_000, 3_000] {
                    for (fromMs, toMs) in [(nil, nil), (-1_000, 1_000), (-2_999, 2_000)] as [(Int64?, Int64?)] {
                        for aggregate in SeriesAggregate.allCases {
                            let expected = Self.bruteForceBuckets(series, stepMs, fromMs, toMs, aggregate)
                            let actual = try store.series(
                                deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs, stepMs: stepMs,
                                aggregate: aggregate)
                            #expect(actual == expected, "\(device)/\(sensor) step \(stepMs) \(aggregate)")
                            nonEmpty += expected.count
                        }
                    }
                }
            }
        }
        #expect(nonEmpty > 1_000)
        #expect(try store.series(deviceID: "nobody", sensor: "a", stepMs: 10, aggregate: .avg) == [])
    }

    @Test func bucketEdgesAndNegativeTimesAreFloored() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        let readings: [(Int64, Double)] = [(-1_001, 1), (-1_000, 2), (-1, 3), (0, 4), (999, 5), (1_000, 6)]
        _ = try await store.store(deviceID: "d", batch: makeBatch(seq: 1, [("x", readings)]))
        let buckets = try store.series(deviceID: "d", sensor: "x", stepMs: 1_000, aggregate: .sum)
        #expect(
            buckets == [
                SeriesBucket(startMs: -2_000, value: 1, count: 1), SeriesBucket(startMs: -1_000, value: 5, count: 2),
                SeriesBucket(startMs: 0, value: 9, count: 2), SeriesBucket(startMs: 1_000, value: 6, count: 1),
            ])
        let last = try store.series(
            deviceID: "d", sensor: "x", fromMs: -1_000, toMs: 1_000, stepMs: 1_000, aggregate: .last)
        #expect(
            last == [SeriesBucket(startMs: -1_000, value: 3, count: 2), SeriesBucket(startMs: 0, value: 5, count: 2)])
    }

    @Test func latestAndDevicesEqualTheBruteForce() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (store, model) = try await Self.makeFixture(directory)
        defer { store.close() }
        for device in Self.devices {
            let expected = (model.readings[device] ?? [:]).sorted { $0.key < $1.key }.compactMap { sensor, series in
                series.max { $0.key < $1.key }.map { ts, value in
                    SensorLatest(
                        sensor: sensor, exponent: model.exponents[device]?[sensor], ts: ts, value: value,
                        readings: Int64(series.count))
                }
            }
            #expect(try store.latest(deviceID: device) == expected)
            let summary = try #require(try store.device(device))
            #expect(summary.readings == Int64(model.readings[device]!.values.reduce(0) { $0 + $1.count }))
            #expect(summary.sensors == model.readings[device]!.keys.sorted())
        }
        #expect(try store.latest(deviceID: "unknown") == [])
        #expect(try store.device("unknown") == nil)

        var names: [String] = []
        var after: String?
        repeat {
            let page = try store.devices(limit: 2, after: after)
            names += page.map(\.name)
            after = page.count == 2 ? page.last?.name : nil
        } while after != nil
        #expect(names == Self.devices.sorted())
        #expect(try store.devices(namePrefix: "alpha", limit: 10).map(\.name) == ["alpha-1", "alpha-2"])
        #expect(try store.devices(namePrefix: "alpha-2", limit: 10).map(\.name) == ["alpha-2"])
        #expect(try store.devices(namePrefix: "alpha", limit: 10, after: "alpha-1").map(\.name) == ["alpha-2"])
        #expect(try store.devices(namePrefix: "gamma", limit: 10) == [])
    }

    @Test func badArgumentsThrowClearErrors() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        for limit in [0, -1, TelemetryStore.maxPageLimit + 1] {
            #expect(throws: StoreError.invalidArgument("limit must be within 1...100000, got \(limit)")) {
                try store.readings(deviceID: "d", limit: limit)
            }
            #expect(throws: StoreError.self) { try store.devices(limit: limit) }
        }
        for stepMs: Int64 in [0, -5] {
            #expect(throws: StoreError.invalidArgument("stepMs must be positive, got \(stepMs)")) {
                try store.series(deviceID: "d", sensor: "x", stepMs: stepMs, aggregate: .avg)
            }
        }
        let ascendingCursor = ReadingCursor(ts: 1, sensor: "x", order: .ascending)
        #expect(throws: StoreError.invalidArgument("the cursor continues a page in the other order")) {
            try store.readings(deviceID: "d", limit: 1, order: .descending, after: ascendingCursor)
        }
        #expect(StoreError.invalidArgument("x").description == "invalid argument: x")
    }

    /// The brute-force buckets: floor(ts / step) in exact integer arithmetic, aggregates in ts order.
    static func bruteForceBuckets(
        _ series: [Int64: Double], _ stepMs: Int64, _ fromMs: Int64?, _ toMs: Int64?, _ aggregate: SeriesAggregate
    ) -> [SeriesBucket] {
        var groups: [Int64: [(Int64, Double)]] = [:]
        for (ts, value) in series where ts >= (fromMs ?? .min) && (toMs == nil || ts < toMs!) {
            let start = ts >= 0 ? ts / stepMs * stepMs : -((-ts + stepMs - 1) / stepMs) * stepMs
            groups[start, default: []].append((ts, value))
        }
        return groups.keys.sorted().map { start in
            let rows = groups[start]!.sorted { $0.0 < $1.0 }
            let values = rows.map(\.1)
            let value: Double =
                switch aggregate {
                case .avg: values.reduce(0, +) / Double(values.count)
                case .min: values.min()!
                case .max: values.max()!
                case .sum: values.reduce(0, +)
                case .count: Double(values.count)
                case .last: rows.last!.1
                }
            return SeriesBucket(startMs: start, value: value, count: rows.count)
        }
    }
}
