import Foundation
import Storage
import Testing

@testable import Chunks
@testable import Store

/// The `readings` virtual table over the chunks (`collector sql`): every pushed-down constraint returns exactly the
/// rows plain filtering would and decodes only the chunks that overlap the range; rows come out in (device,
/// sensor, ts) order; values come back bit for bit; damage is an error naming the chunk, never a crash.
struct ReadingsVirtualTableTests {
    /// One chunk row to write directly: `blob` replaces the encoded readings (damage), keeping the time range.
    struct FixtureChunk {
        var device: String
        var sensor: String
        var timestamps: [Int64]
        var values: [Double]
        var blob: [UInt8]? = nil

        /// Readings every `step` ms from `start` to `end` inclusive, valued ts / 100 + 0.25.
        static func range(_ device: String, _ sensor: String, _ start: Int64, _ end: Int64, step: Int64 = 100)
            -> FixtureChunk
        {
            let timestamps = Array(stride(from: start, through: end, by: Int(step)))
            return FixtureChunk(
                device: device, sensor: sensor, timestamps: timestamps,
                values: timestamps.map { Double($0) / 100 + 0.25 })
        }
    }

    /// dev-a/temp: three chunks [1000, 1900], [2000, 2900], [5000, 5900] (a gap from 3000 to 4900);
    /// dev-a/hum: one chunk [1000, 2900]; dev-b/temp: one chunk [1500, 2400]. Readings every 100 ms.
    static let standard: [FixtureChunk] = [
        .range("dev-a", "temp", 1000, 1900), .range("dev-a", "temp", 2000, 2900), .range("dev-a", "temp", 5000, 5900),
        .range("dev-a", "hum", 1000, 2900), .range("dev-b", "temp", 1500, 2400),
    ]

    /// A store file at the current schema, made by the store's own migration (as `TelemetryStore` makes a new file,
    /// without needing its writer), with `chunks` (and their devices and series) inserted directly.
    static func makeStoreFile(_ directory: TemporaryDirectory, _ chunks: [FixtureChunk] = standard) throws -> String {
        let path = directory.path()
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: 1_000)
        try SchemaMigration.migrate(database)
        var sql = "BEGIN;\n"
        for chunk in chunks {
            let blob = chunk.blob ?? ChunkCodec.encode(timestamps: chunk.timestamps, values: chunk.values)
            let hex = blob.map { String(format: "%02X", $0) }.joined()
            let real = { (value: Double) in value.isFinite ? "\(value)" : "0" }
            sql += """
                INSERT OR IGNORE INTO devices (name, first_seen_ms, last_seen_ms) VALUES ('\(chunk.device)', 0, 0);
                INSERT OR IGNORE INTO series (device_id, sensor)
                    SELECT id, '\(chunk.sensor)' FROM devices WHERE name = '\(chunk.device)';
                INSERT INTO chunks (series_id, start_ts, end_ts, count, value_min, value_max, value_sum, value_first,
                                    value_last, data)
                    SELECT s.id, \(chunk.timestamps.first!), \(chunk.timestamps.last!), \(chunk.timestamps.count),
                           \(real(chunk.values.min()!)), \(real(chunk.values.max()!)), \(real(chunk.values.reduce(0, +))),
                           \(real(chunk.values.first!)), \(real(chunk.values.last!)), X'\(hex)'
                    FROM series AS s JOIN devices AS d ON d.id = s.device_id
                    WHERE d.name = '\(chunk.device)' AND s.sensor = '\(chunk.sensor)';

                """
        }
        try database.execute(sql + "COMMIT;", operation: "write fixture chunks")
        return path
    }

    /// The fixture's readings as "device|sensor|ts|value" rows in (device, sensor, ts) order, filtered.
    static func expected(
        _ chunks: [FixtureChunk] = standard, device: String? = nil, sensor: String? = nil,
        from: Int64 = .min, to: Int64 = .max
    ) -> [String] {
        var rows: [(String, String, Int64, Double)] = []
        for chunk in chunks where (device ?? chunk.device) == chunk.device && (sensor ?? chunk.sensor) == chunk.sensor {
            for (ts, value) in zip(chunk.timestamps, chunk.values) where (from...to).contains(ts) {
                rows.append((chunk.device, chunk.sensor, ts, value))
            }
        }
        return rows.sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }.map { "\($0.0)|\($0.1)|\($0.2)|\($0.3)" }
    }

    static func lines(_ result: SQLResult) -> [String] {
        result.rows.map { row in row.map { $0.text ?? "" }.joined(separator: "|") }
    }

    @Test func aFullScanReturnsEveryReadingInDeviceSensorTsOrder() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.makeStoreFile(directory)
        let result = try SQLConsole.run(path: path, sql: "SELECT device, sensor, ts, value FROM readings")
        #expect(result.columns == ["device", "sensor", "ts", "value"])
        #expect(Self.lines(result) == Self.expected())
        #expect(result.decodedChunks == 5)
    }

    /// A WHERE clause on dev-a's readings (or all), the range of ts it selects, and the chunks it may decode.
    struct PushdownCase: Sendable, CustomStringConvertible {
        var condition: String
        var device: String?
        var sensor: String?
        var from: Int64 = .min
        var to: Int64 = .max
        var decodedChunks: Int
        var description: String { condition }
    }

    static let pushdownCases: [PushdownCase] = [
        .init(condition: "device = 'dev-a'", device: "dev-a", decodedChunks: 4),
        .init(condition: "sensor = 'hum'", sensor: "hum", decodedChunks: 1),
        .init(condition: "device = 'dev-a' AND sensor = 'temp'", device: "dev-a", sensor: "temp", decodedChunks: 3),
        // ts =: one chunk, and none when the time falls in a gap (the chunk before it ends earlier).
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts = 2500", device: "dev-a", sensor: "temp",
            from: 2500, to: 2500, decodedChunks: 1),
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts = 3000", device: "dev-a", sensor: "temp",
            from: 3000, to: 3000, decodedChunks: 0),
        // Each bound, strict and not, at a chunk's last reading and at the next chunk's first.
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts > 2900", device: "dev-a", sensor: "temp",
            from: 2901, decodedChunks: 1),
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts >= 2900", device: "dev-a", sensor: "temp",
            from: 2900, decodedChunks: 2),
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts < 2000", device: "dev-a", sensor: "temp",
            to: 1999, decodedChunks: 1),
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts <= 2000", device: "dev-a", sensor: "temp",
            to: 2000, decodedChunks: 2),
        // The low bound inside a chunk: that chunk starts before it and is still read.
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts BETWEEN 1550 AND 2050", device: "dev-a",
            sensor: "temp", from: 1550, to: 2050, decodedChunks: 2),
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts >= 2550 AND ts < 2650", device: "dev-a",
            sensor: "temp", from: 2550, to: 2649, decodedChunks: 1),
        // A range between two chunks decodes nothing.
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts > 3000 AND ts < 4900", device: "dev-a",
            sensor: "temp", from: 3001, to: 4899, decodedChunks: 0),
        // Real bounds are rounded outwards; SQLite re-checks them.
        .init(
            condition: "device = 'dev-a' AND sensor = 'temp' AND ts > 2899.5 AND ts <= 5000.5", device: "dev-a",
            sensor: "temp", from: 2900, to: 5000, decodedChunks: 2),
        // A ts range alone, over every series: only chunks reaching it.
        .init(condition: "ts >= 5000", from: 5000, decodedChunks: 1),
        .init(condition: "ts >= 2400 AND ts <= 2400", from: 2400, to: 2400, decodedChunks: 3),
        // Unknown device or sensor: no rows, nothing decoded.
        .init(condition: "device = 'nope'", device: "nope", decodedChunks: 0),
        .init(condition: "sensor = 'nope'", sensor: "nope", decodedChunks: 0),
        .init(condition: "device = 'dev-b' AND sensor = 'hum'", device: "dev-b", sensor: "hum", decodedChunks: 0),
    ]

    @Test(arguments: pushdownCases)
    func aPushedDownConstraintDecodesOnlyTheChunksItNeeds(_ test: PushdownCase) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.makeStoreFile(directory)
        let result = try SQLConsole.run(
            path: path, sql: "SELECT device, sensor, ts, value FROM readings WHERE \(test.condition)")
        #expect(
            Self.lines(result)
                == Self.expected(
                    device: test.device, sensor: test.sensor, from: test.from,
                    to: test.to))
        #expect(result.decodedChunks == test.decodedChunks)
    }

    @Test func descendingOrderComesOutReversed() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.makeStoreFile(directory)
        let all = try SQLConsole.run(
            path: path, sql: "SELECT device, sensor, ts, value FROM readings ORDER BY device DESC, sensor DESC, ts DESC"
        )
        #expect(Self.lines(all) == Self.expected().reversed())
        let latest = try SQLConsole.run(
            path: path,
            sql:
                "SELECT ts FROM readings WHERE device = 'dev-a' AND sensor = 'temp' AND ts < 5100 ORDER BY ts DESC LIMIT 3"
        )
        #expect(Self.lines(latest) == ["5000", "2900", "2800"])
        // LIMIT stops the scan: the two newest chunks answer, the oldest is never decoded.
        #expect(latest.decodedChunks == 2)
        // An order the table does not produce is sorted by SQLite.
        let byValue = try SQLConsole.run(
            path: path, sql: "SELECT ts FROM readings WHERE device = 'dev-b' ORDER BY value DESC LIMIT 2")
        #expect(Self.lines(byValue) == ["2400", "2300"])
        let bySensorThenTs = try SQLConsole.run(
            path: path, sql: "SELECT sensor, ts FROM readings WHERE device = 'dev-a' ORDER BY ts, sensor LIMIT 3")
        #expect(Self.lines(bySensorThenTs) == ["hum|1000", "temp|1000", "hum|1100"])
        // SQLite sorts only what the table does not deliver in order.
        let plan = { (sql: String) in
            try Self.lines(SQLConsole.run(path: path, sql: "EXPLAIN QUERY PLAN " + sql)).joined(separator: "\n")
        }
        #expect(
            !(try plan("SELECT ts FROM readings WHERE device = 'a' AND sensor = 'b' ORDER BY ts DESC"))
                .contains("TEMP B-TREE"))
        #expect(!(try plan("SELECT ts FROM readings ORDER BY device, sensor")).contains("TEMP B-TREE"))
        #expect(try plan("SELECT ts FROM readings WHERE device = 'a' ORDER BY ts").contains("TEMP B-TREE"))
    }

    @Test func aDeviceWithSeveralSensorsJoinsAndGroups() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.makeStoreFile(directory)
        let grouped = try SQLConsole.run(
            path: path,
            sql: "SELECT sensor, count(*), min(ts), max(ts) FROM readings WHERE device = 'dev-a' GROUP BY sensor")
        #expect(Self.lines(grouped) == ["hum|20|1000|2900", "temp|30|1000|5900"])
        // A join hands the device in from the outer table: one filtered scan per device.
        let joined = try SQLConsole.run(
            path: path,
            sql: """
                SELECT d.name, count(r.ts) FROM devices AS d JOIN readings AS r ON r.device = d.name
                WHERE r.ts IN (1500, 2500) GROUP BY d.name ORDER BY d.name
                """)
        #expect(Self.lines(joined) == ["dev-a|4", "dev-b|1"])
    }

    @Test func valuesComeBackBitForBit() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let values: [Double] = [
            0.1 + 0.2, -0.0, 1e300, .leastNonzeroMagnitude, Double.leastNormalMagnitude / 3, -1.5, .pi, 0,
        ]
        let timestamps: [Int64] = (0..<Int64(values.count)).map { 1_700_000_000_000 + $0 * 7 }
        #expect(ChunkCodec.decimalExponent(of: values) == nil, "the XOR mode is under test")
        let chunk = FixtureChunk(device: "bits", sensor: "x", timestamps: timestamps, values: values)
        let path = try Self.makeStoreFile(directory, [chunk])
        let result = try SQLConsole.run(path: path, sql: "SELECT ts, value FROM readings ORDER BY ts")
        let read = result.rows.map { row -> (Int64, UInt64) in
            guard case .integer(let ts) = row[0], case .real(let value) = row[1] else { return (0, 0) }
            return (ts, value.bitPattern)
        }
        #expect(read.map(\.0) == timestamps)
        #expect(read.map(\.1) == values.map(\.bitPattern))
        // Text form round-trips too (what `collector sql` prints).
        #expect(result.rows.map { Double($0[1].text!)!.bitPattern } == values.map(\.bitPattern))
    }

    @Test func aDamagedChunkFailsTheQueryNamingItButOnlyWhenRead() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var damaged = FixtureChunk.range("dev-a", "temp", 9000, 9900)
        damaged.blob = [1, 10, 0x80]  // version 1, 10 readings, then a varint cut short
        let path = try Self.makeStoreFile(directory, [.range("dev-a", "temp", 1000, 1900), damaged])
        // Outside the queried range, the damaged chunk is never decoded.
        let before = try SQLConsole.run(path: path, sql: "SELECT count(*) FROM readings WHERE ts < 5000")
        #expect(Self.lines(before) == ["10"])
        #expect(before.decodedChunks == 1)
        #expect {
            try SQLConsole.run(path: path, sql: "SELECT count(*) FROM readings")
        } throws: { error in
            let text = "\(error)"
            return text.contains("damaged chunk of series 1") && text.contains("dev-a") && text.contains("temp")
                && text.contains("starting at ts 9000")
        }
    }

    @Test func writesAreRefusedAndNothingIsCreated() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.makeStoreFile(directory)
        #expect {
            try SQLConsole.run(
                path: path, sql: "INSERT INTO devices (name, first_seen_ms, last_seen_ms) VALUES ('x', 0, 0)")
        } throws: { error in
            "\(error)".contains("attempt to write a readonly database")
        }
        #expect {
            try SQLConsole.run(path: path, sql: "DELETE FROM readings")
        } throws: { error in
            "\(error)".contains("readings may not be modified")
        }
        let missing = directory.path("missing.db")
        #expect(throws: StoreError.cannotOpen(path: missing, reason: "no such database file")) {
            try SQLConsole.run(path: missing, sql: "SELECT 1")
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func readingsViewAndSeveralStatementsWork() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.makeStoreFile(directory)
        let view = try SQLConsole.run(path: path, sql: "SELECT count(*) FROM readings_view WHERE device = 'dev-b'")
        #expect(Self.lines(view) == ["10"])
        #expect(view.decodedChunks == 1)
        let last = try SQLConsole.run(path: path, sql: "SELECT 1; SELECT sensor FROM series ORDER BY sensor; -- done")
        #expect(Self.lines(last) == ["hum", "temp", "temp"])
        let nulls = try SQLConsole.run(path: path, sql: "SELECT NULL AS missing, X'00FF' AS bytes")
        #expect(nulls.columns == ["missing", "bytes"])
        #expect(nulls.rows == [[.null, .blob([0, 255])]])
        #expect(nulls.rows[0].map(\.text) == [nil, "X'00FF'"])
    }
}
