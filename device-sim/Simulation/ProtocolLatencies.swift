// One latency histogram per protocol: what the report's p50/p99/p99.9 columns come from. An event loop keeps one
// for its devices; the loops' copies merge at the end.

/// Acknowledgement latencies by protocol.
public struct ProtocolLatencies: Equatable, Sendable {
    private var grpcStream = LatencyHistogram()
    private var grpcUnary = LatencyHistogram()
    private var rest = LatencyHistogram()
    private var grpcSync = LatencyHistogram()

    /// Empty histograms.
    public init() {}

    /// The histogram of one protocol.
    public subscript(deviceProtocol: DeviceProtocol) -> LatencyHistogram {
        get {
            switch deviceProtocol {
            case .grpcStream: grpcStream
            case .grpcUnary: grpcUnary
            case .rest: rest
            case .grpcSync: grpcSync
            }
        }
        set {
            switch deviceProtocol {
            case .grpcStream: grpcStream = newValue
            case .grpcUnary: grpcUnary = newValue
            case .rest: rest = newValue
            case .grpcSync: grpcSync = newValue
            }
        }
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
