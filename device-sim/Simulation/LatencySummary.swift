// A device's acknowledgement latencies in four numbers: enough for its CSV row (mean, max) at 32 bytes. Percentiles
// need a histogram, which is too big to keep per device; the fleet keeps one per protocol (`LatencyHistogram`).

/// Count, sum, minimum and maximum of a set of latencies.
public struct LatencySummary: Equatable, Sendable {
    /// Latencies recorded.
    public private(set) var count: Int64 = 0
    /// Their sum, in ns.
    public private(set) var totalNs: UInt64 = 0
    /// The smallest, in ns (0 when empty).
    public private(set) var minNs: UInt64 = 0
    /// The largest, in ns (0 when empty).
    public private(set) var maxNs: UInt64 = 0

    /// An empty summary.
    public init() {}

    /// Adds one latency.
    public mutating func record(_ ns: UInt64) {
        minNs = count == 0 ? ns : min(minNs, ns)
        maxNs = max(maxNs, ns)
        count += 1
        totalNs &+= ns
    }

    /// The mean, in ns; nil when empty.
    public var meanNs: Double? { count > 0 ? Double(totalNs) / Double(count) : nil }

    /// Adds another summary.
    public static func += (lhs: inout LatencySummary, rhs: LatencySummary) {
        guard rhs.count > 0 else { return }
        lhs.minNs = lhs.count == 0 ? rhs.minNs : min(lhs.minNs, rhs.minNs)
        lhs.maxNs = max(lhs.maxNs, rhs.maxNs)
        lhs.count += rhs.count
        lhs.totalNs &+= rhs.totalNs
    }
}
