import Chunks
import Storage
import Telemetry

// The one way a chunk row is written: its summary columns and its blob from the same readings.

/// Writes rows of the `chunks` table.
enum ChunkRow {
    /// The INSERT every writer of chunks prepares (the writer, compaction, the schema upgrade).
    static let insertSQL = """
        INSERT INTO chunks (series_id, start_ts, end_ts, count, value_min, value_max, value_sum, value_first,
            value_last, data)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """

    /// Binds a chunk of series `seriesID` holding `times` (sorted, distinct, not empty) and `values` to a statement
    /// prepared from `insertSQL`.
    static func bind(
        _ statement: Statement, seriesID: Int64, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>
    ) throws(StoreError) {
        try bind(statement, seriesID: seriesID, PreparedChunk(times, values))
    }

    /// Binds a chunk encoded beforehand.
    static func bind(_ statement: Statement, seriesID: Int64, _ chunk: PreparedChunk) throws(StoreError) {
        let summary = chunk.summary
        statement.bind(seriesID, at: 1)
        statement.bind(summary.startTs, at: 2)
        statement.bind(summary.endTs, at: 3)
        statement.bind(summary.count, at: 4)
        statement.bind(summary.min, at: 5)
        statement.bind(summary.max, at: 6)
        statement.bind(summary.sum.value, at: 7)
        statement.bind(summary.first, at: 8)
        statement.bind(summary.last, at: 9)
        try statement.bind(blob: chunk.blob, at: 10)
    }
}

extension ChunkCodec {
    /// The readings of a stored chunk, or a `.sqlite` error (SQLITE_CORRUPT) naming the series and the chunk: what
    /// every reader of `chunks` throws for a damaged blob.
    static func decode(
        _ blob: [UInt8], seriesID: Int64, startTs: Int64, operation: String
    ) throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        do throws(ChunkDecodeError) {
            return try decode(blob)
        } catch {
            throw .sqlite(
                code: 11, operation: operation, message: "series \(seriesID) chunk at \(startTs): \(error.description)")
        }
    }
}
