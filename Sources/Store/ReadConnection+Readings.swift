// Reading pages over the chunks (ChunkPageReader.swift keeps the rule): this file gives it SQLite's statements.

import Chunks
import Storage

extension ReadConnection {
    /// One page of a device's readings in `[lowMs, highMs]` (both inclusive), after `cursor` in `order`.
    func readings(
        deviceID: String, sensor: String?, lowMs: Int64, highMs: Int64, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?
    ) throws(StoreError) -> ReadingPage {
        try inReadTransaction { () throws(StoreError) -> ReadingPage in
            guard lowMs <= highMs, let deviceRowID = try deviceRowID(deviceID) else {
                return ReadingPage(readings: [], nextCursor: nil)
            }
            let select = try statement(
                order == .ascending ? Self.nextChunkSQL : Self.previousChunkSQL, operation: "read chunk")
            let series = try seriesOf(deviceRowID: deviceRowID, sensor: sensor).map { ($0.sensor, $0.id) }
            return try ChunkPageReader.page(
                series: series, lowMs: lowMs, highMs: highMs, limit: limit, order: order, after: cursor
            ) { (seriesID, low, high) throws(StoreError) -> DecodedChunk? in
                select.bind(seriesID, at: 1)
                select.bind(low, at: 2)
                select.bind(high, at: 3)
                var chunk: DecodedChunk?
                try forEachRow(select) { (row) throws(StoreError) in
                    let decoded = try ReadConnection.decodeChunk(row, seriesID: seriesID)
                    chunk = DecodedChunk(
                        startTs: row.int64(at: 0), endTs: row.int64(at: 1), timestamps: decoded.timestamps,
                        values: decoded.values)
                }
                return chunk
            }
        }
    }

    /// The first chunk of a series that may hold readings at or after ?2 and starts at or before ?3: the last one
    /// starting at or before ?2 (it may reach past it), else the first one after.
    static let nextChunkSQL = """
        SELECT start_ts, end_ts, data FROM chunks
        WHERE series_id = ?1 AND start_ts <= ?3 AND end_ts >= ?2
          AND start_ts >= coalesce((SELECT max(start_ts) FROM chunks WHERE series_id = ?1 AND start_ts <= ?2), ?2)
        ORDER BY start_ts LIMIT 1
        """

    /// The last chunk of a series starting at or before ?3 (?2, the low end, is bound but not needed: SQLite
    /// accepts a binding to any index up to the largest one used).
    static let previousChunkSQL = """
        SELECT start_ts, end_ts, data FROM chunks WHERE series_id = ?1 AND start_ts <= ?3
        ORDER BY start_ts DESC LIMIT 1
        """

    /// The readings of a chunk row's blob (columns `startColumn`, the end and the data after it), or an error
    /// naming the chunk when it cannot be decoded.
    static func decodeChunk(
        _ row: Statement, seriesID: Int64, startColumn: Int32 = 0
    ) throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        try ChunkCodec.decode(
            row.blob(at: startColumn + 2), seriesID: seriesID, startTs: row.int64(at: startColumn),
            operation: "decode chunk")
    }
}
