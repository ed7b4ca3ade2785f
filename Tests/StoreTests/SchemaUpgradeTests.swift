// A database file written by the version-1 or version-2 collector (schema texts kept verbatim in
// Fixtures/schema-v1.sql and schema-v2.sql) is brought to the current schema on open, keeps its data, and ends up
// with exactly the tables, columns and SQL a new file gets.

import Foundation
import Testing

import Storage
import Telemetry
@testable import Store

@Suite struct SchemaUpgradeTests {
    static let versionOneSchema = try! String(
        contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/schema-v1.sql"), encoding: .utf8)

    /// A version-1 file holding one device with one reading and its batch.
    static func makeVersionOneFile(at path: String) throws {
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: 1_000)
        try database.execute(versionOneSchema, operation: "apply version 1")
        try database.execute(
            """
            INSERT INTO devices (id, name, first_seen_ms, last_seen_ms, readings, batches, last_seq)
                VALUES (1, 'old-device', 10, 20, 1, 1, 7);
            INSERT INTO series (id, device_id, sensor, exponent, readings) VALUES (1, 1, 'temperature', -2, 1);
            INSERT INTO readings (series_id, ts, value) VALUES (1, 1732190000000, 21.5);
            INSERT INTO batches (device_id, seq, committed_ms, readings) VALUES (1, 7, 20, 1);
            """, operation: "seed version 1")
    }

    static let versionTwoSchema = try! String(
        contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/schema-v2.sql"), encoding: .utf8)

    /// A version-2 file holding two bandwidth rows (before TLS and segment columns) and a revoked device.
    static func makeVersionTwoFile(at path: String) throws {
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: 1_000)
        try database.execute(versionTwoSchema, operation: "apply version 2")
        try database.execute(
            """
            INSERT INTO bandwidth (protocol, device, bytes_in, bytes_out, header_bytes_in, header_bytes_out,
                framing_bytes_in, framing_bytes_out, payload_bytes_in, payload_bytes_out, readings, batches,
                duplicate_batches, calls, connections, errors, updated_ms)
                VALUES ('grpc-stream', 'dev-1', 600, 150, 100, 50, 200, 60, 300, 40, 30, 3, 1, 2, 1, 0, 5000),
                       ('h2c', '', 24, 9, 0, 0, 24, 9, 0, 0, 0, 0, 0, 0, 1, 1, 6000);
            INSERT INTO revoked_devices (device, revoked_at_ms) VALUES ('gone', 7);
            INSERT INTO devices (id, name, first_seen_ms, last_seen_ms, readings, batches, last_seq)
                VALUES (1, 'dev-1', 10, 20, 3, 1, 4);
            INSERT INTO series (id, device_id, sensor, exponent, readings) VALUES (1, 1, 'temperature', -1, 3);
            INSERT INTO readings (series_id, ts, value) VALUES (1, 1000, 20.5), (1, 2000, 20.75), (1, 4000, -3.0);
            INSERT INTO batches (device_id, seq, committed_ms, readings) VALUES (1, 4, 20, 3);
            """, operation: "seed version 2")
    }

    /// Every schema object as (type, name, SQL), the SQL with runs of whitespace collapsed.
    static func schemaObjects(_ path: String) throws -> [String] {
        let database = try Database(path: path, mode: .readOnly, busyTimeoutMs: 1_000)
        let select = try database.prepare(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name", operation: "test")
        defer { select.reset() }
        var objects: [String] = []
        while try select.step() {
            let sql = select.text(at: 2).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            objects.append("\(select.text(at: 0)) \(select.text(at: 1)): \(sql)")
        }
        return objects
    }

    @Test func versionOneFileIsUpgradedKeepingItsData() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let old = directory.path("old.db")
        try Self.makeVersionOneFile(at: old)
        #expect(try RawConnection(path: old).integer("PRAGMA user_version") == 1)

        let store = try TelemetryStore(path: old)
        #expect(try store.device("old-device")?.lastSeq == 7)
        #expect(try store.revokedDevices() == [])
        #expect(
            try store.readings(deviceID: "old-device", limit: 10).readings
                == [Reading(sensor: "temperature", ts: 1_732_190_000_000, value: 21.5)])
        store.close()
        let raw = try RawConnection(path: old)
        #expect(try raw.integer("PRAGMA user_version") == SchemaSQL.version)

        let fresh = directory.path("new.db")
        try TelemetryStore(path: fresh).close()
        #expect(try Self.schemaObjects(old) == Self.schemaObjects(fresh))
    }

    @Test func versionTwoFileIsUpgradedKeepingItsBandwidthRows() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let old = directory.path("old.db")
        try Self.makeVersionTwoFile(at: old)
        #expect(try RawConnection(path: old).integer("PRAGMA user_version") == 2)

        let store = try TelemetryStore(path: old)
        let rows = try store.counters()
        #expect(
            rows == [
                CounterRow(
                    totals: CounterDelta(
                        protocolName: "grpc-stream", device: "dev-1", bytesIn: 600, bytesOut: 150, headerBytesIn: 100,
                        headerBytesOut: 50, framingBytesIn: 200, framingBytesOut: 60, payloadBytesIn: 300,
                        payloadBytesOut: 40, readings: 30, batches: 3, duplicateBatches: 1, calls: 2, connections: 1),
                    updatedMs: 5_000),
                CounterRow(
                    totals: CounterDelta(
                        protocolName: "h2c", bytesIn: 24, bytesOut: 9, framingBytesIn: 24, framingBytesOut: 9,
                        connections: 1, errors: 1),
                    updatedMs: 6_000),
            ])
        #expect(try store.revokedDevices().map(\.device) == ["gone"])
        // Its readings moved into a chunk (2 → 3 → 4), and the batch is still known.
        #expect(
            try store.readings(deviceID: "dev-1", limit: 10).readings.map { "\($0.ts) \($0.value)" }
                == ["1000 20.5", "2000 20.75", "4000 -3.0"])
        #expect(try await store.store(deviceID: "dev-1", batch: makeBatch(seq: 4, [("temperature", [(5, 1)])])).isDuplicate)
        // The upgraded rows take the new counters.
        try await store.addCounters(
            [CounterDelta(protocolName: "grpc-stream", device: "dev-1", tlsHandshakeBytesIn: 5, segmentsOut: 4)],
            atMs: 8_000)
        let grown = try #require(try store.counters().first).totals
        #expect(grown.tlsHandshakeBytesIn == 5 && grown.segmentsOut == 4 && grown.readings == 30)
        store.close()
        #expect(try RawConnection(path: old).integer("PRAGMA user_version") == SchemaSQL.version)

        let fresh = directory.path("new.db")
        try TelemetryStore(path: fresh).close()
        #expect(try Self.schemaObjects(old) == Self.schemaObjects(fresh))
    }

    @Test func theRevocationToolUpgradesAVersionOneFileToo() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        try Self.makeVersionOneFile(at: path)
        let revocations = try DeviceRevocations(path: path)
        #expect(try revocations.revoke(["old-device"], atMs: 5) == ["old-device"])
        #expect(try RawConnection(path: path).integer("PRAGMA user_version") == SchemaSQL.version)
    }

    static let versionThreeSchema = try! String(
        contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/schema-v3.sql"), encoding: .utf8)

    /// A version-3 file written row by row like the version-3 collector did: `readings` per (sensor, ts).
    static func makeVersionThreeFile(at path: String, readings: [String: [(Int64, Double)]]) throws {
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: 1_000)
        try database.execute(versionThreeSchema, operation: "apply version 3")
        let total = readings.values.reduce(0) { $0 + $1.count }
        try database.execute(
            """
            BEGIN;
            INSERT INTO devices (id, name, first_seen_ms, last_seen_ms, readings, batches, last_seq)
                VALUES (1, 'v3-device', 10, 20, \(total), 1, 1);
            INSERT INTO batches (device_id, seq, committed_ms, readings) VALUES (1, 1, 20, \(total));
            """, operation: "seed version 3")
        let series = try database.prepare(
            "INSERT INTO series (device_id, sensor, readings) VALUES (1, ?1, ?2)", operation: "seed series")
        let insert = try database.prepare(
            "INSERT INTO readings (series_id, ts, value) VALUES (?1, ?2, ?3)", operation: "seed readings")
        for (sensor, rows) in readings.sorted(by: { $0.key < $1.key }) {
            try series.bind(sensor, at: 1)
            series.bind(Int64(rows.count), at: 2)
            try series.run()
            insert.bind(database.lastInsertRowID, at: 1)
            for (ts, value) in rows {
                insert.bind(ts, at: 2)
                insert.bind(value, at: 3)
                try insert.run()
            }
        }
        try database.execute("COMMIT", operation: "seed version 3")
    }

    /// Version 3 → 4 moves every reading into chunks, bit for bit, cut at the chunk policy's bounds.
    @Test func versionThreeFileMovesItsReadingsIntoChunks() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let old = directory.path("old.db")
        let regular: [(Int64, Double)] = (0..<8_000).map { index -> (Int64, Double) in
            (1_700_000_000_000 + Int64(index) * 1_000, Double(index % 500) / 10)
        }
        let odd = incompressibleReadings(5_000).map { ($0.0 - 40_000, $0.1) }  // negative and irregular ts
        // (No −0.0: a version-3 REAL column kept it as integer 0.)
        let special: [(Int64, Double)] = [(1, -1e300), (2, .infinity), (3, 0.1 + 0.2), (4, .leastNonzeroMagnitude)]
        try Self.makeVersionThreeFile(at: old, readings: ["regular": regular, "odd": odd, "special": special])

        let store = try TelemetryStore(path: old)
        defer { store.close() }
        for (sensor, expected) in [("regular", regular), ("odd", odd), ("special", special)] {
            var read: [Reading] = []
            var cursor: ReadingCursor?
            repeat {
                let page = try store.readings(deviceID: "v3-device", sensor: sensor, limit: 3_000, after: cursor)
                read += page.readings
                cursor = page.nextCursor
            } while cursor != nil
            #expect(read.map(\.ts) == expected.map(\.0), "\(sensor): timestamps")
            #expect(read.map(\.value.bitPattern) == expected.map(\.1.bitPattern), "\(sensor): values bit for bit")
        }
        let raw = try RawConnection(path: old)
        #expect(try raw.integer("PRAGMA user_version") == SchemaSQL.version)
        // 8,000 readings at 1 Hz: cut by the hour into 3 chunks (3,600 + 3,600 + 800).
        #expect(
            try raw.rows(
                "SELECT c.count, c.end_ts - c.start_ts, 0 FROM chunks c JOIN series s ON s.id = c.series_id "
                    + "WHERE s.sensor = 'regular' ORDER BY c.start_ts"
            ).map(\.0) == ["3600", "3600", "800"])
        #expect(try raw.integer("SELECT sum(count) FROM chunks") == 13_004)
        #expect(try store.device("v3-device")?.readings == 13_004)
    }

    @Test func everyOlderVersionHasAnUpgradeStep() {
        // 3 → 4 moves data through the chunk codec (SchemaUpgradeToChunks), tested above.
        for version in Int32(1)..<3 {
            let step = SchemaUpgrades.steps[version]
            #expect(step?.contains("PRAGMA user_version = \(version + 1);") == true, "step from \(version)")
        }
    }
}
