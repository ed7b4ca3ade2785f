// One protocol's line of the report: its devices' counters added up, and its latency percentiles.

/// Latency figures of a histogram, in ns; nil when nothing was acknowledged.
public struct LatencyPercentiles: Equatable, Sendable {
    /// Median.
    public var p50Ns: UInt64?
    /// 99th percentile.
    public var p99Ns: UInt64?
    /// 99.9th percentile.
    public var p999Ns: UInt64?
    /// Mean.
    public var meanNs: Double?
    /// Maximum (exact).
    public var maxNs: UInt64?

    /// The figures of `histogram`.
    public init(_ histogram: LatencyHistogram) {
        p50Ns = histogram.percentile(0.5)
        p99Ns = histogram.percentile(0.99)
        p999Ns = histogram.percentile(0.999)
        meanNs = histogram.meanNs
        maxNs = histogram.count > 0 ? histogram.maxNs : nil
    }
}

/// One protocol's totals; see above.
public struct ProtocolSummary: Equatable, Sendable {
    /// The protocol.
    public var deviceProtocol: DeviceProtocol
    /// Devices that used it.
    public var devices: Int
    /// Their counters, added up.
    public var statistics: DeviceStatistics
    /// Batches they still held at the end.
    public var bufferedBatches: Int
    /// Acknowledgement latencies.
    public var latency: LatencyPercentiles
    /// This protocol's bytes per reading divided by the best (lowest) protocol's; nil without readings.
    public var ratioToBest: Double?

    /// Wire bytes, both directions, per acknowledged reading; nil without readings.
    public var bytesPerReading: Double? { statistics.bytesPerReading }

    /// Estimated link bytes (socket bytes + 52 per TCP segment) per acknowledged reading; nil without readings.
    public var estimatedLinkBytesPerReading: Double? { statistics.estimatedLinkBytesPerReading }
}
