// Reading pages: keyset pagination over (ts, sensor) for one device.
//
// Rule: a page in ascending order holds the rows with key (ts, sensor) > cursor, smallest first; descending, the
// rows with key < cursor, largest first. Rows are clustered by (series_id, ts), so each of the device's series is
// read as a stream along its index, starting at the cursor, in chunks of at most `chunkSize` rows, and the streams
// are merged by key until the page has limit + 1 rows (the extra row only tells that another page exists). A page
// therefore costs about limit + series × chunk rows, however deep into the range it starts, and its memory stays
// bounded even for a device with many sensors.

import Storage
import Telemetry

extension ReadConnection {
    /// Rows read from one series per query when filling a page.
    static let readingsChunkSize = 1_024

    /// One page of a device's readings in `[lowMs, highMs]` (both inclusive), after `cursor` in `order`.
    func readings(
        deviceID: String, sensor: String?, lowMs: Int64, highMs: Int64, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?, chunkSize: Int = readingsChunkSize
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
            let chunk = Int64(min(limit + 1, max(1, chunkSize)))
            var streams: [SeriesStream] = []
            for series in try seriesOf(deviceRowID: deviceRowID, sensor: sensor) {
                guard let (low, high) = Self.range(of: series.sensor, lowMs, highMs, after: cursor) else { continue }
                streams.append(SeriesStream(sensor: series.sensor, seriesID: series.id, low: low, high: high))
            }

            var rows: [Reading] = []
            while rows.count <= limit {
                var best: Int?
                for index in streams.indices {
                    if streams[index].isDrained {
                        try streams[index].refill(select, chunk: chunk, isAscending: isAscending, on: self)
                    }
                    guard let head = streams[index].head else { continue }
                    if let current = best {
                        let other = streams[current]
                        let isBefore =
                            isAscending
                            ? (head.ts, streams[index].sensor) < (other.head!.ts, other.sensor)
                            : (head.ts, streams[index].sensor) > (other.head!.ts, other.sensor)
                        if isBefore { best = index }
                    } else {
                        best = index
                    }
                }
                guard let best, let head = streams[best].head else { break }
                rows.append(Reading(sensor: streams[best].sensor, ts: head.ts, value: head.value))
                streams[best].next += 1
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

/// One series read in order, a chunk at a time: the rows fetched and not yet merged, and the part of its range
/// not fetched yet.
private struct SeriesStream {
    let sensor: String
    let seriesID: Int64
    /// Unfetched part of the range (inclusive); shrinks from the front in ascending order, from the back in
    /// descending order.
    var low: Int64
    var high: Int64
    var rows: [(ts: Int64, value: Double)] = []
    var next = 0
    var isExhausted = false

    init(sensor: String, seriesID: Int64, low: Int64, high: Int64) {
        self.sensor = sensor
        self.seriesID = seriesID
        self.low = low
        self.high = high
    }

    /// The next row to merge, nil when the fetched rows are used up.
    var head: (ts: Int64, value: Double)? { next < rows.count ? rows[next] : nil }

    /// True when the fetched rows are used up but the range may hold more.
    var isDrained: Bool { next == rows.count && !isExhausted }

    /// Fetches the next chunk of the range.
    mutating func refill(
        _ select: Statement, chunk: Int64, isAscending: Bool, on connection: ReadConnection
    ) throws(StoreError) {
        rows.removeAll(keepingCapacity: true)
        next = 0
        select.bind(seriesID, at: 1)
        select.bind(low, at: 2)
        select.bind(high, at: 3)
        select.bind(chunk, at: 4)
        try connection.forEachRow(select) { row in rows.append((row.int64(at: 0), row.double(at: 1))) }
        guard rows.count == chunk, let last = rows.last else {
            isExhausted = true
            return
        }
        if isAscending {
            if last.ts == .max { isExhausted = true } else { low = last.ts + 1 }
        } else {
            if last.ts == .min { isExhausted = true } else { high = last.ts - 1 }
        }
        if low > high { isExhausted = true }
    }
}
