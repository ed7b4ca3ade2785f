import Foundation
import Testing

import Storage
@testable import Store

@Suite struct SchemaSQLTests {
    /// `schema/sqlite.sql`, found from this file's path: Tests/StoreTests/ → repository root.
    static let schemaFileURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schema/sqlite.sql")

    @Test func embeddedSchemaIsByteIdenticalToTheContractFile() throws {
        let file = try Data(contentsOf: Self.schemaFileURL)
        let embedded = Data(SchemaSQL.text.utf8)
        #expect(file.count == embedded.count, "schema/sqlite.sql and SchemaSQL.text differ in length")
        #expect(file == embedded, "schema/sqlite.sql and Sources/Store/SchemaSQL.swift have drifted apart")
    }

    @Test func schemaTextSetsTheVersionTheCodeKnows() {
        #expect(SchemaSQL.text.contains("PRAGMA user_version = \(SchemaSQL.version);"))
    }

    @Test func newFileGetsTheCurrentSchemaWithEveryTableAndTheView() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("nested/deeper/telemetry.db")
        let store = try TelemetryStore(path: path)
        // WAL while the store is open; a cleanly closed store is one self-contained file.
        #expect(try RawConnection(path: path).rows("PRAGMA journal_mode").map(\.0) == ["wal"])
        store.close()
        let raw = try RawConnection(path: path)
        #expect(try raw.integer("PRAGMA user_version") == SchemaSQL.version)
        #expect(SchemaSQL.version == 4)
        let names = try raw.rows(
            "SELECT name, 0, 0 FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
        ).map(\.0)
        #expect(
            names == ["bandwidth", "bandwidth_history", "batches", "chunks", "devices", "revoked_devices",
                      "rollups", "series"])
        #expect(try raw.rows("PRAGMA journal_mode").map(\.0) == ["delete"])
    }

    @Test func reopeningACurrentFileChangesNothing() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        try TelemetryStore(path: path).close()
        let writable = try Database(path: path, mode: .readWrite, busyTimeoutMs: 1_000)
        try writable.execute("CREATE TABLE marker (x)", operation: "test")
        let before = try RawConnection(path: path).integer("SELECT count(*) FROM sqlite_master")
        try TelemetryStore(path: path).close()
        #expect(try RawConnection(path: path).integer("SELECT count(*) FROM sqlite_master") == before)
    }

    @Test func newerSchemaVersionIsRefusedWithAClearError() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: 1_000)
        let newer = SchemaSQL.version + 1
        try database.execute("PRAGMA user_version = \(newer)", operation: "test")
        #expect(throws: StoreError.schemaTooNew(found: newer, supported: SchemaSQL.version)) {
            try TelemetryStore(path: path)
        }
        #expect(StoreError.schemaTooNew(found: newer, supported: SchemaSQL.version).description.contains("newer"))
    }

    @Test func aFileThatIsNotADatabaseIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        do {
            _ = try TelemetryStore(path: path)
            Issue.record("opened a file that is not a database")
        } catch {
            guard case .sqlite(let code, _, let message) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(code == 26, "SQLITE_NOTADB")
            #expect(message.contains("not a database"))
        }
    }

    @Test func inMemoryPathsAreRefused() {
        #expect(throws: StoreError.self) { try TelemetryStore(path: ":memory:") }
    }
}
