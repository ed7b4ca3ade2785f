import Storage

// Opening a store file: connection settings, and bringing the schema to the version this code knows.
//
// Rule: a file at user_version 0 gets `SchemaSQL.text` applied whole, in one IMMEDIATE transaction (so two
// processes opening the same new file cannot both apply it); an older file gets the upgrade steps of
// SchemaUpgrades.swift, in order, in one such transaction; a file at the current version is left untouched; a
// file at a newer version is refused with `.schemaTooNew` before anything is written.

/// Connection settings and schema versioning for the store's database file.
enum SchemaMigration {
    /// Settings of the writer connection: WAL (readers run beside the writer), the configured sync level, a page
    /// cache of `writerCacheMiB`, and SQLite's automatic checkpoint kept only as a safety net far above where the
    /// background `Checkpointer` works (see Checkpointer.swift), with the WAL file truncated back to 64 MiB after.
    ///
    /// Foreign keys are declared in the schema but not enforced on this connection: the check is an index lookup
    /// per inserted reading (measured at 10–25% of insert throughput), and the writer creates every parent row
    /// (device, series) before its children in the same transaction. Tests run `PRAGMA foreign_key_check`.
    static func configureWriter(_ database: Database, _ configuration: StoreConfiguration) throws(StoreError) {
        let journalMode = try database.pragmaText("journal_mode = WAL")
        guard journalMode.lowercased() == "wal" else {
            throw .cannotOpen(path: database.path, reason: "cannot switch to WAL journal mode (got \(journalMode))")
        }
        let synchronous = configuration.durability == .full ? "FULL" : "NORMAL"
        try database.execute(
            """
            PRAGMA synchronous = \(synchronous);
            PRAGMA cache_size = -\(configuration.writerCacheMiB * 1024);
            PRAGMA wal_autocheckpoint = \(safetyCheckpointPages);
            PRAGMA journal_size_limit = \(64 << 20);
            PRAGMA temp_store = MEMORY;
            PRAGMA foreign_keys = OFF;
            """, operation: "configure writer connection")
        if let maxPageCount = configuration.maxPageCount {
            try database.execute("PRAGMA max_page_count = \(maxPageCount)", operation: "cap the file size")
        }
    }

    /// WAL size (pages) at which the writer checkpoints itself because the background checkpointer fell behind.
    static let safetyCheckpointPages = 20_000

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
            } else {
                for version in current..<SchemaSQL.version {
                    if version == 3 {
                        try SchemaUpgradeToChunks.run(database)
                        continue
                    }
                    guard let step = SchemaUpgrades.steps[version] else {
                        throw StoreError.cannotOpen(
                            path: database.path, reason: "no upgrade from schema version \(version)")
                    }
                    try database.execute(step, operation: "upgrade schema from version \(version)")
                }
            }
            if current != SchemaSQL.version {
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
