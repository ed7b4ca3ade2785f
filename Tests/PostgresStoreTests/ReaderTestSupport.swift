import Chunks
import Foundation
import Postgres
import PostgresTestSupport
import SplitMix
import Storage
import Telemetry

@testable import PostgresStore

// A fresh database with the schema applied and rows written directly (no writer), and a brute-force model of what
// every query must answer, computed from the same readings.

/// Applies schema/postgresql.sql, statement by statement, to a fresh database and returns its URL.
func makeSchemaDatabase() throws -> String {
    let url = try TestPostgresServer.required().makeDatabase()
    let connection = try PostgresConnection(connectingTo: url)
    for statement in try schemaStatements() { try connection.execute(statement) }
    return url
}

/// The statements of schema/postgresql.sql: comments removed, split at each `;` that ends a line.
func schemaStatements() throws -> [String] {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("schema/postgresql.sql").path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var statements: [String] = []
    var current = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var code = Substring(line)
        if let comment = code.range(of: "--") { code = code[..<comment.lowerBound] }
        let trimmed = code.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { continue }
        current += trimmed + "\n"
        if trimmed.hasSuffix(";") {
            statements.append(String(current.dropLast(2)))
            current = ""
        }
    }
    return statements
}

/// One series of the model: its rows and its readings as they were cut into chunks.
struct ModelSeries {
    var id: Int64
    var device: String
    var sensor: String
    var exponent: Int32?
    /// The chunks, in time order, not overlapping.
    var chunks: [(times: [Int64], values: [Double])]

    var readings: [(ts: Int64, value: Double)] {
        chunks.flatMap { chunk in zip(chunk.times, chunk.values).map { ($0, $1) } }
    }
}

/// Devices, series and chunks written straight into the tables, and the answers queries must give.
struct ReaderModel {
    var devices: [DeviceSummary] = []
    var series: [ModelSeries] = []

    /// Writes a device row.
    mutating func addDevice(_ name: String, firstSeenMs: Int64, lastSeenMs: Int64, batches: Int64, lastSeq: UInt64) {
        devices.append(
            DeviceSummary(
                name: name, firstSeenMs: firstSeenMs, lastSeenMs: lastSeenMs, readings: 0, batches: batches,
                lastSeq: lastSeq, sensors: []))
    }

    /// Stores the model's rows in `connection`'s database.
    func store(on connection: PostgresConnection) throws {
        for device in devices {
            let readings = series.filter { $0.device == device.name }.reduce(0) { $0 + $1.readings.count }
            try connection.execute(
                """
                INSERT INTO devices (name, first_seen_ms, last_seen_ms, readings, batches, last_seq)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                parameters: [
                    .text(device.name), .int(device.firstSeenMs), .int(device.lastSeenMs), .int(Int64(readings)),
                    .int(device.batches), .int(Int64(bitPattern: device.lastSeq)),
                ])
        }
        for entry in series {
            try connection.execute(
                "INSERT INTO series (id, device, sensor, exponent, readings, last_ts) VALUES ($1, $2, $3, $4, $5, $6)",
                parameters: [
                    .int(entry.id), .text(entry.device), .text(entry.sensor), entry.exponent.map { .int(Int64($0)) },
                    .int(Int64(entry.readings.count)), entry.chunks.last.map { .int($0.times.last!) },
                ])
            for chunk in entry.chunks {
                try insertChunk(PreparedChunk(chunk.times[...], chunk.values[...]), seriesID: entry.id, on: connection)
            }
        }
    }

    /// The expected summaries (readings and sensors filled in from the series), by name in byte order.
    var expectedDevices: [DeviceSummary] {
        devices.map { device in
            var summary = device
            let owned = series.filter { $0.device == device.name }
            summary.readings = Int64(owned.reduce(0) { $0 + $1.readings.count })
            summary.sensors = owned.map(\.sensor).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            return summary
        }.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// Every reading of a device (one sensor or all), sorted by (ts, sensor) in `order`.
    func allReadings(device: String, sensor: String?, order: ReadingOrder) -> [Reading] {
        var rows: [Reading] = []
        for entry in series where entry.device == device && (sensor == nil || entry.sensor == sensor) {
            rows += entry.readings.map { Reading(sensor: entry.sensor, ts: $0.ts, value: $0.value) }
        }
        rows.sort { ($0.ts, $0.sensor) < ($1.ts, $1.sensor) }
        return order == .ascending ? rows : rows.reversed()
    }

    /// The page the store must answer (see ChunkPageReader's rule).
    func page(
        device: String, sensor: String?, lowMs: Int64, highMs: Int64, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?
    ) -> ReadingPage {
        let rows = allReadings(device: device, sensor: sensor, order: order).filter { reading in
            guard reading.ts >= lowMs && reading.ts <= highMs else { return false }
            guard let cursor else { return true }
            return order == .ascending
                ? (reading.ts, reading.sensor) > (cursor.ts, cursor.sensor)
                : (reading.ts, reading.sensor) < (cursor.ts, cursor.sensor)
        }
        guard rows.count > limit else { return ReadingPage(readings: rows, nextCursor: nil) }
        let page = Array(rows.prefix(limit))
        let last = page[page.count - 1]
        return ReadingPage(readings: page, nextCursor: ReadingCursor(ts: last.ts, sensor: last.sensor, order: order))
    }

    /// The buckets the store must answer, reading by reading.
    func buckets(
        device: String, sensor: String, lowMs: Int64, highMs: Int64, stepMs: Int64, aggregate: SeriesAggregate
    ) -> [SeriesBucket] {
        guard let entry = series.first(where: { $0.device == device && $0.sensor == sensor }) else { return [] }
        var grouped: [Int64: [(ts: Int64, value: Double)]] = [:]
        for reading in entry.readings where reading.ts >= lowMs && reading.ts <= highMs {
            let remainder = reading.ts % stepMs
            let start = remainder >= 0 ? reading.ts - remainder : reading.ts - remainder - stepMs
            grouped[start, default: []].append(reading)
        }
        return grouped.keys.sorted().map { start in
            let readings = grouped[start]!
            let values = readings.map(\.value)
            let value: Double =
                switch aggregate {
                case .avg: values.reduce(0, +) / Double(values.count)
                case .min: values.min()!
                case .max: values.max()!
                case .sum: values.reduce(0, +)
                case .count: Double(values.count)
                case .last: readings.max { $0.ts < $1.ts }!.value
                }
            return SeriesBucket(startMs: start, value: value, count: values.count)
        }
    }

    /// The latest reading per sensor of a device, by sensor.
    func latest(device: String) -> [SensorLatest] {
        series.filter { $0.device == device && !$0.chunks.isEmpty }
            .sorted { Array($0.sensor.utf8).lexicographicallyPrecedes(Array($1.sensor.utf8)) }
            .map { entry in
                let last = entry.readings.last!
                return SensorLatest(
                    sensor: entry.sensor, exponent: entry.exponent, ts: last.ts, value: last.value,
                    readings: Int64(entry.readings.count))
            }
    }
}

/// Inserts one chunk row (a NaN sum, +inf plus −inf, as NULL).
func insertChunk(_ chunk: PreparedChunk, seriesID: Int64, on connection: PostgresConnection) throws {
    let summary = chunk.summary
    let sum = summary.sum.value
    try connection.execute(
        """
        INSERT INTO chunks (series_id, start_ts, end_ts, count, value_min, value_max, value_sum, value_first,
            value_last, data)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        parameters: [
            .int(seriesID), .int(summary.startTs), .int(summary.endTs), .int(summary.count), .double(summary.min),
            .double(summary.max), sum.isNaN ? nil : .double(sum), .double(summary.first), .double(summary.last),
            .bytes(chunk.blob),
        ])
}

/// Random readings cut into chunks of random sizes: `count` readings from `startTs`, gaps of 1…`maxGapMs`,
/// values on a 0.01 grid, chunks of 1…`maxChunk` readings.
func makeChunks(
    _ random: inout SplitMix64, startTs: Int64, count: Int, maxGapMs: Int64, maxChunk: Int
) -> [(times: [Int64], values: [Double])] {
    var times: [Int64] = []
    var values: [Double] = []
    var ts = startTs
    for _ in 0..<count {
        times.append(ts)
        values.append(Double(Int64(random.next() % 20_001) - 10_000) / 100)
        ts += 1 + Int64(random.next() % UInt64(maxGapMs))
    }
    var chunks: [(times: [Int64], values: [Double])] = []
    var start = 0
    while start < times.count {
        let end = min(times.count, start + 1 + Int(random.next() % UInt64(maxChunk)))
        chunks.append((Array(times[start..<end]), Array(values[start..<end])))
        start = end
    }
    return chunks
}

/// Every chunk row of a series, decoded, in order: (start, end, count, times, values).
func storedChunks(
    seriesID: Int64, on connection: PostgresConnection
) throws -> [(start: Int64, end: Int64, count: Int64, times: [Int64], values: [Double])] {
    let result = try connection.execute(
        "SELECT start_ts, end_ts, count, data FROM chunks WHERE series_id = $1 ORDER BY start_ts",
        parameters: [.int(seriesID)])
    return try result.rows.map { row in
        let decoded = try ChunkCodec.decode(try row.bytes(at: 3)!)
        return (try row.int(at: 0)!, try row.int(at: 1)!, try row.int(at: 2)!, decoded.timestamps, decoded.values)
    }
}

/// True when two doubles agree to within a relative 1e-9 (sums differ in their last bits by the cut into chunks).
func isClose(_ a: Double, _ b: Double) -> Bool {
    if a == b || (a.isNaN && b.isNaN) { return true }
    return abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))
}

/// True when two bucket lists have the same starts and counts and close values.
func isClose(_ a: [SeriesBucket], _ b: [SeriesBucket]) -> Bool {
    a.count == b.count
        && zip(a, b).allSatisfy { $0.startMs == $1.startMs && $0.count == $1.count && isClose($0.value, $1.value) }
}
