import Storage

/// The time range and count of a chunk, without its blob.
struct ChunkHeader: Equatable {
    var startTs: Int64
    var endTs: Int64
    var count: Int64

    var spanMs: Int64 { endTs &- startTs }
}

/// The statements compaction runs on the writer's connection (see Compactor.swift).
struct CompactorStatements {
    private let selectHeaders: Statement
    private let selectData: Statement
    private let delete: Statement
    private let insert: Statement

    init(_ database: Database) throws(StoreError) {
        selectHeaders = try database.prepare(
            """
            SELECT start_ts, end_ts, count FROM chunks
            WHERE series_id = ?1
              AND start_ts >= coalesce((SELECT max(start_ts) FROM chunks WHERE series_id = ?1 AND start_ts < ?2), ?2)
            ORDER BY start_ts
            """, operation: "read chunk headers")
        selectData = try database.prepare(
            "SELECT data FROM chunks WHERE series_id = ?1 AND start_ts = ?2", operation: "read chunk to compact")
        delete = try database.prepare(
            "DELETE FROM chunks WHERE series_id = ?1 AND start_ts = ?2", operation: "delete compacted chunk")
        insert = try database.prepare(ChunkRow.insertSQL, operation: "insert compacted chunk")
    }

    /// The headers of a series' chunks from the one holding or preceding `from` to the last, in order.
    func headers(seriesID: Int64, from: Int64) throws(StoreError) -> [ChunkHeader] {
        selectHeaders.bind(seriesID, at: 1)
        selectHeaders.bind(from, at: 2)
        defer { selectHeaders.reset() }
        var headers: [ChunkHeader] = []
        while try selectHeaders.step() {
            headers.append(
                ChunkHeader(
                    startTs: selectHeaders.int64(at: 0), endTs: selectHeaders.int64(at: 1),
                    count: selectHeaders.int64(at: 2)))
        }
        return headers
    }

    /// Replaces the chunks `run` (adjacent, in order) by chunks cut by `policy`; returns the new chunks' headers.
    func rewrite(
        seriesID: Int64, _ run: ArraySlice<ChunkHeader>, policy: ChunkPolicy
    ) throws(StoreError) -> [ChunkHeader] {
        var times: [Int64] = []
        var values: [Double] = []
        times.reserveCapacity(Int(run.reduce(0) { $0 + $1.count }))
        values.reserveCapacity(times.capacity)
        for header in run {
            selectData.bind(seriesID, at: 1)
            selectData.bind(header.startTs, at: 2)
            guard try selectData.step() else {
                selectData.reset()
                throw .sqlite(
                    code: 11, operation: "compact", message: "series \(seriesID) chunk at \(header.startTs) vanished")
            }
            let blob = selectData.blob(at: 0)
            selectData.reset()
            let decoded = try ChunkCodec.decode(blob, seriesID: seriesID, startTs: header.startTs, operation: "compact")
            times += decoded.timestamps
            values += decoded.values
            delete.bind(seriesID, at: 1)
            delete.bind(header.startTs, at: 2)
            try delete.run()
        }
        var written: [ChunkHeader] = []
        for range in policy.cut(times[...]) {
            try ChunkRow.bind(insert, seriesID: seriesID, times[range], values[range])
            try insert.run()
            written.append(ChunkHeader(startTs: times[range.lowerBound], endTs: times[range.upperBound - 1], count: Int64(range.count)))
        }
        return written
    }
}
