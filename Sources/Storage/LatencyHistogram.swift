// Fixed-bucket latency histograms, in the shape Prometheus exposes: upper bounds in ms, one count per bucket plus
// one for everything above the last bound, and the sum. Recording is O(buckets) with no allocation.

/// A latency distribution with fixed buckets, cheap enough to record every batch and readable as a Prometheus
/// histogram or as an approximate percentile.
public struct LatencyHistogram: Equatable, Sendable {
    /// Upper bounds of the buckets, ms, ascending; one more bucket counts the rest.
    public let boundsMs: [Double]
    /// Observations per bucket, parallel to `boundsMs` plus the overflow bucket.
    public private(set) var counts: [UInt64]
    /// Sum of all observations, ms.
    public private(set) var sumMs: Double = 0

    /// An empty histogram with buckets ending at `boundsMs`.
    public init(boundsMs: [Double]) {
        self.boundsMs = boundsMs
        self.counts = Array(repeating: 0, count: boundsMs.count + 1)
    }

    /// Observations so far.
    public var count: UInt64 { counts.reduce(0, +) }

    /// Adds one observation.
    public mutating func record(_ milliseconds: Double) {
        let bucket = boundsMs.firstIndex { milliseconds <= $0 } ?? boundsMs.count
        counts[bucket] += 1
        sumMs += milliseconds
    }

    /// Adds every observation of `other`, which has the same buckets.
    public mutating func add(_ other: LatencyHistogram) {
        precondition(other.boundsMs == boundsMs, "histograms with different buckets")
        for index in counts.indices { counts[index] += other.counts[index] }
        sumMs += other.sumMs
    }

    /// Commit latency: BEGIN to the end of COMMIT.
    public static func commitBuckets() -> LatencyHistogram {
        LatencyHistogram(boundsMs: [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000])
    }

    /// Batch latency: queued to committed. Finer where the ack-latency target lies (≤ 20 ms).
    public static func batchBuckets() -> LatencyHistogram {
        LatencyHistogram(boundsMs: [0.5, 1, 2, 3, 5, 7.5, 10, 12.5, 15, 20, 30, 50, 75, 100, 250, 500, 1000])
    }
}
