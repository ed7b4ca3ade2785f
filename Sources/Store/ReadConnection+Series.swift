import Storage

// Time-bucketed aggregates of one sensor, computed in SQL.
//
// Rule: a reading at ts belongs to the bucket starting at floor(ts / step) × step, floored toward −∞ (so −1 ms
// is in the bucket starting at −step, and a reading exactly on an edge starts its bucket). SQLite's `%` truncates
// toward zero, hence the CASE for negative ts. Only buckets holding at least one reading are returned.

extension ReadConnection {
    /// The non-empty `stepMs` buckets of one sensor within `[lowMs, highMs]` (inclusive).
    func series(
        deviceID: String, sensor: String, lowMs: Int64, highMs: Int64, stepMs: Int64, aggregate: SeriesAggregate
    ) throws(StoreError) -> [SeriesBucket] {
        try inReadTransaction { () throws(StoreError) -> [SeriesBucket] in
            guard lowMs <= highMs, let deviceRowID = try deviceRowID(deviceID),
                let series = try seriesOf(deviceRowID: deviceRowID, sensor: sensor).first
            else { return [] }
            let select = try statement(Self.seriesSQL(aggregate), operation: "aggregate series")
            select.bind(series.id, at: 1)
            select.bind(stepMs, at: 2)
            select.bind(lowMs, at: 3)
            select.bind(highMs, at: 4)
            var buckets: [SeriesBucket] = []
            try forEachRow(select) { row in
                buckets.append(
                    SeriesBucket(startMs: row.int64(at: 0), value: row.double(at: 1), count: Int(row.int64(at: 2))))
            }
            return buckets
        }
    }

    private static func seriesSQL(_ aggregate: SeriesAggregate) -> String {
        // `last`: SQLite takes the bare column `value` from the row that holds max(ts) in the group.
        let value =
            switch aggregate {
            case .avg: "avg(value)"
            case .min: "min(value)"
            case .max: "max(value)"
            case .sum: "total(value)"
            case .count: "count(*)"
            case .last: "value, count(*), max(ts)"
            }
        let count = aggregate == .last ? "" : ", count(*)"
        return """
            SELECT CASE WHEN ts >= 0 THEN ts - ts % ?2 ELSE ts - ((ts % ?2) + ?2) % ?2 END AS bucket,
                \(value)\(count)
            FROM readings WHERE series_id = ?1 AND ts BETWEEN ?3 AND ?4
            GROUP BY bucket ORDER BY bucket
            """
    }
}
