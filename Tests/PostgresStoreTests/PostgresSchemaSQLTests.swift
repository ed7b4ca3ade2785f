import Foundation
import Testing

@testable import PostgresStore

/// The embedded schema is the contract file, byte for byte, and splits into the statements it holds.
@Suite struct PostgresSchemaSQLTests {
    /// `schema/postgresql.sql`, found from this file's path: Tests/PostgresStoreTests/ → repository root.
    static let schemaFileURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schema/postgresql.sql")

    @Test func embeddedSchemaIsByteIdenticalToTheContractFile() throws {
        let file = try Data(contentsOf: Self.schemaFileURL)
        let embedded = Data(PostgresSchemaSQL.text.utf8)
        #expect(file.count == embedded.count, "schema/postgresql.sql and PostgresSchemaSQL.text differ in length")
        #expect(file == embedded, "schema/postgresql.sql and PostgresSchemaSQL.swift have drifted apart")
    }

    @Test func schemaTextInsertsTheVersionTheCodeKnows() {
        #expect(PostgresSchemaSQL.version == 1)
        #expect(PostgresSchemaSQL.text.contains("INSERT INTO fleetwire_schema (version) VALUES (1);"))
    }

    @Test func theScriptSplitsIntoItsStatementsWithoutComments() {
        let statements = PostgresSchema.statements(of: PostgresSchemaSQL.text)
        // 8 CREATE TABLE, 1 ALTER TABLE, 1 INSERT.
        #expect(statements.count == 10)
        #expect(statements.filter { $0.hasPrefix("CREATE TABLE") }.count == 8)
        #expect(statements.allSatisfy { !$0.contains("--") && !$0.contains(";") })
        #expect(statements.last == "INSERT INTO fleetwire_schema (version) VALUES (1)")
    }

    @Test func commentsAndBlankStatementsAreDropped() {
        let script = "-- head; with a semicolon\nSELECT 1; -- tail\n\n;SELECT 2 -- no end\n"
        #expect(PostgresSchema.statements(of: script) == ["SELECT 1", "SELECT 2"])
    }
}
