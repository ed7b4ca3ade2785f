import Foundation
import Synchronization
import Telemetry

import Storage
@testable import Store

/// A fresh directory under the system temp directory. Tests remove it with `defer { directory.remove() }`:
/// explicitly, at the end of the scope, because Swift may end an object's life right after its last use, which
/// would delete the directory under a store that is still open.
struct TemporaryDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fleetwire-store-tests-\(UUID().uuidString)", isDirectory: true)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Deletes the directory and everything in it.
    func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    /// A path inside the directory (intermediate directories are not created).
    func path(_ name: String = "telemetry.db") -> String {
        url.appendingPathComponent(name).path
    }
}

/// A batch from `(sensor, [(ts, value)])` pairs.
func makeBatch(seq: UInt64, exponent: Int32? = nil, _ sensors: [(String, [(Int64, Double)])]) -> ReadingBatch {
    ReadingBatch(
        seq: seq,
        sensors: sensors.map { name, readings in
            SensorReadings(
                sensor: name, exponent: exponent, timestamps: readings.map(\.0), values: readings.map(\.1))
        })
}

/// A separate plain connection on the store's file, to check what is really committed. It reads the readings as
/// `collector sql` does: `readings` (the virtual table over the chunks) and `readings_view` are TEMP objects of this
/// connection, installed by `SQLConsole`.
struct RawConnection {
    let database: Database

    init(path: String) throws {
        database = try Database(path: path, mode: .readOnly, busyTimeoutMs: 1_000)
        _ = try SQLConsole.install(on: database)
    }

    /// The first column of the first row of `sql` as an integer (0 when there is no row).
    func integer(_ sql: String) throws -> Int64 {
        let statement = try database.prepare(sql, operation: "test query")
        defer { statement.reset() }
        return try statement.step() ? statement.int64(at: 0) : 0
    }

    /// Every row of `sql` as (text column 0, integer column 1, double column 2).
    func rows(_ sql: String) throws -> [(String, Int64, Double)] {
        let statement = try database.prepare(sql, operation: "test query")
        defer { statement.reset() }
        var rows: [(String, Int64, Double)] = []
        while try statement.step() {
            rows.append((statement.text(at: 0), statement.int64(at: 1), statement.double(at: 2)))
        }
        return rows
    }
}

/// Collects completion results from the writer thread.
final class ResultCollector<Value: Sendable>: Sendable {
    private let results = Mutex<[Value]>([])

    func append(_ value: Value) { results.withLock { $0.append(value) } }
    var values: [Value] { results.withLock { $0 } }
}

/// The brute-force model of what a store holds: first write wins per (device, sensor, ts).
struct ReferenceModel {
    /// device → sensor → ts → value
    var readings: [String: [String: [Int64: Double]]] = [:]
    var exponents: [String: [String: Int32]] = [:]

    mutating func apply(deviceID: String, batch: ReadingBatch) {
        for entry in batch.sensors where entry.count > 0 {
            for (ts, value) in zip(entry.timestamps, entry.values) where readings[deviceID]?[entry.sensor]?[ts] == nil {
                readings[deviceID, default: [:]][entry.sensor, default: [:]][ts] = value
            }
            if readings[deviceID]?[entry.sensor] == nil { readings[deviceID, default: [:]][entry.sensor] = [:] }
            if let exponent = entry.exponent, exponents[deviceID]?[entry.sensor] == nil {
                exponents[deviceID, default: [:]][entry.sensor] = exponent
            }
        }
    }

    /// The device's readings in [from, to), sorted by (ts, sensor).
    func sortedReadings(deviceID: String, sensor: String?, fromMs: Int64?, toMs: Int64?) -> [Reading] {
        var rows: [Reading] = []
        for (name, series) in readings[deviceID] ?? [:] where sensor == nil || sensor == name {
            for (ts, value) in series where ts >= (fromMs ?? .min) && (toMs == nil || ts < toMs!) {
                rows.append(Reading(sensor: name, ts: ts, value: value))
            }
        }
        return rows.sorted { ($0.ts, $0.sensor) < ($1.ts, $1.sensor) }
    }
}
