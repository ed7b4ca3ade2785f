import Storage

/// Every statement the writer runs, prepared once when the store opens and reused for its whole life.
///
/// "Insert or ignore" is spelled `ON CONFLICT (key) DO NOTHING`: it ignores only a row whose primary key is already
/// stored (the duplicate batch, the later reading at the same ms), while `INSERT OR IGNORE` would also silently
/// drop a row breaking any other constraint (a NaN value, stored as NULL, against `value REAL NOT NULL`).
struct WriterStatements {
    /// `BEGIN IMMEDIATE`: takes the write lock at once, so a busy file fails at BEGIN, not mid-transaction.
    let begin: Statement
    /// `COMMIT` of the group transaction.
    let commit: Statement
    /// `ROLLBACK` of the whole group transaction.
    let rollback: Statement
    /// Opens the savepoint around one request.
    let savepoint: Statement
    /// Keeps the request's writes in the transaction.
    let releaseSavepoint: Statement
    /// Undoes one failed request's writes.
    let rollbackToSavepoint: Statement
    /// Device id and last seq by name (cache miss).
    let selectDevice: Statement
    /// A new device, first and last seen now.
    let insertDevice: Statement
    /// Adds a transaction's sums to a device row, just before COMMIT.
    let addDeviceTotals: Statement
    /// The dedup row of a batch; no change when (device, seq) is stored already.
    let insertBatch: Statement
    /// How many readings the batch stored, when not all it offered.
    let setBatchReadings: Statement
    /// Series id and exponent by (device, sensor) (cache miss).
    let selectSeries: Statement
    /// A new series.
    let insertSeries: Statement
    /// Records the first declared exponent of a series that had none.
    let setSeriesExponent: Statement
    /// Adds a transaction's reading count to a series row.
    let addSeriesReadings: Statement
    /// A new chunk (its range overlaps no stored chunk of the series: see GroupCommitWriter+Chunks.swift).
    let insertChunk: Statement
    /// Removes one chunk (merged or compacted into a new one).
    let deleteChunk: Statement
    /// The last chunk of a series starting before a ts: it may reach into a range.
    let selectChunkBefore: Statement
    /// The chunks of a series starting inside a ts range, in order.
    let selectChunksBetween: Statement
    /// Adds a counter delta to its (protocol, device) row.
    let upsertBandwidth: Statement
    /// Adds bytes and readings to a protocol's history bucket.
    let upsertHistory: Statement

    /// Prepares the statements on the writer's connection.
    init(_ database: Database) throws(StoreError) {
        begin = try database.prepare("BEGIN IMMEDIATE", operation: "begin transaction")
        commit = try database.prepare("COMMIT", operation: "commit")
        rollback = try database.prepare("ROLLBACK", operation: "roll back transaction")
        savepoint = try database.prepare("SAVEPOINT batch", operation: "open batch savepoint")
        releaseSavepoint = try database.prepare("RELEASE batch", operation: "release batch savepoint")
        rollbackToSavepoint = try database.prepare("ROLLBACK TO batch", operation: "roll back batch savepoint")
        selectDevice = try database.prepare(
            "SELECT id, last_seq FROM devices WHERE name = ?1", operation: "look up device")
        insertDevice = try database.prepare(
            "INSERT INTO devices (name, first_seen_ms, last_seen_ms) VALUES (?1, ?2, ?2)", operation: "insert device")
        addDeviceTotals = try database.prepare(
            """
            UPDATE devices SET last_seen_ms = max(last_seen_ms, ?2), readings = readings + ?3,
                batches = batches + ?4, last_seq = ?5
            WHERE id = ?1
            """, operation: "update device counters")
        insertBatch = try database.prepare(
            """
            INSERT INTO batches (device_id, seq, committed_ms, readings) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (device_id, seq) DO NOTHING
            """, operation: "insert batch")
        setBatchReadings = try database.prepare(
            "UPDATE batches SET readings = ?3 WHERE device_id = ?1 AND seq = ?2", operation: "count batch readings")
        selectSeries = try database.prepare(
            """
            SELECT id, exponent, (SELECT end_ts FROM chunks WHERE series_id = series.id ORDER BY start_ts DESC LIMIT 1)
            FROM series WHERE device_id = ?1 AND sensor = ?2
            """, operation: "look up series")
        insertSeries = try database.prepare(
            "INSERT INTO series (device_id, sensor, exponent) VALUES (?1, ?2, ?3)", operation: "insert series")
        setSeriesExponent = try database.prepare(
            "UPDATE series SET exponent = ?2 WHERE id = ?1 AND exponent IS NULL", operation: "record exponent")
        addSeriesReadings = try database.prepare(
            "UPDATE series SET readings = readings + ?2 WHERE id = ?1", operation: "update series counters")
        insertChunk = try database.prepare(ChunkRow.insertSQL, operation: "insert chunk")
        deleteChunk = try database.prepare(
            "DELETE FROM chunks WHERE series_id = ?1 AND start_ts = ?2", operation: "delete chunk")
        selectChunkBefore = try database.prepare(
            """
            SELECT start_ts, end_ts, data FROM chunks WHERE series_id = ?1 AND start_ts < ?2
            ORDER BY start_ts DESC LIMIT 1
            """, operation: "read chunk before range")
        selectChunksBetween = try database.prepare(
            """
            SELECT start_ts, end_ts, data FROM chunks WHERE series_id = ?1 AND start_ts BETWEEN ?2 AND ?3
            ORDER BY start_ts
            """, operation: "read chunks in range")
        upsertBandwidth = try database.prepare(
            """
            INSERT INTO bandwidth (protocol, device, bytes_in, bytes_out, header_bytes_in, header_bytes_out,
                framing_bytes_in, framing_bytes_out, payload_bytes_in, payload_bytes_out, tls_handshake_bytes_in,
                tls_handshake_bytes_out, tls_record_bytes_in, tls_record_bytes_out, readings, batches,
                duplicate_batches, calls, connections, errors, segments_in, segments_out, updated_ms)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                ?22, ?23)
            ON CONFLICT (protocol, device) DO UPDATE SET
                bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
                header_bytes_in = header_bytes_in + excluded.header_bytes_in,
                header_bytes_out = header_bytes_out + excluded.header_bytes_out,
                framing_bytes_in = framing_bytes_in + excluded.framing_bytes_in,
                framing_bytes_out = framing_bytes_out + excluded.framing_bytes_out,
                payload_bytes_in = payload_bytes_in + excluded.payload_bytes_in,
                payload_bytes_out = payload_bytes_out + excluded.payload_bytes_out,
                tls_handshake_bytes_in = tls_handshake_bytes_in + excluded.tls_handshake_bytes_in,
                tls_handshake_bytes_out = tls_handshake_bytes_out + excluded.tls_handshake_bytes_out,
                tls_record_bytes_in = tls_record_bytes_in + excluded.tls_record_bytes_in,
                tls_record_bytes_out = tls_record_bytes_out + excluded.tls_record_bytes_out,
                readings = readings + excluded.readings, batches = batches + excluded.batches,
                duplicate_batches = duplicate_batches + excluded.duplicate_batches,
                calls = calls + excluded.calls, connections = connections + excluded.connections,
                errors = errors + excluded.errors,
                segments_in = segments_in + excluded.segments_in, segments_out = segments_out + excluded.segments_out,
                updated_ms = max(updated_ms, excluded.updated_ms)
            """, operation: "add bandwidth counters")
        upsertHistory = try database.prepare(
            """
            INSERT INTO bandwidth_history (bucket_ms, protocol, bytes_in, bytes_out, readings)
            VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (bucket_ms, protocol) DO UPDATE SET
                bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
                readings = readings + excluded.readings
            """, operation: "add bandwidth history")
    }
}
