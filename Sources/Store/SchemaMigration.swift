// Opening a store file: connection settings, and bringing the schema to the version this code knows.
//
// Rule: a file at user_version 0 gets `SchemaSQL.text` applied whole, in one IMMEDIATE transaction (so two
// processes opening the same new file cannot both apply it); a file at the current version is left untouched; a
// file at a newer version is refused with `.schemaTooNew` before anything is written.

/// Connection settings and schema versioning for the store's database file.
enum SchemaMigration {
    /// Settings of the writer connection: WAL (readers run beside the writer), the configured sync level, and
    /// foreign keys enforced (the writer creates parents before children, so the checks only catch bugs).
    static func configureWriter(_ database: Database, durability: StoreConfiguration.Durability) throws(StoreError) {
        let journalMode = try database.pragmaText("journal_mode = WAL")
        guard journalMode.lowercased() == "wal" else {
            throw .cannotOpen(path: database.path, reason: "cannot switch to WAL journal mode (got \(journalMode))")
        }
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        try database.execute("PRAGMA synchronous = \(synchronous)", operation: "set synchronous")
        try database.execute("PRAGMA foreign_keys = ON", operation: "enable foreign keys")
        try database.execute("PRAGMA temp_store = MEMORY", operation: "set temp_store")
    }

    /// Brings the file to `SchemaSQL.version`, or throws when it is newer than that.
    static func migrate(_ database: Database) throws(StoreError) {
        let found = try userVersion(database)
        if found == SchemaSQL.version { return }
        try refuseNewer(found)
        try database.execute("BEGIN IMMEDIATE", operation: "begin schema transaction")
        do throws(StoreError) {
            // Another process may have applied the schema between the check above and BEGIN.
            let current = try userVersion(database)
            try refuseNewer(current)
            if current == 0 {
                try database.execute(SchemaSQL.text, operation: "apply schema version \(SchemaSQL.version)")
                let applied = try userVersion(database)
                guard applied == SchemaSQL.version else {
                    throw StoreError.cannotOpen(
                        path: database.path,
                        reason: "schema text left user_version \(applied), expected \(SchemaSQL.version)")
                }
            }
            try database.execute("COMMIT", operation: "commit schema")
        } catch {
            if database.isInTransaction { try? database.execute("ROLLBACK", operation: "roll back schema") }
            throw error
        }
    }

    /// The file's `PRAGMA user_version`.
    static func userVersion(_ database: Database) throws(StoreError) -> Int32 {
        Int32(truncatingIfNeeded: try database.pragmaInteger("user_version"))
    }

    private static func refuseNewer(_ found: Int32) throws(StoreError) {
        if found > SchemaSQL.version || found < 0 {
            throw .schemaTooNew(found: found, supported: SchemaSQL.version)
        }
    }
}
