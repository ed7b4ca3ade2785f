/// One row of the bandwidth report: what one protocol cost for one device (or its overhead row). Byte counts come
/// from the connection ledgers; the other counters from the code that handled the call or request.
public struct BandwidthCounters: Equatable, Sendable {
    /// Bytes from the client.
    public var bytesIn = Traffic()
    /// Bytes to the client.
    public var bytesOut = Traffic()
    /// Readings newly stored.
    public var readings: Int64 = 0
    /// Batches received.
    public var batches: Int64 = 0
    /// Batches that were already stored.
    public var duplicateBatches: Int64 = 0
    /// gRPC calls or HTTP requests.
    public var calls: Int64 = 0
    /// Connections (counted under the row that received the connection's first request or stream).
    public var connections: Int64 = 0
    /// Calls or requests that ended in an error status.
    public var errors: Int64 = 0
    /// TCP segments received, as the kernel counted them (`TCP_INFO`), acknowledgements and handshakes included.
    public var segmentsIn: Int64 = 0
    /// TCP segments sent, as the kernel counted them.
    public var segmentsOut: Int64 = 0

    /// Every counter at zero.
    public init() {}

    /// Bytes only: `bytesIn` in, `bytesOut` out.
    public init(bytesIn: Traffic, bytesOut: Traffic = Traffic()) {
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
    }

    /// True when nothing was counted.
    public var isZero: Bool { self == BandwidthCounters() }

    /// Wire bytes per stored reading, both directions; nil before any reading.
    public var bytesPerReading: Double? {
        readings > 0 ? Double(bytesIn.total + bytesOut.total) / Double(readings) : nil
    }

    /// Bytes per segment below TCP that the link also carries, for the estimate: IPv4 (20) + TCP with timestamps
    /// (32).
    public static let estimatedHeaderBytesPerSegment: Int64 = 52

    /// An estimate of what the link carried, both directions: socket bytes + 52 bytes per TCP segment.
    public var estimatedLinkBytes: Int64 {
        bytesIn.total + bytesOut.total + Self.estimatedHeaderBytesPerSegment * (segmentsIn + segmentsOut)
    }

    /// Adds every counter of `rhs` to `lhs`.
    public static func += (lhs: inout BandwidthCounters, rhs: BandwidthCounters) {
        lhs.bytesIn += rhs.bytesIn
        lhs.bytesOut += rhs.bytesOut
        lhs.readings += rhs.readings
        lhs.batches += rhs.batches
        lhs.duplicateBatches += rhs.duplicateBatches
        lhs.calls += rhs.calls
        lhs.connections += rhs.connections
        lhs.errors += rhs.errors
        lhs.segmentsIn += rhs.segmentsIn
        lhs.segmentsOut += rhs.segmentsOut
    }
}
