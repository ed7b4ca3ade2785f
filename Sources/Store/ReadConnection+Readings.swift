// Reading pages: keyset pagination over (ts, sensor) for one device.
//
// Rule: a page in ascending order holds the rows with key (ts, sensor) > cursor, smallest first; descending, the
// rows with key < cursor, largest first. Rows are clustered by (series_id, ts), so the page is built by reading
// at most limit + 1 rows from each of the device's series (one index range each, starting at the cursor) and
// merging them: the cost of a page does not grow with how deep into the range it is.

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
            let isAscending = order == .ascending
            let select = try statement(
                "SELECT ts, value FROM readings WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3 "
                    + (isAscending ? "ORDER BY ts LIMIT ?4" : "ORDER BY ts DESC LIMIT ?4"),
                operation: "read readings")
            var rows: [StoredReading] = []
            for series in try seriesOf(deviceRowID: deviceRowID, sensor: sensor) {
                guard let (low, high) = Self.range(of: series.sensor, lowMs, highMs, after: cursor) else { continue }
                select.bind(series.id, at: 1)
                select.bind(low, at: 2)
                select.bind(high, at: 3)
                select.bind(Int64(limit) + 1, at: 4)
                try forEachRow(select) { row in
                    rows.append(StoredReading(sensor: series.sensor, ts: row.int64(at: 0), value: row.double(at: 1)))
                }
            }
            if isAscending {
                rows.sort { ($0.ts, $0.sensor) < ($1.ts, $1.sensor) }
            } else {
                rows.sort { ($0.ts, $0.sensor) > ($1.ts, $1.sensor) }
            }
            guard rows.count > limit else { return ReadingPage(readings: rows, nextCursor: nil) }
            rows.removeLast(rows.count - limit)
            let last = rows[rows.count - 1]
            return ReadingPage(
                readings: rows, nextCursor: ReadingCursor(ts: last.ts, sensor: last.sensor, order: order))
        }
    }

    /// The ts range (inclusive) of `sensor` that lies in `[lowMs, highMs]` and after `cursor`; nil when empty.
    private static func range(
        of sensor: String, _ lowMs: Int64, _ highMs: Int64, after cursor: ReadingCursor?
    ) -> (Int64, Int64)? {
        var low = lowMs
        var high = highMs
        if let cursor {
            switch cursor.order {
            case .ascending:
                // Keys after (ts, cursorSensor): same ts only for sensors sorting after the cursor's.
                if sensor > cursor.sensor {
                    low = max(low, cursor.ts)
                } else {
                    guard cursor.ts < .max else { return nil }
                    low = max(low, cursor.ts + 1)
                }
            case .descending:
                if sensor < cursor.sensor {
                    high = min(high, cursor.ts)
                } else {
                    guard cursor.ts > .min else { return nil }
                    high = min(high, cursor.ts - 1)
                }
            }
        }
        return low <= high ? (low, high) : nil
    }
}
