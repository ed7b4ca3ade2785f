// The PostgreSQL side of the factory: `PostgresTelemetryStore` opened on a database URL as a named collector, and
// its compaction run now.

import PostgresStore
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
}
