// The deny list (`revoked_devices`), edited by `collector devices revoke|restore` in a process of its own while a
// collector may be running on the same file, and read by the running collector every 2 s.
//
// Concurrency: the file is in WAL mode while a collector has it open, so this connection's reads never block and
// its one short write transaction waits for the collector's writer through the busy timeout (default 5 s) instead
// of failing with SQLITE_BUSY. Revoking an already revoked device keeps its first revocation time.

import Foundation
import Storage

/// A connection to a store file for managing its deny list from outside the collector.
public final class DeviceRevocations {
    private let database: Database

    /// Opens the existing database at `path` (bringing an older schema up to date); throws `.cannotOpen` when there
    /// is no file there, so a mistyped path is not silently created.
    public init(path: String, busyTimeoutMs: Int = 5_000) throws(StoreError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .cannotOpen(path: path, reason: "no database file there (start the collector once to create it)")
        }
        database = try Database(path: path, mode: .readWrite, busyTimeoutMs: busyTimeoutMs)
        try SchemaMigration.migrate(database)
    }

    /// Revokes `devices` at `atMs`; returns those that were not revoked before.
    public func revoke(_ devices: [String], atMs: Int64) throws(StoreError) -> [String] {
        let insert = try database.prepare(
            "INSERT INTO revoked_devices (device, revoked_at_ms) VALUES (?1, ?2) ON CONFLICT (device) DO NOTHING",
            operation: "revoke device")
        return try inTransaction { () throws(StoreError) -> [String] in
            var added: [String] = []
            for device in devices {
                try insert.bind(device, at: 1)
                insert.bind(atMs, at: 2)
                try insert.run()
                if database.changes > 0 { added.append(device) }
            }
            return added
        }
    }

    /// Takes `devices` off the deny list; returns those that were on it.
    public func restore(_ devices: [String]) throws(StoreError) -> [String] {
        let delete = try database.prepare("DELETE FROM revoked_devices WHERE device = ?1", operation: "restore device")
        return try inTransaction { () throws(StoreError) -> [String] in
            var removed: [String] = []
            for device in devices {
                try delete.bind(device, at: 1)
                try delete.run()
                if database.changes > 0 { removed.append(device) }
            }
            return removed
        }
    }

    /// The deny list, by device id.
    public func list() throws(StoreError) -> [RevokedDevice] {
        let select = try database.prepare(Self.selectSQL, operation: "list revoked devices")
        defer { select.reset() }
        var result: [RevokedDevice] = []
        while try select.step() { result.append(Self.row(select)) }
        return result
    }

    static let selectSQL = "SELECT device, revoked_at_ms FROM revoked_devices ORDER BY device"

    static func row(_ statement: Statement) -> RevokedDevice {
        RevokedDevice(device: statement.text(at: 0), revokedAtMs: statement.int64(at: 1))
    }

    private func inTransaction<Result>(_ body: () throws(StoreError) -> Result) throws(StoreError) -> Result {
        try database.execute("BEGIN IMMEDIATE", operation: "begin deny-list change")
        do {
            let result = try body()
            try database.execute("COMMIT", operation: "commit deny-list change")
            return result
        } catch {
            if database.isInTransaction { try? database.execute("ROLLBACK", operation: "roll back deny-list change") }
            throw error
        }
    }
}

extension TelemetryStore {
    /// The deny list as committed now (read on a pooled read-only connection).
    public func revokedDevices() throws(StoreError) -> [RevokedDevice] {
        try readPool.withConnection { (connection) throws(StoreError) -> [RevokedDevice] in
            let select = try connection.statement(DeviceRevocations.selectSQL, operation: "list revoked devices")
            var result: [RevokedDevice] = []
            try connection.forEachRow(select) { row in result.append(DeviceRevocations.row(row)) }
            return result
        }
    }
}
