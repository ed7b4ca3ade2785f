import Chunks
import Foundation
import Postgres
import PostgresTestSupport
import Storage
import Synchronization
import Telemetry
import Testing

@testable import PostgresStore

/// The PostgreSQL backend's writer against a throwaway server: each test on its own database. What a test checks
/// is read back with plain SQL (chunks decoded with ChunkCodec), so these tests do not depend on the read API.
@Suite(
    .serialized,
    .enabled(
        if: TestPostgresServer.isAvailable,
        "needs a PostgreSQL server (initdb, pg_ctl); as root also the postgres user and runuser"),
    .postgresServer)
struct PostgresStoreTests {
    /// A store on a fresh database, and the database's URL.
    func makeStore(
        collector: String = "c1", _ configure: (inout PostgresStoreConfiguration) -> Void = { _ in }
    ) throws -> (PostgresTelemetryStore, String) {
        let url = try TestPostgresServer.required().makeDatabase()
        return (try openStore(url, collector: collector, configure), url)
    }

    /// A store on the database at `url`.
    func openStore(
        _ url: String, collector: String = "c1", _ configure: (inout PostgresStoreConfiguration) -> Void = { _ in }
    ) throws -> PostgresTelemetryStore {
        var configuration = PostgresStoreConfiguration(collectorName: collector)
        configuration.reconnectInitialMs = 20
        configuration.reconnectMaxMs = 200
        configuration.connectTimeoutSeconds = 2
        configure(&configuration)
        return try PostgresTelemetryStore(connection: url, configuration: configuration)
    }

    /// A batch of one sensor.
    static func batch(_ seq: UInt64, sensor: String = "t", exponent: Int32? = nil, _ readings: [(Int64, Double)])
        -> ReadingBatch
    {
        ReadingBatch(
            seq: seq,
            sensors: [
                SensorReadings(
                    sensor: sensor, exponent: exponent, timestamps: readings.map(\.0), values: readings.map(\.1))
            ])
    }

    /// Every stored reading of a series, decoded from its chunks in ts order; fails the test if chunks overlap.
    static func storedReadings(_ url: String, device: String, sensor: String = "t") throws -> [(Int64, Double)] {
        let connection = try PostgresConnection(connectingTo: url)
        let result = try connection.execute(
            """
            SELECT c.start_ts, c.end_ts, c.count, c.data FROM chunks c JOIN series s ON s.id = c.series_id
            WHERE s.device = $1 AND s.sensor = $2 ORDER BY c.start_ts
            """, parameters: [.text(device), .text(sensor)])
        var readings: [(Int64, Double)] = []
        var previousEnd = Int64.min
        for row in result.rows {
            let start = try #require(try row.int(at: 0))
            let end = try #require(try row.int(at: 1))
            #expect(start > previousEnd || readings.isEmpty, "chunks overlap at \(start)")
            previousEnd = end
            let decoded = try ChunkCodec.decode(try #require(try row.bytes(at: 3)))
            #expect(Int64(decoded.timestamps.count) == (try row.int(at: 2)))
            #expect(decoded.timestamps.first == start && decoded.timestamps.last == end)
            readings += zip(decoded.timestamps, decoded.values).map { ($0, $1) }
        }
        return readings
    }

    /// The first column of every row of `sql`, as text.
    static func column(_ url: String, _ sql: String, _ parameters: [PostgresValue?] = []) throws -> [String?] {
        try PostgresConnection(connectingTo: url).execute(sql, parameters: parameters).rows.map { $0[0] }
    }

    // MARK: - Schema

    @Test func theSchemaIsAppliedOnceAndAReopenLeavesItAlone() throws {
        let (store, url) = try makeStore()
        store.close()
        let again = try openStore(url)
        again.close()
        #expect(try Self.column(url, "SELECT version FROM fleetwire_schema") == ["1"])
        let tables = try Self.column(
            url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        #expect(
            tables == [
                "bandwidth", "bandwidth_history", "batches", "chunks", "devices", "fleetwire_schema",
                "revoked_devices", "series",
            ])
    }

    @Test func twoCollectorsStartingTogetherApplyTheSchemaOnce() async throws {
        let url = try TestPostgresServer.required().makeDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresTelemetryStore.self) { group in
            for name in ["a", "b", "c"] { group.addTask { try openStore(url, collector: name) } }
            var opened: [PostgresTelemetryStore] = []
            for try await store in group { opened.append(store) }
            return opened
        }
        for store in stores { store.close() }
        #expect(try Self.column(url, "SELECT version FROM fleetwire_schema") == ["1"])
    }

    @Test func aNewerSchemaIsRefused() throws {
        let (store, url) = try makeStore()
        store.close()
        try PostgresConnection(connectingTo: url).execute("UPDATE fleetwire_schema SET version = 2")
        #expect(throws: StoreError.schemaTooNew(found: 2, supported: 1)) { try openStore(url) }
    }

    @Test func anUnreachableServerIsAStorageFailureNamingTheURLWithoutThePassword() throws {
        let port = try TestPostgresServer.freePort()
        let url = "postgresql://fleetwire:s3cret-pw@127.0.0.1:\(port)/nowhere"
        let error = #expect(throws: StoreError.self) { try openStore(url) }
        guard case .storageFailure = error else {
            Issue.record("expected a storage failure, got \(String(describing: error))")
            return
        }
        let text = error?.description ?? ""
        #expect(error?.isUnavailable == true)
        #expect(text.contains("127.0.0.1:\(port)/nowhere"), "\(text)")
        #expect(!text.contains("s3cret-pw"), "\(text)")
    }

    @Test func theWriterSessionIsDurableAndBoundedInTime() throws {
        let url = try TestPostgresServer.required().makeDatabase()
        var configuration = PostgresStoreConfiguration(collectorName: "c1")
        configuration.statementTimeoutMs = 1_234
        let connection = try PostgresConnection(connectingTo: url)
        try PostgresWriterThread.configureSession(connection, configuration.normalized)
        #expect(try connection.execute("SHOW synchronous_commit").rows[0][0] == "on")
        #expect(try connection.execute("SHOW statement_timeout").rows[0][0] == "1234ms")
        #expect(try connection.execute("SHOW lock_timeout").rows[0][0] == "1110ms")
    }

    @Test func theConfigurationIsClamped() {
        var configuration = PostgresStoreConfiguration(collectorName: "")
        configuration.maxTransactionMs = 0
        configuration.readThreads = 0
        configuration.reconnectInitialMs = 500
        configuration.reconnectMaxMs = 10
        let normalized = configuration.normalized
        #expect(normalized.maxTransactionMs == 1)
        #expect(normalized.readThreads == 1)
        #expect(normalized.reconnectMaxMs == 500)
        #expect(!normalized.collectorName.isEmpty)
        configuration.maxTransactionMs = 1_000
        #expect(configuration.normalized.maxTransactionMs == 50)
    }
}
