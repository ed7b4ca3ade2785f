import Chunks
import Storage

/// The statements retention runs on the writer's connection (see RetentionSweeper.swift).
struct RetentionStatements {
    private let selectSeries: Statement
    private let selectExpired: Statement
    private let deleteChunks: Statement
    private let subtractSeries: Statement
    private let subtractDevice: Statement
    private let upsertRollup: Statement
    private let deleteOldRollups: Statement
    private let database: Database

    init(_ database: Database) throws(StoreError) {
        self.database = database
        selectSeries = try database.prepare(
            "SELECT id, device_id FROM series WHERE id > ?1 ORDER BY id LIMIT ?2", operation: "list series to sweep")
        selectExpired = try database.prepare(
            """
            SELECT start_ts, end_ts, count, value_min, value_max, value_sum, value_first, value_last, data FROM chunks
            WHERE series_id = ?1 AND start_ts < ?2 AND end_ts < ?2 ORDER BY start_ts
            """, operation: "read expired chunks")
        deleteChunks = try database.prepare(
            "DELETE FROM chunks WHERE series_id = ?1 AND start_ts < ?2 AND end_ts < ?2", operation: "delete expired chunks")
        subtractSeries = try database.prepare(
            "UPDATE series SET readings = max(0, readings - ?2) WHERE id = ?1", operation: "subtract expired readings")
        subtractDevice = try database.prepare(
            "UPDATE devices SET readings = max(0, readings - ?2) WHERE id = ?1", operation: "subtract expired readings")
        upsertRollup = try database.prepare(
            """
            INSERT INTO rollups (series_id, step_ms, bucket_ms, count, value_min, value_max, value_sum, last_ts,
                value_last)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT (series_id, step_ms, bucket_ms) DO UPDATE SET
                count = count + excluded.count,
                value_min = min(value_min, excluded.value_min),
                value_max = max(value_max, excluded.value_max),
                value_sum = value_sum + excluded.value_sum,
                value_last = CASE WHEN excluded.last_ts > last_ts THEN excluded.value_last ELSE value_last END,
                last_ts = max(last_ts, excluded.last_ts)
            """, operation: "add rollup")
        deleteOldRollups = try database.prepare(
            "DELETE FROM rollups WHERE series_id = ?1 AND step_ms = ?2 AND bucket_ms < ?3",
            operation: "delete expired rollups")
    }

    /// Up to `limit` series (id and device id) with an id above `after`, in id order.
    func seriesIDs(after: Int64, limit: Int) throws(StoreError) -> [(seriesID: Int64, deviceID: Int64)] {
        selectSeries.bind(after, at: 1)
        selectSeries.bind(Int64(limit), at: 2)
        defer { selectSeries.reset() }
        var ids: [(Int64, Int64)] = []
        while try selectSeries.step() { ids.append((selectSeries.int64(at: 0), selectSeries.int64(at: 1))) }
        return ids
    }

    /// Calls `body` with the summary of each chunk of the series ending before `horizon`, and a way to read its
    /// blob (read only when asked).
    func forEachExpiredChunk(
        seriesID: Int64, horizon: Int64, _ body: (ChunkSummary, () -> [UInt8]) throws(StoreError) -> Void
    ) throws(StoreError) {
        let select = selectExpired
        select.bind(seriesID, at: 1)
        select.bind(horizon, at: 2)
        defer { select.reset() }
        while try select.step() {
            let summary = ChunkSummary(
                count: select.int64(at: 2), startTs: select.int64(at: 0), endTs: select.int64(at: 1),
                min: select.double(at: 3), max: select.double(at: 4), sum: select.isNull(at: 5) ? .nan : select.double(at: 5),
                first: select.double(at: 6), last: select.double(at: 7))
            try body(summary, { select.blob(at: 8) })
        }
    }

    /// Adds a bucket's aggregates to the series' rollup row for `stepMs`.
    func addRollup(seriesID: Int64, stepMs: Int64, bucketMs: Int64, _ bucket: BucketAccumulator.Bucket) throws(StoreError) {
        upsertRollup.bind(seriesID, at: 1)
        upsertRollup.bind(stepMs, at: 2)
        upsertRollup.bind(bucketMs, at: 3)
        upsertRollup.bind(bucket.count, at: 4)
        upsertRollup.bind(bucket.min, at: 5)
        upsertRollup.bind(bucket.max, at: 6)
        upsertRollup.bind(bucket.sum.value, at: 7)
        upsertRollup.bind(bucket.lastTs, at: 8)
        upsertRollup.bind(bucket.last, at: 9)
        try upsertRollup.run()
    }

    /// Deletes the series' chunks ending before `horizon` and subtracts their `readings` from the series and the
    /// device.
    func deleteExpired(seriesID: Int64, deviceID: Int64, horizon: Int64, readings: Int64) throws(StoreError) {
        deleteChunks.bind(seriesID, at: 1)
        deleteChunks.bind(horizon, at: 2)
        try deleteChunks.run()
        subtractSeries.bind(seriesID, at: 1)
        subtractSeries.bind(readings, at: 2)
        try subtractSeries.run()
        subtractDevice.bind(deviceID, at: 1)
        subtractDevice.bind(readings, at: 2)
        try subtractDevice.run()
    }

    /// Deletes the series' rollup buckets of `stepMs` starting before `before`; returns how many.
    func deleteRollups(seriesID: Int64, stepMs: Int64, before: Int64) throws(StoreError) -> Int {
        deleteOldRollups.bind(seriesID, at: 1)
        deleteOldRollups.bind(stepMs, at: 2)
        deleteOldRollups.bind(before, at: 3)
        try deleteOldRollups.run()
        return database.changes
    }
}
