import Chunks
import Storage

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
            "SELECT start_ts, data FROM chunks WHERE series_id = ?1 AND start_ts BETWEEN ?2 AND ?3 ORDER BY start_ts",
            operation: "read chunks to compact")
        delete = try database.prepare(
            "DELETE FROM chunks WHERE series_id = ?1 AND start_ts BETWEEN ?2 AND ?3", operation: "delete compacted chunks")
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

    /// Replaces the chunks `run` (adjacent in the series' order: no other chunk lies between them) by chunks cut by
    /// `policy`, reading and deleting the run as one range; returns the new chunks' headers.
    func rewrite(
        seriesID: Int64, _ run: ArraySlice<ChunkHeader>, policy: ChunkPolicy
    ) throws(StoreError) -> [ChunkHeader] {
        guard let first = run.first, let last = run.last else { return [] }
        var times: [Int64] = []
        var values: [Double] = []
        times.reserveCapacity(Int(run.reduce(0) { $0 + $1.count }))
        values.reserveCapacity(times.capacity)
        selectData.bind(seriesID, at: 1)
        selectData.bind(first.startTs, at: 2)
        selectData.bind(last.startTs, at: 3)
        defer { selectData.reset() }
        var found = 0
        while try selectData.step() {
            let decoded = try ChunkCodec.decode(
                selectData.blob(at: 1), seriesID: seriesID, startTs: selectData.int64(at: 0), operation: "compact")
            times += decoded.timestamps
            values += decoded.values
            found += 1
        }
        selectData.reset()
        guard found == run.count else {
            throw .sqlite(
                code: 11, operation: "compact",
                message: "series \(seriesID): \(run.count) chunks from \(first.startTs) expected, \(found) found")
        }
        delete.bind(seriesID, at: 1)
        delete.bind(first.startTs, at: 2)
        delete.bind(last.startTs, at: 3)
        try delete.run()
        var written: [ChunkHeader] = []
        for range in policy.cut(times[...]) {
            try ChunkRow.bind(insert, seriesID: seriesID, times[range], values[range])
            try insert.run()
            written.append(ChunkHeader(startTs: times[range.lowerBound], endTs: times[range.upperBound - 1], count: Int64(range.count)))
        }
        return written
    }
}
