// One latency histogram per protocol: what the report's p50/p99/p99.9 columns come from. An event loop keeps one
// for its devices; the loops' copies merge at the end.

/// Acknowledgement latencies by protocol.
public struct ProtocolLatencies: Equatable, Sendable {
    /// One histogram per protocol, at the protocol's `rank` (its position in `DeviceProtocol.allCases`).
    private var histograms = [LatencyHistogram](repeating: LatencyHistogram(), count: DeviceProtocol.allCases.count)

    /// Empty histograms.
    public init() {}

    /// The histogram of one protocol.
    public subscript(deviceProtocol: DeviceProtocol) -> LatencyHistogram {
        get { histograms[deviceProtocol.rank] }
        set { histograms[deviceProtocol.rank] = newValue }
    }

    /// Records one acknowledgement latency of a device using `deviceProtocol`.
    public mutating func record(_ ns: UInt64, for deviceProtocol: DeviceProtocol) {
        self[deviceProtocol].record(ns)
    }

    /// Adds another loop's histograms.
    public mutating func merge(_ other: ProtocolLatencies) {
        for deviceProtocol in DeviceProtocol.allCases { self[deviceProtocol].merge(other[deviceProtocol]) }
    }
}
