// Time-bucketed aggregates of one series, filled from readings, chunk aggregates and rollups: the arithmetic of
// every series query, whichever backend read the chunks.
//
// Rule: a reading at ts belongs to the bucket starting at floor(ts / step) × step, floored toward −∞; a summary
// added whole must lie inside one bucket.

import Storage

/// Per-bucket count, min, max, compensated sum and latest reading, filled from chunks, readings and rollups.
package struct BucketAccumulator {
    /// One bucket's running aggregates.
    package struct Bucket {
        package var count: Int64 = 0
        package var min = Double.infinity
        package var max = -Double.infinity
        package var sum = CompensatedSum()
        package var lastTs = Int64.min
        package var last = 0.0
    }

    package let stepMs: Int64
    package var buckets: [Int64: Bucket] = [:]

    package init(stepMs: Int64) {
        self.stepMs = stepMs
    }

    /// The start of the bucket holding `ts` (floored toward −∞).
    /// A reading within one step of `Int64.min` has no bucket start that fits an Int64: it gets `Int64.min` (the
    /// bucket is then a little short), so such a time (a device may send any int64) never traps a query.
    package func bucket(of ts: Int64) -> Int64 {
        let remainder = ts % stepMs
        guard remainder < 0 else { return ts - remainder }
        let (start, overflow) = (ts - remainder).subtractingReportingOverflow(stepMs)
        return overflow ? .min : start
    }

    /// Adds one reading.
    package mutating func add(ts: Int64, value: Double) {
        let key = bucket(of: ts)
        var bucket = buckets[key] ?? Bucket()
        bucket.count += 1
        if value < bucket.min { bucket.min = value }
        if value > bucket.max { bucket.max = value }
        bucket.sum.add(value)
        if ts > bucket.lastTs {
            bucket.lastTs = ts
            bucket.last = value
        }
        buckets[key] = bucket
    }

    /// Adds a summary lying wholly inside one bucket (the one holding its start, or `bucketOf`).
    package mutating func add(_ summary: ChunkSummary, bucketOf ts: Int64? = nil) {
        let key = bucket(of: ts ?? summary.startTs)
        var bucket = buckets[key] ?? Bucket()
        bucket.count += summary.count
        if summary.min < bucket.min { bucket.min = summary.min }
        if summary.max > bucket.max { bucket.max = summary.max }
        bucket.sum.add(summary.sum)
        if summary.endTs > bucket.lastTs {
            bucket.lastTs = summary.endTs
            bucket.last = summary.last
        }
        buckets[key] = bucket
    }

    /// The non-empty buckets in time order, each reduced to `aggregate`.
    package func result(_ aggregate: SeriesAggregate) -> [SeriesBucket] {
        buckets.keys.sorted().map { start in
            let bucket = buckets[start]!
            let value: Double =
                switch aggregate {
                case .avg: bucket.sum.value / Double(bucket.count)
                case .min: bucket.min
                case .max: bucket.max
                case .sum: bucket.sum.value
                case .count: Double(bucket.count)
                case .last: bucket.last
                }
            return SeriesBucket(startMs: start, value: value, count: Int(bucket.count))
        }
    }
}
