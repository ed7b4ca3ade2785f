// Edges every backend must get right too: names with the characters a pattern language would read (a prefix is a
// prefix, not a pattern), infinities, one large batch, and paging while readings arrive.

import Storage
import Telemetry
import Testing

extension StorageConformanceTests {
    /// Names with the characters of LIKE patterns, quotes and both cases: taken literally and sorted byte-wise,
    /// also on a PostgreSQL database whose collation is a language's (`languageCollated`).
    @Test(arguments: StorageBackend.available, [false, true])
    func namesAreTakenLiterally(_ backend: StorageBackend, languageCollated: Bool) async throws {
        let opened = try languageCollated ? open(backend, languageCollation: "en-US") : open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let devices = ["a_b", "a%c", "axb", "a.b", "a\\d", "A-b", "a'b", "ab", "B", "b", "_z", "Zz"]
        let sensors = ["it's", "x y", "b.c", "%", "_", "t\\n", "B", "a", "Ab"]
        for (index, device) in devices.enumerated() {
            let batch = makeBatch(
                seq: 1, sensors.enumerated().map { offset, sensor in (sensor, [(Int64(index), Double(offset))]) })
            let expected = model.apply(deviceID: device, batch: batch).outcome
            let outcome = try await opened.store(deviceID: device, batch: batch)
            #expect(outcome == expected, "\(device)")
        }
        try expectStorage(opened.storage, equals: model)
        for prefix in ["a_", "a%", "a.", "a\\", "a'", "a", "A", "ab", "a_b", "_", "%", "", "b", "Z"] {
            let expected = model.deviceNames.filter { $0.hasPrefix(prefix) }
            let listed = try opened.storage.devices(namePrefix: prefix, limit: 100, after: nil).map(\.name)
            #expect(listed == expected, "prefix \(prefix)")
        }
        // Byte-wise ("A-b" < "B" < "Zz" < "_z" < "a%c"), page by page after the last name.
        #expect(model.deviceNames == model.deviceNames.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) })
        var names: [String] = []
        var after: String?
        repeat {
            let page = try opened.storage.devices(namePrefix: nil, limit: 2, after: after)
            names += page.map(\.name)
            after = page.count == 2 ? page.last?.name : nil
        } while after != nil
        #expect(names == model.deviceNames)
        for (after, expected) in [("B", ["Zz", "_z"]), ("_", ["_z", "a%c"]), ("a", ["a%c", "a'b"])] {
            #expect(try opened.storage.devices(namePrefix: nil, limit: 2, after: after).map(\.name) == expected)
        }
        for sensor in sensors {
            let read = try allPages(opened.storage, deviceID: "a_b", sensor: sensor)
            expectReadings(read, model.sortedReadings(deviceID: "a_b", sensor: sensor), "sensor \(sensor)")
        }
        #expect(try opened.storage.device("a_") == nil)
        #expect(try allPages(opened.storage, deviceID: "a%").isEmpty)
    }

    @Test(arguments: StorageBackend.available)
    func infinitiesOfBothSignsAreStoredAndSumToNaN(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let readings: [(Int64, Double)] = [(1, .infinity), (2, 5), (3, -.infinity), (4, .greatestFiniteMagnitude)]
        let outcome = try await opened.store(deviceID: "d", batch: makeBatch(seq: 1, [("x", readings)]))
        #expect(outcome == BatchOutcome(readingsStored: 4, isDuplicate: false, lastSeq: 1))
        for isSettled in [false, true] {
            if isSettled { try await opened.settle() }
            let read = try allPages(opened.storage, deviceID: "d")
            #expect(read.map(\.value) == readings.map(\.1), "settled: \(isSettled)")
            let series = { (aggregate: SeriesAggregate) throws -> [SeriesBucket] in
                try opened.storage.series(
                    deviceID: "d", sensor: "x", fromMs: nil, toMs: nil, stepMs: 1_000, aggregate: aggregate)
            }
            let sum = try series(.sum)
            #expect(sum.count == 1 && sum.first?.value.isNaN == true && sum.first?.count == 4, "\(sum)")
            #expect(try series(.max).map(\.value) == [.infinity])
            #expect(try series(.min).map(\.value) == [-.infinity])
            #expect(try series(.last).map(\.value) == [.greatestFiniteMagnitude])
            #expect(try series(.count).map(\.value) == [4])
            #expect(try opened.storage.latest(deviceID: "d").map(\.value) == [.greatestFiniteMagnitude])
        }
    }

    /// One batch far larger than a page: stored whole, paged in both orders, settled, bucketed.
    @Test(arguments: StorageBackend.available)
    func aLargeBatchIsStoredWholeAndPaged(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let start: Int64 = 1_700_000_000_000
        // 30,000 readings a second apart, every 7th one repeated at the next ms (not a repeat: a new ts).
        let readings = (0..<30_000).flatMap { index -> [(Int64, Double)] in
            let ts = start + Int64(index) * 1_000
            let value = Double(index % 997) / 8
            return index % 7 == 0 ? [(ts, value), (ts + 1, -value)] : [(ts, value)]
        }
        let batch = makeBatch(seq: 1, [("t", readings), ("u", Array(readings.prefix(100)))])
        let expected = model.apply(deviceID: "d", batch: batch).outcome
        let outcome = try await opened.store(deviceID: "d", batch: batch)
        #expect(outcome == expected)
        for isSettled in [false, true] {
            if isSettled { try await opened.settle() }
            let all = model.sortedReadings(deviceID: "d", sensor: "t")
            expectReadings(
                try allPages(opened.storage, deviceID: "d", sensor: "t", limit: 4_999), all, "settled: \(isSettled)")
            expectReadings(
                try allPages(opened.storage, deviceID: "d", sensor: "t", limit: 100_000, order: .descending),
                all.reversed(), "descending, settled: \(isSettled)")
            for stepMs: Int64 in [1_000, 3_600_000] {
                for aggregate in SeriesAggregate.allCases {
                    let actual = try opened.storage.series(
                        deviceID: "d", sensor: "t", fromMs: start + 1, toMs: nil, stepMs: stepMs, aggregate: aggregate)
                    let expected = model.buckets(
                        deviceID: "d", sensor: "t", fromMs: start + 1, toMs: nil, stepMs: stepMs, aggregate: aggregate)
                    #expect(actual == expected, "step \(stepMs) \(aggregate), settled: \(isSettled)")
                }
            }
            try expectStorage(opened.storage, equals: model, "settled: \(isSettled)")
        }
    }

    /// Keyset pagination: readings arriving behind and ahead of the cursor while a client pages never make a page
    /// skip or repeat a row that existed when paging started.
    @Test(arguments: StorageBackend.available)
    func pagingWhileReadingsArriveNeitherSkipsNorRepeats(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        let model = try await Self.fillWithFixture(opened, settled: false)
        for order in [ReadingOrder.ascending, .descending] {
            let device = "alpha-1"
            let existing = model.sortedReadings(deviceID: device)
            var collected: [Reading] = []
            var cursor: ReadingCursor?
            var seq: UInt64 = order == .ascending ? 10_000 : 20_000
            repeat {
                let page = try opened.storage.readings(
                    deviceID: device, sensor: nil, fromMs: nil, toMs: nil, limit: 7, order: order, after: cursor)
                collected += page.readings
                cursor = page.nextCursor
                seq += 1
                let fresh = makeBatch(
                    seq: seq, [("a", [(Int64(seq % 9_000) - 4_500, 0.5)]), ("new", [(0, 1), (5_000 + Int64(seq), 1)])])
                _ = try await opened.store(deviceID: device, batch: fresh)
            } while cursor != nil
            let keys = collected.map { "\($0.ts)/\($0.sensor)" }
            #expect(Set(keys).count == keys.count, "\(order): a row was repeated")
            let collectedKeys = Set(keys)
            #expect(
                existing.allSatisfy { collectedKeys.contains("\($0.ts)/\($0.sensor)") }, "\(order): a row was skipped")
            let isSorted = zip(collected, collected.dropFirst()).allSatisfy { lhs, rhs in
                order == .ascending
                    ? (lhs.ts, lhs.sensor) < (rhs.ts, rhs.sensor) : (lhs.ts, lhs.sensor) > (rhs.ts, rhs.sensor)
            }
            #expect(isSorted, "\(order)")
        }
    }

    /// A thousand devices' first batches in one transaction, and one batch of 500 sensors with long names.
    @Test(arguments: StorageBackend.available)
    func manyDevicesAndSensorsAtOnce(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let results = Collected<(Int, Result<BatchOutcome, StoreError>)>()
        var submitted: [(String, ReadingBatch)] = []
        for index in 0..<1_000 {
            submitted.append(("dev-\(index)", makeBatch(seq: 1, [("t", [(Int64(index), Double(index))])])))
        }
        let longName = String(repeating: "s", count: 200)
        let wide = makeBatch(
            seq: 2, (0..<500).map { ("\(longName)-\($0)", [(Int64($0), Double($0)), (Int64($0) + 1, 1)]) })
        submitted.append(("dev-0", wide))
        submitted.append((String(repeating: "d", count: 200), wide))
        var expected: [BatchOutcome] = []
        for (index, (device, batch)) in submitted.enumerated() {
            expected.append(model.apply(deviceID: device, batch: batch).outcome)
            try opened.storage.submit(deviceID: device, batch: batch) { results.append((index, $0)) }
        }
        try await waitUntil(timeoutMs: 60_000, "every completion ran") { results.all.count == submitted.count }
        for (index, result) in results.all { #expect(try result.get() == expected[index], "#\(index)") }
        try expectStorage(
            opened.storage, equals: model, devices: ["dev-0", "dev-999", String(repeating: "d", count: 200)])
        var names: [String] = []
        var after: String?
        repeat {
            let page = try opened.storage.devices(namePrefix: nil, limit: 333, after: after)
            names += page.map(\.name)
            after = page.count == 333 ? page.last?.name : nil
        } while after != nil
        #expect(names == model.deviceNames)
        #expect(try opened.storage.devices(namePrefix: "dev-99", limit: 100, after: nil).count == 11)
    }

    /// The ends of time: readings at Int64.min and Int64.max (in separate series, so that no chunk spans them)
    /// are stored, paged through with cursors, and bucketed; an unbounded range holds both.
    @Test(arguments: StorageBackend.available)
    func theEndsOfTimeAreStoredAndQueried(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let batches = [
            makeBatch(seq: 1, [("hi", [(.max, 1), (.max - 1, 2), (.max - 1_000, 3)])]),
            makeBatch(seq: 2, [("lo", [(.min, 4), (.min + 1, 5), (.min + 1_000, 6)])]),
            makeBatch(seq: 3, [("hi", [(.max, 9), (.max - 2, 7)]), ("lo", [(.min, 9), (.min + 2, 8)])]),
        ]
        for batch in batches {
            let expected = model.apply(deviceID: "d", batch: batch).outcome
            let outcome = try await opened.store(deviceID: "d", batch: batch)
            #expect(outcome == expected, "seq \(batch.seq)")
        }
        for isSettled in [false, true] {
            if isSettled { try await opened.settle() }
            try expectStorage(opened.storage, equals: model, "settled: \(isSettled)")
            for limit in [1, 2] {
                for order in [ReadingOrder.ascending, .descending] {
                    let expected = model.sortedReadings(deviceID: "d")
                    expectReadings(
                        try allPages(opened.storage, deviceID: "d", limit: limit, order: order),
                        order == .ascending ? expected : expected.reversed(), "\(order) limit \(limit)")
                }
            }
            let ranges: [(Int64?, Int64?)] = [(.min, .max), (.max - 1, nil), (nil, .min + 2), (.max, .max)]
            for (fromMs, toMs) in ranges {
                let expected = model.sortedReadings(deviceID: "d", fromMs: fromMs, toMs: toMs)
                expectReadings(
                    try allPages(opened.storage, deviceID: "d", fromMs: fromMs, toMs: toMs), expected,
                    "[\(fromMs as Any), \(toMs as Any))")
            }
            // Below Int64.min + 808 the 1-second step's start is not an Int64: that bucket starts at Int64.min.
            for (sensor, steps) in [("hi", [1, 1_000, 86_400_000]), ("lo", [1, 1_000, 86_400_000])]
                as [(String, [Int64])]
            {
                for stepMs in steps {
                    for aggregate in SeriesAggregate.allCases {
                        let actual = try opened.storage.series(
                            deviceID: "d", sensor: sensor, fromMs: nil, toMs: nil, stepMs: stepMs,
                            aggregate: aggregate)
                        let expected = model.buckets(
                            deviceID: "d", sensor: sensor, fromMs: nil, toMs: nil, stepMs: stepMs,
                            aggregate: aggregate)
                        #expect(actual == expected, "\(sensor) step \(stepMs) \(aggregate)")
                    }
                }
            }
        }
    }
}
