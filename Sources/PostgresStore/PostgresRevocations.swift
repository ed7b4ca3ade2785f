import Postgres
import Storage

// `collector devices revoke|restore|revoked` on a PostgreSQL database: the deny list every collector sharing the
// database rereads every second. Each command is one statement (one implicit transaction), so two operators, or an
// operator and a collector, never see half a change. The schema is prepared first, as a collector does at start,
// so the deny list can be filled before any collector ran.

/// The deny list of a PostgreSQL database, edited from the command line while collectors run.
public final class PostgresRevocations {
    private let connection: PostgresConnection

    /// Connects to `connection` (a URL or keyword/value string) and brings its schema to the current version.
    /// - Throws: `.storageFailure` naming the target (without its password) when it cannot be reached,
    ///   `.schemaTooNew` for a newer database.
    public init(connection text: String, connectTimeoutSeconds: Int = 5) throws(StoreError) {
        do throws(PostgresError) {
            connection = try PostgresConnection(connectingTo: text, connectTimeoutSeconds: connectTimeoutSeconds)
        } catch {
            throw StoreError(error, operation: "connect to \(PostgresURL.redact(text))")
        }
        try PostgresSchema.prepare(connection)
    }

    /// Adds `devices` (revoked at `atMs`) and returns those that were not revoked already.
    public func revoke(_ devices: [String], atMs: Int64) throws(StoreError) -> [String] {
        try names(
            """
            INSERT INTO revoked_devices (device, revoked_at_ms) SELECT unnest($1::text[]), $2
            ON CONFLICT (device) DO NOTHING RETURNING device
            """, [PostgresArrayText.texts(devices), .int(atMs)], operation: "revoke devices")
    }

    /// Removes `devices` and returns those that were revoked.
    public func restore(_ devices: [String]) throws(StoreError) -> [String] {
        try names(
            "DELETE FROM revoked_devices WHERE device = ANY($1::text[]) RETURNING device",
            [PostgresArrayText.texts(devices)], operation: "restore devices")
    }

    /// The deny list, by device.
    public func list() throws(StoreError) -> [RevokedDevice] {
        do throws(PostgresError) {
            let result = try connection.execute(
                #"SELECT device, revoked_at_ms FROM revoked_devices ORDER BY device COLLATE "C""#)
            var entries: [RevokedDevice] = []
            for row in result.rows {
                entries.append(RevokedDevice(device: row.string(at: 0) ?? "", revokedAtMs: try row.int(at: 1) ?? 0))
            }
            return entries
        } catch {
            throw StoreError(error, operation: "list revoked devices")
        }
    }

    private func names(_ sql: String, _ parameters: [PostgresValue?], operation: String) throws(StoreError) -> [String] {
        do throws(PostgresError) {
            return try connection.execute(sql, parameters: parameters).rows.compactMap { $0.string(at: 0) }
        } catch {
            throw StoreError(error, operation: operation)
        }
    }
}
