// Every query of TelemetryStorage on QueryTests' seeded random fixture (120 batches over 3 devices × 4 sensors, with
// same-ms collisions, negative times and bucket edges), before and after settling, against the brute force; and
// the arguments every backend refuses.

import SplitMix
import Storage
import Telemetry
import Testing

extension StorageConformanceTests {
    static let devices = ["alpha-1", "alpha-2", "beta"]
    static let sensors = ["a", "b.c", "temp", "z-9"]

    /// Fills `opened` with QueryTests' seeded random batches (the same seed, so the same batches) and returns the
    /// model of the same batches. Every outcome is checked on the way. With `settled`, compacts afterwards.
    static func fillWithFixture(_ opened: OpenedStorage, settled: Bool) async throws -> StorageModel {
        var random = SplitMix64(seed: 0xF1EE7)
        var model = StorageModel()
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
            let expected = model.apply(deviceID: device, batch: batch).outcome
            let outcome = try await opened.store(deviceID: device, batch: batch)
            #expect(outcome == expected, "\(device) seq \(batch.seq)")
        }
        if settled { try await opened.settle() }
        return model
    }

    @Test(arguments: StorageBackend.available, [false, true])
    func readingPagesInBothOrdersEqualTheBruteForce(_ backend: StorageBackend, settled: Bool) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let model = try await Self.fillWithFixture(opened, settled: settled)
        let ranges: [(Int64?, Int64?)] = [
            (nil, nil), (-1_000, 1_000), (0, 1), (-1, 0), (2_000, nil), (nil, -3_000), (5, 5), (7, 3),
            (nil, .min), (.min, .max),
        ]
        var checkedRows = 0
        for device in Self.devices + ["unknown"] {
            for sensor in [nil] + (Self.sensors + ["nope"]).map(Optional.some) {
                for (fromMs, toMs) in ranges {
                    let expected = model.sortedReadings(deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs)
                    // Limit 1 only for whole sensors: every row its own page (and cursor) is slow enough.
                    for limit in sensor == nil ? [3, 50, 100_000] : [1, 7, 100_000] {
                        let context = "\(device) \(sensor ?? "*") [\(fromMs as Any), \(toMs as Any)) limit \(limit)"
                        let ascending = try allPages(
                            opened.storage, deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs,
                            limit: limit, order: .ascending)
                        expectReadings(ascending, expected, context)
                        let descending = try allPages(
                            opened.storage, deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs,
                            limit: limit, order: .descending)
                        expectReadings(descending, expected.reversed(), "descending \(context)")
                        checkedRows += expected.count
                    }
                }
            }
        }
        #expect(checkedRows > 1_000, "the fixture is too small to test anything")
        try expectStorage(opened.storage, equals: model)
    }

    /// A page exactly as long as what is left, and a cursor handed back from a page of exactly `limit` rows.
    @Test(arguments: StorageBackend.available)
    func pageLimitsAtTheEdges(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let model = try await Self.fillWithFixture(opened, settled: false)
        let storage = opened.storage
        for device in Self.devices {
            let all = model.sortedReadings(deviceID: device)
            for order in [ReadingOrder.ascending, .descending] {
                let expected = order == .ascending ? all : all.reversed()
                // Everything in one page: no cursor.
                let whole = try storage.readings(
                    deviceID: device, sensor: nil, fromMs: nil, toMs: nil, limit: all.count, order: order, after: nil)
                #expect(whole.readings == expected, "\(device) \(order) limit = count")
                if let cursor = whole.nextCursor {
                    let rest = try storage.readings(
                        deviceID: device, sensor: nil, fromMs: nil, toMs: nil, limit: 1, order: order, after: cursor)
                    #expect(rest.readings.isEmpty && rest.nextCursor == nil, "\(device) \(order): after the end")
                }
                // One row short: a cursor that continues with the last row.
                let first = try storage.readings(
                    deviceID: device, sensor: nil, fromMs: nil, toMs: nil, limit: all.count - 1, order: order,
                    after: nil)
                #expect(first.readings == Array(expected.dropLast()))
                let cursor = try #require(first.nextCursor, "\(device) \(order): more rows follow")
                let token = try #require(ReadingCursor(token: cursor.token))
                let last = try storage.readings(
                    deviceID: device, sensor: nil, fromMs: nil, toMs: nil, limit: 100_000, order: order, after: token)
                #expect(last.readings == [expected.last!] && last.nextCursor == nil, "\(device) \(order): last row")
            }
        }
    }

    @Test(arguments: StorageBackend.available, [false, true])
    func seriesForEveryAggregateAndStepEqualTheBruteForce(_ backend: StorageBackend, settled: Bool) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let model = try await Self.fillWithFixture(opened, settled: settled)
        let ranges: [(Int64?, Int64?)] = [
            (nil, nil), (-1_000, 1_000), (-2_999, 2_000), (-4_000, -1), (-3_001, -2_999), (0, 1), (5, 5),
        ]
        var nonEmpty = 0
        for device in Self.devices {
            for sensor in Self.sensors {
                for stepMs: Int64 in [1, 7, 1_000, 3_000, 86_400_000] {
                    for (fromMs, toMs) in ranges {
                        for aggregate in SeriesAggregate.allCases {
                            let expected = model.buckets(
                                deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs, stepMs: stepMs,
                                aggregate: aggregate)
                            let actual = try opened.storage.series(
                                deviceID: device, sensor: sensor, fromMs: fromMs, toMs: toMs, stepMs: stepMs,
                                aggregate: aggregate)
                            #expect(
                                actual == expected,
                                "\(device)/\(sensor) step \(stepMs) [\(fromMs as Any), \(toMs as Any)) \(aggregate)")
                            nonEmpty += expected.count
                        }
                    }
                }
            }
        }
        #expect(nonEmpty > 1_000)
        #expect(
            try opened.storage.series(
                deviceID: "nobody", sensor: "a", fromMs: nil, toMs: nil, stepMs: 10, aggregate: .avg) == [])
        #expect(
            try opened.storage.series(
                deviceID: "beta", sensor: "temp", fromMs: nil, toMs: nil, stepMs: 10, aggregate: .avg) == [])
    }

    @Test(arguments: StorageBackend.available, [false, true])
    func latestDeviceAndDevicesEqualTheBruteForce(_ backend: StorageBackend, settled: Bool) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let model = try await Self.fillWithFixture(opened, settled: settled)
        let storage = opened.storage
        try expectStorage(storage, equals: model)
        #expect(try storage.latest(deviceID: "unknown") == [])
        #expect(try storage.device("unknown") == nil)
        #expect(try storage.device("alpha") == nil, "a prefix is not a device")

        for limit in [1, 2, 3, 100_000] {
            var names: [String] = []
            var after: String?
            repeat {
                let page = try storage.devices(namePrefix: nil, limit: limit, after: after)
                #expect(page.count <= limit)
                names += page.map(\.name)
                after = page.count == limit ? page.last?.name : nil
            } while after != nil
            #expect(names == model.deviceNames, "limit \(limit)")
        }
        let pages: [(String?, Int, String?, [String])] = [
            ("alpha", 10, nil, ["alpha-1", "alpha-2"]), ("alpha-2", 10, nil, ["alpha-2"]),
            ("alpha", 10, "alpha-1", ["alpha-2"]), ("alpha", 1, nil, ["alpha-1"]), ("gamma", 10, nil, []),
            (nil, 10, "alpha-2", ["beta"]), (nil, 10, "beta", []), (nil, 10, "a", ["alpha-1", "alpha-2", "beta"]),
            ("", 10, nil, ["alpha-1", "alpha-2", "beta"]), ("b", 10, nil, ["beta"]), ("alpha-1x", 10, nil, []),
        ]
        for (prefix, limit, after, expected) in pages {
            let page = try storage.devices(namePrefix: prefix, limit: limit, after: after)
            #expect(page.map(\.name) == expected, "prefix \(prefix as Any) limit \(limit) after \(after as Any)")
            for summary in page { #expect(try storage.device(summary.name) == summary, "\(summary.name)") }
        }
    }

    @Test(arguments: StorageBackend.available)
    func badArgumentsAreRefusedAsInvalid(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let storage = opened.storage
        _ = try await opened.store(deviceID: "d", batch: makeBatch(seq: 1, [("x", [(1, 1), (2, 2)])]))
        for limit in [0, -1, 100_001, .max] {
            expectInvalidArgument("readings limit \(limit)") {
                try storage.readings(
                    deviceID: "d", sensor: nil, fromMs: nil, toMs: nil, limit: limit, order: .ascending, after: nil)
            }
            expectInvalidArgument("devices limit \(limit)") {
                try storage.devices(namePrefix: nil, limit: limit, after: nil)
            }
        }
        #expect(
            try storage.readings(
                deviceID: "d", sensor: nil, fromMs: nil, toMs: nil, limit: 100_000, order: .ascending, after: nil
            ).readings.count == 2)
        for stepMs: Int64 in [0, -5, .min] {
            expectInvalidArgument("series step \(stepMs)") {
                try storage.series(deviceID: "d", sensor: "x", fromMs: nil, toMs: nil, stepMs: stepMs, aggregate: .avg)
            }
        }
        // A cursor continues only a page of its own order.
        for order in [ReadingOrder.ascending, .descending] {
            let page = try storage.readings(
                deviceID: "d", sensor: nil, fromMs: nil, toMs: nil, limit: 1, order: order, after: nil)
            let cursor = try #require(page.nextCursor)
            let other: ReadingOrder = order == .ascending ? .descending : .ascending
            expectInvalidArgument("a \(order) cursor on a \(other) page") {
                try storage.readings(
                    deviceID: "d", sensor: nil, fromMs: nil, toMs: nil, limit: 1, order: other, after: cursor)
            }
        }
        let base = storage.historyBucketMs
        #expect(base > 0)
        for stepMs in [0, -base, base / 2, base + base / 2, base + 1] where stepMs % base != 0 || stepMs <= 0 {
            expectInvalidArgument("counterHistory step \(stepMs)") {
                try storage.counterHistory(stepMs: stepMs, fromMs: nil, toMs: nil)
            }
        }
    }
}
