// One storage conformance suite, two backends (issue 16): every test takes a `StorageBackend` and runs the same
// specification against the SQLite `TelemetryStore` and `PostgresTelemetryStore`, through `TelemetryStorage`
// only, checking each answer against a brute-force model (StorageModel.swift) of the same seeded batches.
//
// One throwaway PostgreSQL server for the whole suite (`.postgresServer`), each test on its own fresh database;
// tests one after another (`.serialized`): two shared cores, and a server's log reads best one test at a time.
// Where PostgreSQL cannot run, `.postgres` is left out of the arguments and `postgresBackendRuns` says why.

import PostgresTestSupport
import Storage
import Testing

@Suite(.serialized, .postgresServer)
struct StorageConformanceTests {
    /// Present only to say, as a skipped test, why the `.postgres` cases did not run.
    @Test(
        .enabled(
            if: StorageBackend.available.contains(.postgres),
            Comment(rawValue: StorageBackend.postgres.unavailableReason ?? "")))
    func postgresBackendRuns() throws {
        #expect(StorageBackend.available == StorageBackend.allCases)
        _ = try TestPostgresServer.required()
    }
}
