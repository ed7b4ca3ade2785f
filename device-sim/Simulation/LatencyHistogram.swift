// Acknowledgement latencies of one protocol, in fixed memory, with percentiles to within 0.4 %.
//
// Buckets are laid out as in HdrHistogram with 7 sub-bucket bits: values below 256 ns each have a bucket of their
// own; above that, every power-of-two range [2^(g+7), 2^(g+8)) is split into 128 equal buckets of width 2^g. So a
// bucket's width is at most 1/128 of its lower bound, and reporting a bucket's midpoint is off by at most 1/256 of
// the value (≈ 0.39 %) for any value in it. Index of a value v with bit length b:
//
//     g = max(0, b − 8);   index = g == 0 ? v : g × 128 + (v >> g)      (v >> g is in [128, 256))
//
// Values up to 2^44 ns (≈ 4.9 h) are covered, 38 × 128 = 4,864 buckets (38 KB); longer ones are counted in the
// last bucket (the exact maximum is kept on the side). Percentiles use the nearest-rank definition: the p-th
// percentile of n values is the ⌈p × n⌉-th smallest, reported as its bucket's midpoint clamped to the exact
// minimum and maximum. Histograms of different event loops merge by adding counts.

/// A log-bucket latency histogram; see above.
public struct LatencyHistogram: Equatable, Sendable {
    /// Sub-bucket bits: 128 buckets per power of two.
    static let subBucketBits = 7
    /// Buckets per power of two.
    static let subBucketCount = 1 << subBucketBits
    /// The largest group g; values from 2^(maxGroup + 8) on are clamped.
    static let maxGroup = 36
    /// Number of buckets.
    static let bucketCount = (maxGroup + 2) * subBucketCount
    /// The largest value with a bucket of its own range.
    static let largestTrackable: UInt64 = (1 << UInt64(maxGroup + subBucketBits + 1)) - 1

    /// Counts per bucket.
    private var counts: [UInt64]
    /// Values recorded.
    public private(set) var count: Int64 = 0
    /// Their sum, in ns.
    public private(set) var totalNs: UInt64 = 0
    /// The smallest, in ns (0 when empty).
    public private(set) var minNs: UInt64 = 0
    /// The largest, in ns (0 when empty).
    public private(set) var maxNs: UInt64 = 0

    /// An empty histogram.
    public init() {
        counts = [UInt64](repeating: 0, count: Self.bucketCount)
    }

    /// Records one latency in ns.
    public mutating func record(_ ns: UInt64) {
        counts[Self.index(of: ns)] += 1
        minNs = count == 0 ? ns : min(minNs, ns)
        maxNs = max(maxNs, ns)
        count += 1
        totalNs &+= ns
    }

    /// The mean in ns; nil when empty.
    public var meanNs: Double? { count > 0 ? Double(totalNs) / Double(count) : nil }

    /// The nearest-rank percentile `fraction` (0…1, e.g. 0.99) in ns, within 0.4 %; nil when empty.
    public func percentile(_ fraction: Double) -> UInt64? {
        guard count > 0 else { return nil }
        let rank = max(1, Int64((fraction * Double(count)).rounded(.up)))
        var seen: Int64 = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += Int64(bucketCount)
            if seen >= rank { return min(max(Self.midpoint(of: index), minNs), maxNs) }
        }
        return maxNs
    }

    /// Adds another histogram's values.
    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        for index in counts.indices { counts[index] += other.counts[index] }
        minNs = count == 0 ? other.minNs : min(minNs, other.minNs)
        maxNs = max(maxNs, other.maxNs)
        count += other.count
        totalNs &+= other.totalNs
    }

    /// The bucket of `value`.
    static func index(of value: UInt64) -> Int {
        let clamped = min(value, largestTrackable)
        let group = max(0, (64 - clamped.leadingZeroBitCount) - (subBucketBits + 1))
        return group == 0 ? Int(clamped) : group * subBucketCount + Int(clamped >> UInt64(group))
    }

    /// The middle of bucket `index`'s range of values.
    static func midpoint(of index: Int) -> UInt64 {
        guard index >= 2 * subBucketCount else { return UInt64(index) }
        let group = index / subBucketCount - 1
        let low = UInt64(index - group * subBucketCount) << UInt64(group)
        return low + ((1 << UInt64(group)) - 1) / 2
    }
}
