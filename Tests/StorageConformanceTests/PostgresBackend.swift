// The PostgreSQL side of the factory: `PostgresTelemetryStore` opened on a database URL as a named collector, and
// its compaction run now.

import Postgres
import PostgresStore
import PostgresTestSupport
import Storage

/// Opens and settles `PostgresTelemetryStore`s for the suite.
enum PostgresBackend {
    /// A store on the database at `url`, writing as collector `collectorName`.
    static func open(url: String, collectorName: String) throws -> any TelemetryStorage {
        var configuration = PostgresStoreConfiguration()
        configuration.collectorName = collectorName
        return try PostgresTelemetryStore(connection: url, configuration: configuration)
    }

    /// Runs `compactAndSweep()` when `storage` is a PostgreSQL store; false when it is not one.
    static func settle(_ storage: any TelemetryStorage) async throws(StoreError) -> Bool {
        guard let store = storage as? PostgresTelemetryStore else { return false }
        try await store.compactAndSweep()
        return true
    }

    /// A fresh database on the suite's server whose default collation is ICU's `icuLocale` (en-US sorts "_" before
    /// "a" before "B"), as production databases often are: names must still sort byte-wise, as SQLite sorts them.
    static func makeDatabase(icuLocale: String) throws -> String {
        let server = try TestPostgresServer.required()
        let name = "fw_icu_\(icuLocale.filter(\.isLetter).lowercased())_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try PostgresConnection(connectingTo: server.url)
        defer { connection.close() }
        _ = try connection.execute(
            "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu "
                + "ICU_LOCALE '\(icuLocale)'")
        return server.url.replacingOccurrences(of: "/postgres", with: "/\(name)")
    }

    /// Revokes, then restores, devices through `PostgresRevocations` on the database at `url`.
    static func changeDenyList(
        url: String, revoke: [String], restore: [String], atMs: Int64
    ) throws -> (revoked: [String], restored: [String]) {
        let revocations = try PostgresRevocations(connection: url)
        return (try revocations.revoke(revoke, atMs: atMs), try revocations.restore(restore))
    }
}
