// The database schema, embedded so the store needs no resource files at run time.
// Generated from schema/sqlite.sql by scripts/embed-schema.sh (make schema): edit that file, not this one.

/// The text of `schema/sqlite.sql`, which the store applies to a new database.
///
/// `SchemaSQLTests` fails while the two differ, so the contract file and the code cannot drift.
enum SchemaSQL {
    /// The `PRAGMA user_version` the text leaves behind: the newest schema this code knows.
    static let version: Int32 = 4

    /// The schema, byte for byte as in `schema/sqlite.sql`.
    static let text = """
        -- Fleetwire telemetry store, schema version 4 (PRAGMA user_version = 4).
        --
        -- The collector applies this file, byte for byte, to a new database inside one transaction and then finds
        -- user_version = 4; a database already at version 4 is left alone, an older one is brought up to date by
        -- the upgrade steps in Sources/Store/SchemaUpgrades.swift (version 1 → 2 adds revoked_devices, 2 → 3 adds
        -- the TLS and TCP segment columns of bandwidth, 3 → 4 moves the row-per-reading table into chunks), and a newer
        -- version is refused. The Swift copy in
        -- Sources/Store/SchemaSQL.swift is checked against this file by a test.
        --
        -- Rules the writer keeps:
        --   * Exactly once per batch: a batch is identified by (device, seq). The writer inserts its `batches` row
        --     first; when that row already exists the batch is a duplicate and nothing of it is written again.
        --   * First write wins: a series has at most one reading per millisecond. When a later reading (from another
        --     batch, or later in the same batch) has the same (series, ts) as a stored one, the stored reading is kept
        --     unchanged and the later one is ignored and not counted as stored.
        --   * Chunks of one series never overlap: each reading lies in exactly one chunk, the one whose
        --     [start_ts, end_ts] holds its ts.
        --   * Counters (devices.readings/batches/last_seq/last_seen_ms, series.readings) change in the same transaction
        --     as the readings they count; readings deleted by retention are subtracted in the transaction deleting them.
        --   * seq is at most 2^63-1 (both decoders refuse larger), so it reads back unchanged in plain SQL.
        --
        -- Times are Unix milliseconds (UTC). The readings themselves are compressed in `chunks`; to read them with SQL,
        -- `collector sql --db FILE "SELECT ..."` adds the table readings(device, sensor, ts, value) over the chunks:
        --   SELECT device, sensor, strftime('%Y-%m-%d %H:%M:%f', ts / 1000.0, 'unixepoch') AS time, value
        --   FROM readings WHERE device = 'dev-1' ORDER BY ts DESC LIMIT 10;

        -- One row per device that has sent at least one stored batch.
        CREATE TABLE devices (
            id            INTEGER PRIMARY KEY,
            name          TEXT    NOT NULL UNIQUE,  -- device id as sent by the device: [A-Za-z0-9._:-]{1,128}
            first_seen_ms INTEGER NOT NULL,         -- wall-clock time the collector stored the device's first batch
            last_seen_ms  INTEGER NOT NULL,         -- wall-clock time the collector stored the device's latest batch
            readings      INTEGER NOT NULL DEFAULT 0,  -- readings stored for the device
            batches       INTEGER NOT NULL DEFAULT 0,  -- distinct batches stored (duplicates not counted)
            last_seq      INTEGER NOT NULL DEFAULT 0   -- highest seq stored for the device (0: none)
        );

        -- One row per (device, sensor): the chunks refer to a series by its small integer id.
        CREATE TABLE series (
            id        INTEGER PRIMARY KEY,
            device_id INTEGER NOT NULL REFERENCES devices (id),
            sensor    TEXT    NOT NULL,             -- [a-z0-9_.-]{1,64}
            exponent  INTEGER,                      -- decimal exponent the device declared; NULL until one is declared,
                                                    -- then the first declared value is kept
            readings  INTEGER NOT NULL DEFAULT 0,   -- readings stored for the series
            UNIQUE (device_id, sensor)
        );

        -- The readings, one row per (series, chunk): a run of one series' readings compressed into `data` (the layout is
        -- described in Sources/Store/ChunkCodec.swift), with the run's time range, count and aggregates so that queries
        -- over whole chunks need not decode them. The writer stores each batch's readings of a series as one chunk in the
        -- batch's transaction; compaction later merges a series' small chunks into chunks of up to an hour or 3,600
        -- readings. Values read back are bit-identical to the values stored.
        CREATE TABLE chunks (
            series_id   INTEGER NOT NULL REFERENCES series (id),
            start_ts    INTEGER NOT NULL,           -- Unix ms of the chunk's first reading
            end_ts      INTEGER NOT NULL,           -- Unix ms of its last reading (>= start_ts)
            count       INTEGER NOT NULL,           -- readings in the chunk (> 0)
            value_min   REAL    NOT NULL,
            value_max   REAL    NOT NULL,
            value_sum   REAL,                       -- compensated (Neumaier) sum, in ts order; NULL for +inf plus -inf
            value_first REAL    NOT NULL,           -- the value at start_ts
            value_last  REAL    NOT NULL,           -- the value at end_ts
            data        BLOB    NOT NULL            -- timestamps and values, compressed
        );
        -- A rowid table with an index rather than a WITHOUT ROWID table keyed by (series_id, start_ts): rows are appended
        -- in commit order, so pages fill instead of splitting between series, and a compacted hour chunk stays in its page
        -- instead of spilling into an overflow page (store-bench, 1 M readings of 100 devices: 12 % less disk after
        -- compaction; 9 % more before it, for the index).
        CREATE UNIQUE INDEX chunks_by_series ON chunks (series_id, start_ts);

        -- Per-step aggregates kept longer than the raw chunks (`collector serve --rollup STEP:DURATION`): when retention
        -- deletes a chunk, its readings are added here for every configured step. A bucket holds only readings whose
        -- chunks were deleted; the readings still in `chunks` are not in it.
        CREATE TABLE rollups (
            series_id  INTEGER NOT NULL REFERENCES series (id),
            step_ms    INTEGER NOT NULL,            -- the rollup's step
            bucket_ms  INTEGER NOT NULL,            -- the bucket's start: a multiple of step_ms from the Unix epoch
            count      INTEGER NOT NULL,
            value_min  REAL    NOT NULL,
            value_max  REAL    NOT NULL,
            value_sum  REAL,                        -- NULL for +inf plus -inf
            last_ts    INTEGER NOT NULL,            -- ts of the bucket's latest reading
            value_last REAL    NOT NULL,            -- its value
            PRIMARY KEY (series_id, step_ms, bucket_ms)
        ) WITHOUT ROWID;

        -- Every batch stored, so a retried (device, seq) is recognised and stored only once.
        CREATE TABLE batches (
            device_id    INTEGER NOT NULL REFERENCES devices (id),
            seq          INTEGER NOT NULL,          -- uint64 bit pattern (see above)
            committed_ms INTEGER NOT NULL,          -- wall-clock time of the transaction that stored the batch
            readings     INTEGER NOT NULL,          -- readings newly stored by the batch
            PRIMARY KEY (device_id, seq)
        ) WITHOUT ROWID;

        -- Bytes and events per (protocol, device), added to by the collector's bandwidth ledger.
        -- device = '' is the protocol's own row: connection overhead not attributable to one device.
        -- header = protocol headers, framing = protocol framing (HTTP/2 frame headers, gRPC length prefixes, chunking),
        -- payload = message bodies, tls_handshake = TLS handshake records, tls_record = TLS record overhead (record
        -- headers, AEAD tags, padding, alerts); bytes_* are all socket bytes, the sum of those five parts.
        -- segments_* are TCP segments as the kernel counted them (TCP_INFO), 0 where the transport cannot tell.
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

        -- Bytes and readings per protocol per time bucket. bucket_ms is the bucket's start, a multiple of the base
        -- bucket size (10 s unless configured otherwise) counted from the Unix epoch.
        CREATE TABLE bandwidth_history (
            bucket_ms INTEGER NOT NULL,
            protocol  TEXT    NOT NULL,
            bytes_in  INTEGER NOT NULL DEFAULT 0,
            bytes_out INTEGER NOT NULL DEFAULT 0,
            readings  INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (bucket_ms, protocol)
        ) WITHOUT ROWID;

        -- Devices whose tokens the collector refuses (`collector devices revoke|restore|revoked`). A device listed
        -- here is refused even with a valid token; deleting its row restores it. A running collector rereads this
        -- table every second (revocation takes effect within 2 s).
        CREATE TABLE revoked_devices (
            device        TEXT    PRIMARY KEY,      -- device id: [A-Za-z0-9._:-]{1,128}
            revoked_at_ms INTEGER NOT NULL          -- wall-clock time of the revocation (Unix ms)
        ) WITHOUT ROWID;

        PRAGMA user_version = 4;

        """
}
