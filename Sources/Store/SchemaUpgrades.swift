// How a database file written by an older collector is brought to the current schema: one step per version,
// applied in order inside the migration's IMMEDIATE transaction, each ending with the PRAGMA user_version it
// leaves. A new file never runs these: it gets `SchemaSQL.text` whole. So every step must leave exactly what the
// schema text creates (SchemaUpgradeTests compares a migrated version-1 file with a new one).

/// The steps from each older schema version to the next.
enum SchemaUpgrades {
    /// SQL that takes a file from version `key` to `key + 1`.
    static let steps: [Int32: String] = [
        // Version 2: the deny list of `collector devices revoke` (text as in schema/sqlite.sql).
        1: """
            CREATE TABLE revoked_devices (
                device        TEXT    PRIMARY KEY,      -- device id: [A-Za-z0-9._:-]{1,128}
                revoked_at_ms INTEGER NOT NULL          -- wall-clock time of the revocation (Unix ms)
            ) WITHOUT ROWID;
            PRAGMA user_version = 2;
            """,
    ]
}
