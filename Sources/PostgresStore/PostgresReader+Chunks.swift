import Chunks
import Postgres
import Storage
import Telemetry

// Readings pages, series buckets and latest values, read from the chunks.
//
// Readings pages follow ChunkPageReader's rule (keyset pagination, one chunk per series decoded at a time); this
// file gives it the statement that fetches the next chunk. Series follow BucketAccumulator's rule: a chunk lying
// wholly inside the range and inside one bucket is counted by its stored aggregates, and its blob is not even sent
// (the server decides which chunks are whole, by the same arithmetic); only chunks cut by a bucket edge or by the
// range's ends are decoded. Every statement that finds "the chunk holding or after low" walks the primary key
// (series_id, start_ts): one step back from low, then forward.

extension PostgresReader {
    /// One page of a device's readings in `[lowMs, highMs]` (both inclusive), after `cursor` in `order`.
    func readings(
        deviceID: String, sensor: String?, lowMs: Int64, highMs: Int64, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?
    ) throws(StoreError) -> ReadingPage {
        guard lowMs <= highMs else { return ReadingPage(readings: [], nextCursor: nil) }
        return try inReadTransaction { (transaction) throws(StoreError) -> ReadingPage in
            let rows =
                if let sensor {
                    try transaction.query(
                        "SELECT sensor, id FROM series WHERE device = $1 AND sensor = $2",
                        [.text(deviceID), .text(sensor)], operation: "look up series")
                } else {
                    try transaction.query(
                        #"SELECT sensor, id FROM series WHERE device = $1 ORDER BY sensor COLLATE "C""#,
                        [.text(deviceID)], operation: "list series")
                }
            var series: [(sensor: String, id: Int64)] = []
            for row in rows { series.append((try row.text(0), try row.int(1))) }
            let isAscending = order == .ascending
            return try ChunkPageReader.page(
                series: series, lowMs: lowMs, highMs: highMs, limit: limit, order: order, after: cursor
            ) { (seriesID, low, high) throws(StoreError) -> DecodedChunk? in
                let found =
                    isAscending
                    ? try transaction.query(
                        Self.nextChunkSQL, [.int(seriesID), .int(low), .int(high)], operation: "read chunk")
                    : try transaction.query(
                        Self.previousChunkSQL, [.int(seriesID), .int(high)], operation: "read chunk")
                guard let row = found.first else { return nil }
                let start = try row.int(0)
                let decoded = try Self.decodeChunk(
                    try row.optionalBytes(2) ?? [], seriesID: seriesID, startTs: start, operation: "decode chunk")
                return DecodedChunk(
                    startTs: start, endTs: try row.int(1), timestamps: decoded.timestamps, values: decoded.values)
            }
        }
    }

    /// The first chunk of series $1 that may hold readings at or after $2 and starts at or before $3: the last one
    /// starting at or before $2 when it reaches $2, else the first one starting after it. Two index probes; the
    /// blob of a probed chunk that does not qualify is never sent.
    static let nextChunkSQL = """
        SELECT start_ts, end_ts, data FROM (
            (SELECT start_ts, end_ts, data FROM chunks WHERE series_id = $1 AND start_ts <= $2
             ORDER BY start_ts DESC LIMIT 1)
            UNION ALL
            (SELECT start_ts, end_ts, data FROM chunks WHERE series_id = $1 AND start_ts > $2 AND start_ts <= $3
             ORDER BY start_ts LIMIT 1)
        ) AS candidates
        WHERE end_ts >= $2 ORDER BY start_ts LIMIT 1
        """

    /// The last chunk of series $1 starting at or before $2 (the page's high end).
    static let previousChunkSQL = """
        SELECT start_ts, end_ts, data FROM chunks WHERE series_id = $1 AND start_ts <= $2
        ORDER BY start_ts DESC LIMIT 1
        """

    /// The non-empty `stepMs` buckets of one sensor within `[lowMs, highMs]` (inclusive).
    func series(
        deviceID: String, sensor: String, lowMs: Int64, highMs: Int64, stepMs: Int64, aggregate: SeriesAggregate
    ) throws(StoreError) -> [SeriesBucket] {
        guard stepMs > 0 else { throw .invalidArgument("stepMs must be positive, got \(stepMs)") }
        guard lowMs <= highMs else { return [] }
        let operation = "read chunks"
        let rows = try readAlone(
            Self.chunksInRangeSQL, [.text(deviceID), .text(sensor), .int(lowMs), .int(highMs), .int(stepMs)],
            operation: operation)
        var buckets = BucketAccumulator(stepMs: stepMs)
        for row in rows {
            let seriesID = try row.int(0)
            let start = try row.int(1)
            let end = try row.int(2)
            if let blob = try row.optionalBytes(9) {
                // Cut by a bucket edge or the range: decoded.
                let decoded = try Self.decodeChunk(blob, seriesID: seriesID, startTs: start, operation: "decode chunk")
                for index in decoded.timestamps.indices {
                    let ts = decoded.timestamps[index]
                    if ts >= lowMs && ts <= highMs { buckets.add(ts: ts, value: decoded.values[index]) }
                }
            } else {
                buckets.add(
                    ChunkSummary(
                        count: try row.int(3), startTs: start, endTs: end, min: try row.double(4),
                        max: try row.double(5), sum: try row.optionalDouble(6) ?? .nan, first: try row.double(7),
                        last: try row.double(8)))
            }
        }
        return buckets.result(aggregate)
    }

    /// Every chunk of series ($1, $2) overlapping [$3, $4], in ts order, with its blob only when it is not whole:
    /// inside the range and inside one $5-bucket (floor(start / step) = floor(end / step), computed in numeric so
    /// that no step or time overflows).
    static let chunksInRangeSQL = """
        SELECT s.id, c.start_ts, c.end_ts, c.count, c.value_min, c.value_max, c.value_sum, c.value_first,
            c.value_last,
            CASE WHEN c.start_ts >= $3 AND c.end_ts <= $4
                AND mod(mod(c.start_ts::numeric, p.step) + p.step, p.step) + (c.end_ts::numeric - c.start_ts) < p.step
            THEN NULL ELSE c.data END
        FROM series s
        CROSS JOIN (SELECT $5::numeric AS step) p
        JOIN chunks c ON c.series_id = s.id
        WHERE s.device = $1 AND s.sensor = $2 AND c.start_ts <= $4 AND c.end_ts >= $3
          AND c.start_ts >= coalesce(
              (SELECT m.start_ts FROM chunks m WHERE m.series_id = s.id AND m.start_ts <= $3
               ORDER BY m.start_ts DESC LIMIT 1), $3)
        ORDER BY c.start_ts
        """

    /// The latest reading of each of the device's sensors (the end of its last chunk), by sensor name.
    func latest(deviceID: String) throws(StoreError) -> [SensorLatest] {
        let rows = try readAlone(
            #"""
            SELECT s.sensor, s.exponent, s.readings, c.end_ts, c.value_last FROM series s
            CROSS JOIN LATERAL (
                SELECT end_ts, value_last FROM chunks WHERE series_id = s.id ORDER BY start_ts DESC LIMIT 1) c
            WHERE s.device = $1
            ORDER BY s.sensor COLLATE "C"
            """#, [.text(deviceID)], operation: "read latest reading")
        var result: [SensorLatest] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            result.append(
                SensorLatest(
                    sensor: try row.text(0), exponent: try row.optionalInt(1).map { Int32(truncatingIfNeeded: $0) },
                    ts: try row.int(3), value: try row.double(4), readings: try row.int(2)))
        }
        return result
    }
}
