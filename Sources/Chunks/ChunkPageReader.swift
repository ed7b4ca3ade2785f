// Reading pages: keyset pagination over (ts, sensor) for one device, over any backend's chunks.
//
// Rule: a page in ascending order holds the rows with key (ts, sensor) > cursor, smallest first; descending, the
// rows with key < cursor, largest first. Each of the device's series is read as a stream of its chunks, starting
// at the chunk that holds the cursor, one decoded chunk at a time, and the streams are merged by key until the page
// has limit + 1 rows (the extra row only tells that another page exists). A page therefore decodes about limit +
// series × one chunk of readings, however deep into the range it starts, and its memory stays bounded even for a
// device with many sensors. The backend supplies one query: the next chunk of a series in the page's order.

import Storage
import Telemetry

/// A chunk's time range and its readings, decoded.
package struct DecodedChunk {
    package var startTs: Int64
    package var endTs: Int64
    package var timestamps: [Int64]
    package var values: [Double]

    /// Memberwise.
    package init(startTs: Int64, endTs: Int64, timestamps: [Int64], values: [Double]) {
        self.startTs = startTs
        self.endTs = endTs
        self.timestamps = timestamps
        self.values = values
    }
}

/// Builds one readings page from chunks (see the file header).
package enum ChunkPageReader {
    /// One page of the readings of `series` (sensor name, the backend's series id) in `[lowMs, highMs]` (both
    /// inclusive), after `cursor` in `order`. `fetch(seriesID, low, high)` returns, ascending, the first chunk that
    /// may hold readings at or after `low` and starts at or before `high` (the last one starting at or before `low`
    /// when it reaches past it, else the first one after); descending, the last chunk starting at or before `high`;
    /// nil when there is none.
    package static func page(
        series: [(sensor: String, id: Int64)], lowMs: Int64, highMs: Int64, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?, fetch: (Int64, Int64, Int64) throws(StoreError) -> DecodedChunk?
    ) throws(StoreError) -> ReadingPage {
        let isAscending = order == .ascending
        var streams: [SeriesStream] = []
        for (sensor, id) in series {
            guard let (low, high) = range(of: sensor, lowMs, highMs, after: cursor) else { continue }
            streams.append(SeriesStream(sensor: sensor, seriesID: id, low: low, high: high))
        }
        var rows: [Reading] = []
        while rows.count <= limit {
            var best: Int?
            for index in streams.indices {
                if streams[index].isDrained { try streams[index].refill(isAscending: isAscending, fetch: fetch) }
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
        return ReadingPage(readings: rows, nextCursor: ReadingCursor(ts: last.ts, sensor: last.sensor, order: order))
    }

    /// The ts range (inclusive) of `sensor` that lies in `[lowMs, highMs]` and after `cursor`; nil when empty.
    static func range(
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
struct SeriesStream {
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
    mutating func refill(
        isAscending: Bool, fetch: (Int64, Int64, Int64) throws(StoreError) -> DecodedChunk?
    ) throws(StoreError) {
        rows.removeAll(keepingCapacity: true)
        next = 0
        while rows.isEmpty && !isExhausted {
            guard let chunk = try fetch(seriesID, low, high) else {
                isExhausted = true
                return
            }
            if isAscending {
                for index in chunk.timestamps.indices where chunk.timestamps[index] >= low && chunk.timestamps[index] <= high {
                    rows.append((chunk.timestamps[index], chunk.values[index]))
                }
                if chunk.endTs >= high || chunk.endTs == .max { isExhausted = true } else { low = chunk.endTs + 1 }
            } else {
                for index in chunk.timestamps.indices.reversed()
                where chunk.timestamps[index] >= low && chunk.timestamps[index] <= high {
                    rows.append((chunk.timestamps[index], chunk.values[index]))
                }
                if chunk.startTs <= low || chunk.startTs == .min { isExhausted = true } else { high = chunk.startTs - 1 }
            }
        }
    }
}
