import Chunks
import Storage

// Version 3 → 4: the row-per-reading `readings` table becomes `chunks`. Runs inside the migration's transaction
// (SchemaMigration.swift), so a crash or an error leaves the file at version 3, untouched.
//
// Rule: every series' readings are read in (series_id, ts) order, cut by `ChunkPolicy.standard` and written as
// chunks, values bit for bit; then the old table and its view are dropped. The counters in `devices` and
// `series` already count exactly these readings and stay as they are.

/// The data-moving step of the version 4 upgrade.
enum SchemaUpgradeToChunks {
    /// The tables version 4 adds, text as in schema/sqlite.sql.
    static var createTables: String {
        let text = SchemaSQL.text
        guard let chunks = text.range(of: "CREATE TABLE chunks ("),
            let end = text.range(of: "-- Every batch stored")
        else { preconditionFailure("schema/sqlite.sql lost its chunks and rollups tables") }
        return String(text[chunks.lowerBound..<end.lowerBound])
    }

    /// Moves the readings into chunks and drops the old table; leaves user_version 4.
    static func run(_ database: Database) throws(StoreError) {
        try database.execute(createTables, operation: "create chunk tables")
        let select = try database.prepare(
            "SELECT series_id, ts, value FROM readings ORDER BY series_id, ts", operation: "read readings to move")
        let insert = try database.prepare(ChunkRow.insertSQL, operation: "insert moved chunk")
        var seriesID: Int64 = -1
        var times: [Int64] = []
        var values: [Double] = []
        func flush() throws(StoreError) {
            for range in ChunkPolicy.standard.cut(times[...]) {
                try ChunkRow.bind(insert, seriesID: seriesID, times[range], values[range])
                try insert.run()
            }
            times.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
        }
        defer { select.reset() }
        while try select.step() {
            let id = select.int64(at: 0)
            if id != seriesID {
                if !times.isEmpty { try flush() }
                seriesID = id
            }
            times.append(select.int64(at: 1))
            values.append(select.double(at: 2))
        }
        if !times.isEmpty { try flush() }
        select.reset()
        try database.execute(
            """
            DROP VIEW readings_view;
            DROP TABLE readings;
            PRAGMA user_version = 4;
            """, operation: "drop the readings table")
    }
}
