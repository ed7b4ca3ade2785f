// Reading pages: keyset pagination over (ts, sensor) for one device.
//
// Rule: a page in ascending order holds the rows with key (ts, sensor) > cursor, smallest first; descending, the
// rows with key < cursor, largest first. Each of the device's series is read as a stream of its chunks (clustered
// by (series_id, start_ts)), starting at the chunk that holds the cursor, one decoded chunk at a time, and the
// streams are merged by key until the page has limit + 1 rows (the extra row only tells that another page exists).
// A page therefore decodes about limit + series × one chunk of readings, however deep into the range it starts,
// and its memory stays bounded even for a device with many sensors.

import Storage
import Telemetry

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
                isAscending ? Self.nextChunkSQL : Self.previousChunkSQL, operation: "read chunk")
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
                        try streams[index].refill(select, isAscending: isAscending, on: self)
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

/// One series read in order, a chunk at a time: the readings of the last chunk decoded that are not merged yet,
/// and the part of the range not read yet.
private struct SeriesStream {
    let sensor: String
    let seriesID: Int64
    /// Unread part of the range (inclusive); shrinks from the front in ascending order, from the back in
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

    /// The next row to merge, nil when the decoded rows are used up.
    var head: (ts: Int64, value: Double)? { next < rows.count ? rows[next] : nil }

    /// True when the decoded rows are used up but the range may hold more.
    var isDrained: Bool { next == rows.count && !isExhausted }

    /// Decodes chunks in order until one holds readings inside the unread range, or none is left.
    mutating func refill(_ select: Statement, isAscending: Bool, on connection: ReadConnection) throws(StoreError) {
        rows.removeAll(keepingCapacity: true)
        next = 0
        while rows.isEmpty && !isExhausted {
            select.bind(seriesID, at: 1)
            select.bind(low, at: 2)
            select.bind(high, at: 3)
            var chunk: (start: Int64, end: Int64, timestamps: [Int64], values: [Double])?
            try connection.forEachRow(select) { (row) throws(StoreError) in
                let decoded = try ReadConnection.decodeChunk(row, seriesID: seriesID)
                chunk = (row.int64(at: 0), row.int64(at: 1), decoded.timestamps, decoded.values)
            }
            guard let chunk else {
                isExhausted = true
                return
            }
            if isAscending {
                for index in chunk.timestamps.indices where chunk.timestamps[index] >= low && chunk.timestamps[index] <= high {
                    rows.append((chunk.timestamps[index], chunk.values[index]))
                }
                if chunk.end >= high || chunk.end == .max { isExhausted = true } else { low = chunk.end + 1 }
            } else {
                for index in chunk.timestamps.indices.reversed()
                where chunk.timestamps[index] >= low && chunk.timestamps[index] <= high {
                    rows.append((chunk.timestamps[index], chunk.values[index]))
                }
                if chunk.start <= low || chunk.start == .min { isExhausted = true } else { high = chunk.start - 1 }
            }
        }
    }
}
