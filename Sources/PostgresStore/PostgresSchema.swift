// Bringing a database to the schema this code knows, once, even when several collectors start together.
//
// Rule: in one transaction holding `pg_advisory_xact_lock(advisoryLockKey)` (so a second collector waits for the
// first and then finds the schema applied): a database without the table `fleetwire_schema` gets
// schema/postgresql.sql (PostgresSchemaSQL.text), statement by statement, and is then at version 1; a database at
// the current version is left alone; a newer one is refused with `.schemaTooNew`; an older one would be brought up
// to date here (there is none yet: version 1 is the first). Nothing is changed unless the transaction commits.

import Foundation
import Postgres
import Storage

/// Applies and checks the PostgreSQL schema on the writer's connection.
enum PostgresSchema {
    /// The advisory lock every collector takes while it checks or applies the schema ("Fleetwir" in ASCII).
    static let advisoryLockKey: Int64 = 0x466C_6565_7477_6972

    /// Applies the schema when missing and checks its version (see the file header).
    /// - Throws: `.schemaTooNew` for a newer database, `.cannotOpen` for an older one this code cannot upgrade, the
    ///   mapped `PostgresError` otherwise (a lost server is `.storageFailure`).
    static func prepare(_ connection: PostgresConnection) throws(StoreError) {
        let version: Int32
        do throws(PostgresError) {
            try connection.execute("BEGIN")
            try connection.execute("SELECT pg_advisory_xact_lock($1)", parameters: [.int(advisoryLockKey)])
            let exists = try connection.execute("SELECT to_regclass('fleetwire_schema') IS NOT NULL")
            if try exists.rows.first?.bool(at: 0) != true {
                for statement in statements(of: PostgresSchemaSQL.text) { try connection.execute(statement) }
            }
            let found = try connection.execute("SELECT max(version) FROM fleetwire_schema").rows.first?.int(at: 0)
            version = Int32(clamping: found ?? 0)
            try connection.execute(version == PostgresSchemaSQL.version ? "COMMIT" : "ROLLBACK")
        } catch {
            if connection.transactionStatus != .idle, !connection.isConnectionBad {
                _ = try? connection.execute("ROLLBACK")
            }
            throw StoreError(error, operation: "apply schema")
        }
        if version > PostgresSchemaSQL.version {
            throw .schemaTooNew(found: version, supported: PostgresSchemaSQL.version)
        }
        if version < PostgresSchemaSQL.version {
            throw .cannotOpen(
                path: connection.target,
                reason: "schema version \(version) is older than any this collector can upgrade")
        }
    }

    /// The statements of a SQL script: `--` comments removed, split at `;`. Enough for schema/postgresql.sql, which
    /// has no string literal holding `--` or `;` (a test runs the whole file through it).
    static func statements(of script: String) -> [String] {
        var text = ""
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            if let comment = line.firstRange(of: "--") {
                text += line[..<comment.lowerBound]
            } else {
                text += line
            }
            text += "\n"
        }
        return text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }
}
