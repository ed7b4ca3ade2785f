import Chunks
import Foundation
import Postgres
import PostgresTestSupport
import SplitMix
import Storage
import Synchronization
import Telemetry
import Testing

@testable import PostgresStore

/// The read side of the PostgreSQL backend against a brute-force model of the same rows: readings pages, series,
/// latest values, devices, counters, history, the deny list, disk usage, damaged chunks and the pool.
///
/// One throwaway server for the suite, a fresh database per test, rows written straight into the tables.
@Suite(
    .serialized,
    .enabled(
        if: TestPostgresServer.isAvailable,
        "no PostgreSQL server binaries (initdb, pg_ctl; as root also runuser and a postgres user): install postgresql"),
    .postgresServer)
struct PostgresReaderTests {
    /// A fleet of devices whose series have readings on a shared 10 ms grid (equal times across sensors), before
    /// and after 1970, cut into chunks of 1…40 readings; one series holds ±infinity (a NULL stored sum).
    static func makeFleet() throws -> (url: String, model: ReaderModel) {
        var random = SplitMix64(seed: 16)
        var model = ReaderModel()
        model.addDevice("dev-a", firstSeenMs: 1_000, lastSeenMs: 9_000, batches: 12, lastSeq: UInt64.max)
        model.addDevice("dev-b", firstSeenMs: 2_000, lastSeenMs: 3_000, batches: 1, lastSeq: 1)
        model.addDevice("dev.c", firstSeenMs: 5, lastSeenMs: 6, batches: 2, lastSeq: 7)
        model.addDevice("devZ", firstSeenMs: 5, lastSeenMs: 6, batches: 0, lastSeq: 0)
        model.addDevice("other:1", firstSeenMs: 7, lastSeenMs: 8, batches: 3, lastSeq: 3)
        var id: Int64 = 100
        func add(_ device: String, _ sensor: String, exponent: Int32?, _ chunks: [(times: [Int64], values: [Double])]) {
            id += 1
            model.series.append(ModelSeries(id: id, device: device, sensor: sensor, exponent: exponent, chunks: chunks))
        }
        func grid(_ count: Int, from start: Int64, maxChunk: Int) -> [(times: [Int64], values: [Double])] {
            makeChunks(&random, startTs: start / 10, count: count, maxGapMs: 30, maxChunk: maxChunk).map {
                ($0.times.map { $0 * 10 }, $0.values)
            }
        }
        add("dev-a", "temp", exponent: 2, grid(400, from: -40_000, maxChunk: 40))
        add("dev-a", "hum", exponent: nil, grid(300, from: -30_000, maxChunk: 12))
        add("dev-a", "a.b", exponent: -1, grid(60, from: 5_000, maxChunk: 60))
        add("dev-a", "inf", exponent: nil, [([-5, 0, 5, 12], [1, .infinity, -.infinity, 2]), ([20, 30], [3, 4])])
        add("dev-b", "temp", exponent: 0, grid(200, from: -1_000, maxChunk: 25))
        add("dev.c", "x", exponent: nil, [([-9_000_000_000_000, -1, 0, 9_000_000_000_000], [1, 2, 3, 4])])
        let url = try makeSchemaDatabase()
        try model.store(on: PostgresConnection(connectingTo: url))
        return (url, model)
    }

    static func makePool(_ url: String, maxIdle: Int = 2) -> PostgresReadPool {
        PostgresReadPool(connection: url, maxIdle: maxIdle, statementTimeoutMs: 10_000, connectTimeoutSeconds: 5)
    }

    static let ranges: [(Int64, Int64)] = [
        (.min, .max), (-20_000, 30_000), (-1, 1), (0, 0), (-12_345, -10), (100_000, 200_000), (5, 4),
    ]

    @Test func readingsPagesMatchTheModelInBothOrdersThroughTokens() throws {
        let (url, model) = try Self.makeFleet()
        let pool = Self.makePool(url)
        defer { pool.close() }
        let cases: [(String, String?)] = [
            ("dev-a", nil), ("dev-a", "temp"), ("dev-a", "inf"), ("dev-b", nil), ("dev.c", nil), ("dev-a", "nosuch"),
            ("nobody", nil),
        ]
        for (device, sensor) in cases {
            for (low, high) in Self.ranges {
                for order in [ReadingOrder.ascending, .descending] {
                    for limit in [7, 500, 5_000] {
                        var cursor: ReadingCursor?
                        var collected: [Reading] = []
                        var pages = 0
                        repeat {
                            let page = try pool.withReader { (reader) throws(StoreError) in
                                try reader.readings(
                                    deviceID: device, sensor: sensor, lowMs: low, highMs: high, limit: limit,
                                    order: order, after: cursor)
                            }
                            let expected = model.page(
                                device: device, sensor: sensor, lowMs: low, highMs: high, limit: limit, order: order,
                                after: cursor)
                            #expect(
                                page == expected,
                                "\(device) \(sensor ?? "*") [\(low), \(high)] \(order) limit \(limit) page \(pages)")
                            guard page == expected else { break }
                            collected += page.readings
                            cursor = page.nextCursor.flatMap { ReadingCursor(token: $0.token) }
                            pages += 1
                        } while cursor != nil
                        let all = model.allReadings(device: device, sensor: sensor, order: order).filter {
                            $0.ts >= low && $0.ts <= high
                        }
                        #expect(
                            collected == all, "\(device) \(sensor ?? "*") [\(low), \(high)] \(order) limit \(limit)")
                    }
                }
            }
        }
    }

    @Test func pagesOfOneReadingWalkEveryKeyOnce() throws {
        let (url, model) = try Self.makeFleet()
        let pool = Self.makePool(url)
        defer { pool.close() }
        for order in [ReadingOrder.ascending, .descending] {
            var cursor: ReadingCursor?
            var collected: [Reading] = []
            repeat {
                let page = try pool.withReader { (reader) throws(StoreError) in
                    try reader.readings(
                        deviceID: "dev-a", sensor: nil, lowMs: -3_000, highMs: 3_000, limit: 1, order: order,
                        after: cursor)
                }
                collected += page.readings
                cursor = page.nextCursor
            } while cursor != nil
            let all = model.allReadings(device: "dev-a", sensor: nil, order: order).filter {
                $0.ts >= -3_000 && $0.ts <= 3_000
            }
            #expect(collected == all)
            #expect(Set(all.map(\.ts)).count < all.count, "the grid puts several sensors at one ts")
        }
    }

    @Test(arguments: SeriesAggregate.allCases)
    func seriesMatchTheModelForEveryStep(aggregate: SeriesAggregate) throws {
        let (url, model) = try Self.makeFleet()
        let pool = Self.makePool(url)
        defer { pool.close() }
        for (device, sensor) in [
            ("dev-a", "temp"), ("dev-a", "hum"), ("dev-a", "inf"), ("dev.c", "x"), ("dev-b", "temp"),
        ] {
            for step: Int64 in [1, 10, 70, 1_000, 60_000, 3_600_000, .max] {
                for (low, high) in Self.ranges {
                    let buckets = try pool.withReader { (reader) throws(StoreError) in
                        try reader.series(
                            deviceID: device, sensor: sensor, lowMs: low, highMs: high, stepMs: step,
                            aggregate: aggregate)
                    }
                    let expected = model.buckets(
                        device: device, sensor: sensor, lowMs: low, highMs: high, stepMs: step, aggregate: aggregate)
                    #expect(
                        isClose(buckets, expected),
                        "\(device)/\(sensor) step \(step) [\(low), \(high)] \(aggregate): \(buckets) vs \(expected)")
                }
            }
        }
        let none = try pool.withReader { (reader) throws(StoreError) in
            try reader.series(
                deviceID: "dev-a", sensor: "nosuch", lowMs: .min, highMs: .max, stepMs: 10, aggregate: aggregate)
        }
        #expect(none.isEmpty)
    }

    @Test func wholeChunksInsideOneBucketAreNotSent() throws {
        let (url, _) = try Self.makeFleet()
        let connection = try PostgresConnection(connectingTo: url)
        // Step 1 h over everything: every chunk of dev-a/temp lies in one bucket except those crossing an hour.
        let rows = try connection.execute(
            PostgresReader.chunksInRangeSQL,
            parameters: [.text("dev-a"), .text("temp"), .int(-40_000), .int(1_000_000), .int(3_600_000)]
        ).rows
        let sent = rows.filter { $0[9] != nil }
        #expect(rows.count > 10)
        // Only the chunk holding the range's low end and the one crossing 0 (an hour edge) need decoding.
        #expect(sent.count <= 2, "\(sent.count) of \(rows.count) blobs sent")
    }

    @Test func chunkLookupsWalkThePrimaryKey() throws {
        // With sequential scans priced out, a statement that can use (series_id, start_ts) shows no Seq Scan on
        // chunks: the chunk holding or after low is found by index probes, however many chunks a series has.
        let (url, _) = try Self.makeFleet()
        let connection = try PostgresConnection(connectingTo: url)
        try connection.execute("SET enable_seqscan = off")
        let statements: [(String, [PostgresValue?])] = [
            (PostgresReader.nextChunkSQL, [.int(101), .int(-5_000), .int(5_000)]),
            (PostgresReader.previousChunkSQL, [.int(101), .int(5_000)]),
            (
                PostgresReader.chunksInRangeSQL,
                [.text("dev-a"), .text("temp"), .int(-5_000), .int(5_000), .int(1_000)]
            ),
        ]
        for (sql, parameters) in statements {
            let plan = try connection.execute("EXPLAIN " + sql, parameters: parameters).rows.compactMap { $0[0] }
            #expect(!plan.contains { $0.contains("Seq Scan on chunks") }, "\(plan.joined(separator: "\n"))")
        }
    }

    @Test func latestIsTheEndOfEachSeriesLastChunk() throws {
        let (url, model) = try Self.makeFleet()
        let pool = Self.makePool(url)
        defer { pool.close() }
        for device in ["dev-a", "dev-b", "dev.c", "devZ", "nobody"] {
            let latest = try pool.withReader { (reader) throws(StoreError) in try reader.latest(deviceID: device) }
            #expect(latest == model.latest(device: device), "\(device)")
        }
    }

    @Test func devicesListByPrefixAfterAndLimitWithSortedSensors() throws {
        let (url, model) = try Self.makeFleet()
        let pool = Self.makePool(url)
        defer { pool.close() }
        let all = model.expectedDevices
        for prefix in ["", "dev", "dev-", "dev.", "o", "zzz"] {
            for after in ["", "dev-a", "dev.c", "~"] {
                for limit in [1, 2, 100] {
                    let listed = try pool.withReader { (reader) throws(StoreError) in
                        try reader.devices(namePrefix: prefix, limit: limit, after: after)
                    }
                    let expected = Array(
                        all.filter {
                            $0.name.hasPrefix(prefix)
                                && Array(after.utf8).lexicographicallyPrecedes(Array($0.name.utf8))
                        }.prefix(limit))
                    #expect(listed == expected, "prefix \(prefix) after \(after) limit \(limit)")
                }
            }
        }
        // Byte order: '-' (0x2D) < '.' (0x2E) < 'Z' (0x5A) < 'o'.
        #expect(all.map(\.name) == ["dev-a", "dev-b", "dev.c", "devZ", "other:1"])
        let one = try pool.withReader { (reader) throws(StoreError) in try reader.device(named: "dev-a") }
        #expect(one == all[0])
        #expect(one?.sensors == ["a.b", "hum", "inf", "temp"])
        #expect(one?.lastSeq == UInt64.max)
        let empty = try pool.withReader { (reader) throws(StoreError) in try reader.device(named: "devZ") }
        #expect(empty?.sensors == [])
        let missing = try pool.withReader { (reader) throws(StoreError) in try reader.device(named: "nobody") }
        #expect(missing == nil)
    }

    @Test func textArraysOfEveryShapeParse() throws {
        #expect(try PostgresArrayText.parseTexts("{}", operation: "t") == [])
        #expect(try PostgresArrayText.parseTexts("{a}", operation: "t") == ["a"])
        #expect(try PostgresArrayText.parseTexts("{a.b,c-d,e_f}", operation: "t") == ["a.b", "c-d", "e_f"])
        #expect(
            try PostgresArrayText.parseTexts(#"{"null","a,b","c\"d",""}"#, operation: "t") == ["null", "a,b", "c\"d", ""])
        #expect(throws: StoreError.self) { try PostgresArrayText.parseTexts("a,b", operation: "t") }
    }

    @Test func countersAreSummedOverCollectorsOrReadPerCollector() throws {
        let url = try makeSchemaDatabase()
        let connection = try PostgresConnection(connectingTo: url)
        var random = SplitMix64(seed: 7)
        var rows: [(collector: String, delta: CounterDelta, updated: Int64)] = []
        for collector in ["c2", "c1"] {
            for (proto, device) in [("grpc", "dev-a"), ("grpc", ""), ("http1", "dev-a"), ("connect", "dev-b")] {
                if collector == "c1" && proto == "connect" { continue }
                let amounts = (0..<CounterDelta.amountCount).map { _ in random.next() % 1_000_000 }
                let delta = CounterDelta(protocolName: proto, device: device, amounts: amounts)
                let updated = Int64(random.next() % 10_000)
                rows.append((collector, delta, updated))
                let columns = PostgresReader.amountColumns.joined(separator: ", ")
                let placeholders = (4..<(4 + CounterDelta.amountCount)).map { "$\($0)" }.joined(separator: ", ")
                try connection.execute(
                    "INSERT INTO bandwidth (collector, protocol, device, updated_ms, \(columns)) "
                        + "VALUES ($1, $2, $3, \(updated), \(placeholders))",
                    parameters: [.text(collector), .text(proto), .text(device)] + amounts.map { .int(Int64($0)) })
            }
        }
        func expected(_ collector: String?) -> [CounterRow] {
            var sums: [String: CounterRow] = [:]
            for row in rows where collector == nil || row.collector == collector {
                let key = row.delta.protocolName + "\u{0}" + row.delta.device
                if var known = sums[key] {
                    known.totals = CounterDelta(
                        protocolName: row.delta.protocolName, device: row.delta.device,
                        amounts: zip(known.totals.amounts, row.delta.amounts).map { $0 + $1 })
                    known.updatedMs = max(known.updatedMs, row.updated)
                    sums[key] = known
                } else {
                    sums[key] = CounterRow(totals: row.delta, updatedMs: row.updated)
                }
            }
            return sums.keys.sorted().map { sums[$0]! }
        }
        let pool = Self.makePool(url)
        defer { pool.close() }
        for collector in [nil, "c1", "c2", "c3"] as [String?] {
            let read = try pool.withReader { (reader) throws(StoreError) in try reader.counters(collector: collector) }
            #expect(read == expected(collector), "collector \(collector ?? "all")")
        }
        #expect(try pool.withReader { (reader) throws(StoreError) in try reader.counters(collector: nil) }.count == 4)
        let collectors = try pool.withReader { (reader) throws(StoreError) in try reader.counterCollectors() }
        #expect(collectors == ["c1", "c2"])
    }

    @Test func historyIsSummedOverCollectorsIntoFlooredSteps() throws {
        let url = try makeSchemaDatabase()
        let connection = try PostgresConnection(connectingTo: url)
        var random = SplitMix64(seed: 9)
        var rows: [(bucket: Int64, proto: String, bytesIn: UInt64, bytesOut: UInt64, readings: UInt64)] = []
        for collector in ["c1", "c2"] {
            for bucket in stride(from: Int64(-120_000), through: 120_000, by: 10_000) {
                for proto in ["grpc", "http1"] where random.next() % 3 != 0 {
                    let values = (random.next() % 1_000, random.next() % 1_000, random.next() % 100)
                    rows.append((bucket, proto, values.0, values.1, values.2))
                    try connection.execute(
                        """
                        INSERT INTO bandwidth_history (collector, bucket_ms, protocol, bytes_in, bytes_out, readings)
                        VALUES ($1, $2, $3, $4, $5, $6)
                        """,
                        parameters: [
                            .text(collector), .int(bucket), .text(proto), .int(Int64(values.0)),
                            .int(Int64(values.1)), .int(Int64(values.2)),
                        ])
                }
            }
        }
        let pool = Self.makePool(url)
        defer { pool.close() }
        for step: Int64 in [10_000, 30_000, 60_000, 3_600_000] {
            for (low, high) in [(Int64.min, Int64.max), (-65_000, 35_000), (-10_000, -10_000), (1, 0)] {
                let read = try pool.withReader { (reader) throws(StoreError) in
                    try reader.counterHistory(stepMs: step, lowMs: low, highMs: high)
                }
                var sums: [String: HistoryBucket] = [:]
                for row in rows where row.bucket >= low && row.bucket <= high {
                    let remainder = row.bucket % step
                    let start = remainder >= 0 ? row.bucket - remainder : row.bucket - remainder - step
                    let key = "\(start + 1_000_000_000_000) \(row.proto)"
                    var bucket =
                        sums[key]
                        ?? HistoryBucket(startMs: start, protocolName: row.proto, bytesIn: 0, bytesOut: 0, readings: 0)
                    bucket.bytesIn += row.bytesIn
                    bucket.bytesOut += row.bytesOut
                    bucket.readings += row.readings
                    sums[key] = bucket
                }
                let expected = sums.values.sorted { ($0.startMs, $0.protocolName) < ($1.startMs, $1.protocolName) }
                #expect(read == expected, "step \(step) [\(low), \(high)]")
            }
        }
    }

    @Test func revokedDevicesAndDiskUsage() throws {
        let (url, _) = try Self.makeFleet()
        let connection = try PostgresConnection(connectingTo: url)
        try connection.execute("INSERT INTO revoked_devices VALUES ('dev-b', 20), ('dev-a', 10), ('Zed', 30)")
        let pool = Self.makePool(url)
        defer { pool.close() }
        let revoked = try pool.withReader { (reader) throws(StoreError) in try reader.revokedDevices() }
        #expect(
            revoked == [
                RevokedDevice(device: "Zed", revokedAtMs: 30), RevokedDevice(device: "dev-a", revokedAtMs: 10),
                RevokedDevice(device: "dev-b", revokedAtMs: 20),
            ])
        let usage = try pool.withReader { (reader) throws(StoreError) in try reader.diskUsage() }
        #expect(usage.chunkBytes > 0)
        #expect(usage.totalBytes > usage.chunkBytes)
    }

    @Test func aDamagedChunkIsReportedWithItsSeriesAndStart() throws {
        let (url, model) = try Self.makeFleet()
        let connection = try PostgresConnection(connectingTo: url)
        let series = model.series.first { $0.device == "dev-b" }!
        // A chunk of several readings: a series at a 1 ms step must decode it.
        let start = series.chunks.first { $0.times.count >= 2 }!.times[0]
        try connection.execute(
            "UPDATE chunks SET data = $1 WHERE series_id = $2 AND start_ts = $3",
            parameters: [.bytes([0xFF, 1, 2]), .int(series.id), .int(start)])
        let pool = Self.makePool(url)
        defer { pool.close() }
        do {
            _ = try pool.withReader { (reader) throws(StoreError) in
                try reader.readings(
                    deviceID: "dev-b", sensor: nil, lowMs: .min, highMs: .max, limit: 10, order: .ascending, after: nil)
            }
            Issue.record("a damaged chunk was read")
        } catch {
            guard case .postgres(let state, _, let message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(state == "XX001")
            #expect(message.contains("series \(series.id) chunk at \(start)"))
        }
        // The connection went back to the pool healthy: the next query works.
        let latest = try pool.withReader { (reader) throws(StoreError) in try reader.latest(deviceID: "dev-b") }
        #expect(latest.count == 1)
        #expect(throws: StoreError.self) {
            try pool.withReader { (reader) throws(StoreError) in
                try reader.series(
                    deviceID: "dev-b", sensor: "temp", lowMs: .min, highMs: .max, stepMs: 1, aggregate: .sum)
            }
        }
    }

    @Test func readTransactionsAreReadOnly() throws {
        let (url, _) = try Self.makeFleet()
        let pool = Self.makePool(url)
        defer { pool.close() }
        do {
            _ = try pool.withReader { (reader) throws(StoreError) in
                try reader.inReadTransaction { (transaction) throws(StoreError) in
                    try transaction.query("DELETE FROM devices", operation: "try a write")
                }
            }
            Issue.record("a read transaction wrote")
        } catch {
            #expect(error == .postgres(sqlState: "25006", operation: "try a write", message: error.messageText))
        }
        let devices = try pool.withReader { (reader) throws(StoreError) in
            try reader.devices(namePrefix: "", limit: 100, after: "")
        }
        #expect(devices.count == 5)
    }

    @Test func aStatementPastTheTimeoutIsAStorageFailureAndTheConnectionIsKept() throws {
        let (url, _) = try Self.makeFleet()
        let pool = PostgresReadPool(connection: url, maxIdle: 1, statementTimeoutMs: 50, connectTimeoutSeconds: 5)
        defer { pool.close() }
        func backendPID() throws(StoreError) -> Int64 {
            try pool.withReader { (reader) throws(StoreError) in
                try reader.readAlone("SELECT pg_backend_pid()", operation: "pid")[0].int(0)
            }
        }
        let first = try backendPID()
        do {
            _ = try pool.withReader { (reader) throws(StoreError) in
                try reader.readAlone("SELECT pg_sleep(2)", operation: "sleep")
            }
            Issue.record("the statement timeout did not end the statement")
        } catch {
            guard case .storageFailure(_, let operation, let message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(operation == "sleep")
            #expect(message.contains("57014"))
        }
        #expect(try backendPID() == first, "the failed transaction was rolled back and the connection kept")
    }

    @Test func aConnectionEndedByTheServerIsReplaced() throws {
        let (url, _) = try Self.makeFleet()
        let pool = Self.makePool(url, maxIdle: 1)
        defer { pool.close() }
        func backendPID() throws(StoreError) -> Int64 {
            try pool.withReader { (reader) throws(StoreError) in
                try reader.readAlone("SELECT pg_backend_pid()", operation: "pid")[0].int(0)
            }
        }
        let first = try backendPID()
        #expect(try backendPID() == first, "an idle connection is reused")
        let admin = try PostgresConnection(connectingTo: url)
        // Ends the session and waits (up to 5 s) until it is gone.
        try admin.execute("SELECT pg_terminate_backend($1::int, 5000)", parameters: [.int(first)])
        // The idle connection was lost: the query runs again on a new connection, so the caller sees no error.
        let second = try backendPID()
        #expect(second != first)
        #expect(try backendPID() == second, "the new connection is kept")
        let devices = try pool.withReader { (reader) throws(StoreError) in
            try reader.devices(namePrefix: "", limit: 100, after: "")
        }
        #expect(devices.count == 5)
    }

    @Test func threadsQueryingAtOnceEachGetAConnectionOfTheirOwn() throws {
        let (url, model) = try Self.makeFleet()
        let pool = Self.makePool(url, maxIdle: 2)
        defer { pool.close() }
        let expected = model.latest(device: "dev-a")
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<20 {
                let latest = try? pool.withReader { (reader) throws(StoreError) in try reader.latest(deviceID: "dev-a")
                }
                if latest != expected { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        // At most maxIdle connections stay open afterwards.
        let admin = try PostgresConnection(connectingTo: url)
        let open = try admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        #expect(try open.rows[0].int(at: 0)! <= 2)
    }

    @Test func aConnectionLostDuringAQueryFailsItAsUnavailableAndIsDropped() throws {
        let (url, _) = try Self.makeFleet()
        let pool = Self.makePool(url, maxIdle: 1)
        defer { pool.close() }
        let admin = try PostgresConnection(connectingTo: url)
        var lostPID: Int64 = 0
        do {
            _ = try pool.withReader { (reader) throws(StoreError) in
                lostPID = try reader.readAlone("SELECT pg_backend_pid()", operation: "pid")[0].int(0)
                _ = try? admin.execute("SELECT pg_terminate_backend($1::int, 5000)", parameters: [.int(lostPID)])
                return try reader.latest(deviceID: "dev-a")
            }
            Issue.record("a query on an ended connection succeeded")
        } catch {
            #expect(error.isUnavailable, "\(error)")
        }
        let pid = try pool.withReader { (reader) throws(StoreError) in
            try reader.readAlone("SELECT pg_backend_pid()", operation: "pid")[0].int(0)
        }
        #expect(pid != lostPID)
    }

    @Test func aClosedPoolRefusesAndAnUnreachableServerIsAStorageFailure() throws {
        let (url, _) = try Self.makeFleet()
        let pool = Self.makePool(url)
        _ = try pool.withReader { (reader) throws(StoreError) in try reader.counterCollectors() }
        pool.close()
        #expect(throws: StoreError.closed) {
            try pool.withReader { (reader) throws(StoreError) in try reader.counterCollectors() }
        }
        let port = try TestPostgresServer.freePort()
        let unreachable = PostgresReadPool(
            connection: "postgresql://fleetwire@127.0.0.1:\(port)/none", maxIdle: 1, statementTimeoutMs: 1_000,
            connectTimeoutSeconds: 2)
        do {
            _ = try unreachable.withReader { (reader) throws(StoreError) in try reader.counterCollectors() }
            Issue.record("connected to nothing")
        } catch {
            #expect(error.isUnavailable, "\(error)")
        }
    }
}

extension StoreError {
    /// The message of a `.postgres` error (tests compare the other fields).
    var messageText: String {
        if case .postgres(_, _, let message) = self { return message }
        return ""
    }
}
