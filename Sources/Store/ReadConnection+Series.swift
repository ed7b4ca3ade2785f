import Chunks
import Storage

// Time-bucketed aggregates of one sensor, from its chunks' stored aggregates and, where retention has deleted
// chunks, from the rollups kept in their place.
//
// Rule: a reading at ts belongs to the bucket starting at floor(ts / step) × step, floored toward −∞ (so −1 ms
// is in the bucket starting at −step, and a reading exactly on an edge starts its bucket). Only buckets holding at
// least one reading are returned. A chunk lying wholly inside the range and inside one bucket is counted by its
// stored aggregates without being decoded; only chunks cut by a bucket edge or by the range's ends are decoded.
// Rollup buckets (readings whose chunks retention deleted) are added when the rollup's step divides the query's
// step, so each rollup bucket lies inside one query bucket; a rollup bucket counts when its start lies in the range.

extension ReadConnection {
    /// The non-empty `stepMs` buckets of one sensor within `[lowMs, highMs]` (inclusive).
    func series(
        deviceID: String, sensor: String, lowMs: Int64, highMs: Int64, stepMs: Int64, aggregate: SeriesAggregate
    ) throws(StoreError) -> [SeriesBucket] {
        try inReadTransaction { () throws(StoreError) -> [SeriesBucket] in
            guard lowMs <= highMs, let deviceRowID = try deviceRowID(deviceID),
                let series = try seriesOf(deviceRowID: deviceRowID, sensor: sensor).first
            else { return [] }
            var buckets = BucketAccumulator(stepMs: stepMs)
            try addChunks(of: series.id, lowMs: lowMs, highMs: highMs, to: &buckets)
            try addRollups(of: series.id, lowMs: lowMs, highMs: highMs, to: &buckets)
            return buckets.result(aggregate)
        }
    }

    /// Every chunk overlapping `[lowMs, highMs]`, in ts order.
    static let chunksInRangeSQL = """
        SELECT start_ts, end_ts, count, value_min, value_max, value_sum, value_first, value_last, data FROM chunks
        WHERE series_id = ?1 AND start_ts <= ?3 AND end_ts >= ?2
          AND start_ts >= coalesce((SELECT max(start_ts) FROM chunks WHERE series_id = ?1 AND start_ts <= ?2), ?2)
        ORDER BY start_ts
        """

    private func addChunks(
        of seriesID: Int64, lowMs: Int64, highMs: Int64, to buckets: inout BucketAccumulator
    ) throws(StoreError) {
        let select = try statement(Self.chunksInRangeSQL, operation: "read chunks")
        select.bind(seriesID, at: 1)
        select.bind(lowMs, at: 2)
        select.bind(highMs, at: 3)
        try forEachRow(select) { (row) throws(StoreError) in
            let start = row.int64(at: 0)
            let end = row.int64(at: 1)
            if start >= lowMs && end <= highMs && buckets.bucket(of: start) == buckets.bucket(of: end) {
                buckets.add(
                    ChunkSummary(
                        count: row.int64(at: 2), startTs: start, endTs: end, min: row.double(at: 3),
                        max: row.double(at: 4), sum: row.isNull(at: 5) ? .nan : row.double(at: 5), first: row.double(at: 6),
                        last: row.double(at: 7)))
                return
            }
            // Cut by a bucket edge or the range: decode the blob (the ninth column).
            let decoded = try ChunkCodec.decode(
                row.blob(at: 8), seriesID: seriesID, startTs: start, operation: "decode chunk")
            for index in decoded.timestamps.indices {
                let ts = decoded.timestamps[index]
                if ts >= lowMs && ts <= highMs { buckets.add(ts: ts, value: decoded.values[index]) }
            }
        }
    }

    /// Adds the buckets of the coarsest rollup whose step divides the query's, if any.
    private func addRollups(
        of seriesID: Int64, lowMs: Int64, highMs: Int64, to buckets: inout BucketAccumulator
    ) throws(StoreError) {
        let steps = try statement(
            "SELECT max(step_ms) FROM rollups WHERE series_id = ?1 AND step_ms < ?2", operation: "list rollup steps")
        var below = Int64.max
        var chosen: Int64?
        while chosen == nil {
            steps.bind(seriesID, at: 1)
            steps.bind(below, at: 2)
            var found: Int64?
            try forEachRow(steps) { row in found = row.optionalInt64(at: 0) }
            guard let step = found, step > 0 else { return }
            if buckets.stepMs % step == 0 { chosen = step } else { below = step }
        }
        let select = try statement(
            """
            SELECT bucket_ms, count, value_min, value_max, value_sum, last_ts, value_last FROM rollups
            WHERE series_id = ?1 AND step_ms = ?2 AND bucket_ms BETWEEN ?3 AND ?4 ORDER BY bucket_ms
            """, operation: "read rollups")
        select.bind(seriesID, at: 1)
        select.bind(chosen!, at: 2)
        select.bind(lowMs, at: 3)
        select.bind(highMs, at: 4)
        try forEachRow(select) { row in
            let lastTs = row.int64(at: 5)
            buckets.add(
                ChunkSummary(
                    count: row.int64(at: 1), startTs: row.int64(at: 0), endTs: lastTs, min: row.double(at: 2),
                    max: row.double(at: 3), sum: row.isNull(at: 4) ? .nan : row.double(at: 4), first: row.double(at: 6),
                    last: row.double(at: 6)),
                bucketOf: row.int64(at: 0))
        }
    }
}
