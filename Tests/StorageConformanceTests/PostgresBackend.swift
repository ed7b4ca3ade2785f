// The PostgreSQL side of the factory, written against PostgresTelemetryStore's announced API:
// `init(connection: String, configuration: PostgresStoreConfiguration = .init()) throws(StoreError)`,
// `PostgresStoreConfiguration.collectorName`, `compactAndSweep() async throws(StoreError)`.
// Compiled out until that store is on this branch: then `.postgres` is not in `StorageBackend.available`.

import Storage

#if POSTGRES_STORE_READY
    import PostgresStore
#endif

/// Opens and settles `PostgresTelemetryStore`s for the suite.
enum PostgresBackend {
    #if POSTGRES_STORE_READY
        /// Whether the PostgreSQL backend is compiled into the suite.
        static let isCompiled = true

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
    #else
        /// Whether the PostgreSQL backend is compiled into the suite.
        static let isCompiled = false

        /// Always throws: the backend is not compiled in.
        static func open(url: String, collectorName: String) throws -> any TelemetryStorage {
            throw BackendUnavailable(description: StorageBackend.postgres.unavailableReason ?? "not compiled in")
        }

        /// False: no PostgreSQL store exists here.
        static func settle(_ storage: any TelemetryStorage) async throws(StoreError) -> Bool { false }
    #endif
}
