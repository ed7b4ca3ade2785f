// How a database file written by an older collector is brought to the current schema: one step per version,
// applied in order inside the migration's IMMEDIATE transaction, each ending with the PRAGMA user_version it
// leaves. A new file never runs these: it gets `SchemaSQL.text` whole. So every step must leave exactly what the
// schema text creates (SchemaUpgradeTests compares a migrated version-1 file with a new one).

/// The steps from each older schema version to the next that SQL alone can take (3 → 4 moves data through the
/// chunk codec: SchemaUpgradeToChunks.swift).
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
        // Version 3: TLS handshake and record bytes and TCP segments per bandwidth row. SQLite's ADD COLUMN would
        // put the columns last and splice them into the table's SQL text after the last column's comment, so the
        // table is rebuilt instead (text as in schema/sqlite.sql); existing rows keep their counts, with 0 in the
        // new columns.
        2: """
            ALTER TABLE bandwidth RENAME TO bandwidth_version_2;
            CREATE TABLE bandwidth (
                protocol                TEXT    NOT NULL,     -- 'grpc', 'http1', ...
                device                  TEXT    NOT NULL,
                bytes_in                INTEGER NOT NULL DEFAULT 0,
                bytes_out               INTEGER NOT NULL DEFAULT 0,
                header_bytes_in         INTEGER NOT NULL DEFAULT 0,
                header_bytes_out        INTEGER NOT NULL DEFAULT 0,
                framing_bytes_in        INTEGER NOT NULL DEFAULT 0,
                framing_bytes_out       INTEGER NOT NULL DEFAULT 0,
                payload_bytes_in        INTEGER NOT NULL DEFAULT 0,
                payload_bytes_out       INTEGER NOT NULL DEFAULT 0,
                tls_handshake_bytes_in  INTEGER NOT NULL DEFAULT 0,
                tls_handshake_bytes_out INTEGER NOT NULL DEFAULT 0,
                tls_record_bytes_in     INTEGER NOT NULL DEFAULT 0,
                tls_record_bytes_out    INTEGER NOT NULL DEFAULT 0,
                readings                INTEGER NOT NULL DEFAULT 0,
                batches                 INTEGER NOT NULL DEFAULT 0,
                duplicate_batches       INTEGER NOT NULL DEFAULT 0,
                calls                   INTEGER NOT NULL DEFAULT 0,
                connections             INTEGER NOT NULL DEFAULT 0,
                errors                  INTEGER NOT NULL DEFAULT 0,
                segments_in             INTEGER NOT NULL DEFAULT 0,
                segments_out            INTEGER NOT NULL DEFAULT 0,
                updated_ms              INTEGER NOT NULL DEFAULT 0,  -- time of the latest delta added
                PRIMARY KEY (protocol, device)
            ) WITHOUT ROWID;
            INSERT INTO bandwidth (protocol, device, bytes_in, bytes_out, header_bytes_in, header_bytes_out,
                framing_bytes_in, framing_bytes_out, payload_bytes_in, payload_bytes_out, readings, batches,
                duplicate_batches, calls, connections, errors, updated_ms)
            SELECT protocol, device, bytes_in, bytes_out, header_bytes_in, header_bytes_out, framing_bytes_in,
                framing_bytes_out, payload_bytes_in, payload_bytes_out, readings, batches, duplicate_batches, calls,
                connections, errors, updated_ms
            FROM bandwidth_version_2;
            DROP TABLE bandwidth_version_2;
            PRAGMA user_version = 3;
            """,
    ]
}
