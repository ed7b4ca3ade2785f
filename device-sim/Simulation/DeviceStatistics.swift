// What one device did, counted as it happens; the report adds them up per protocol.
//
// Counting rules (the report's totals depend on them):
// - generated: batches and readings the device produced (every reading of every closed batch).
// - sent: transmissions. A batch sent twice (after a failure) counts twice in `batchesSent` and `readingsSent`, and
//   once in `batchesRetried`; so `batchesSent − batchesRetried` batches were sent at least once.
// - acked: batches released by an acknowledgement that covered them, and their readings. Each batch is acked at
//   most once, so `batchesGenerated = batchesAcked + batchesDroppedFull + batchesDroppedRejected + buffered`.
// - stored: what the Acks reported (`Ack.readings`, `Ack.duplicate_batches`): the collector's view, which counts a
//   re-sent batch it already had as a duplicate with no readings. This is what the collector's own reading counts
//   are compared with.
// - bytes: exactly what the networking layer wrote to and read from the device's sockets, as it reports them:
//   over TLS the ciphertext, so `bytesSent = plaintext sent + tls.handshakeSent + tls.recordSent` (and received
//   alike); `tls` is the part beyond the plaintext.
// - segments: TCP segments of the device's closed connections as the kernel counted them (data, ACK, SYN, FIN).
//   The estimated link bytes add 52 bytes per segment (IPv4 20 + TCP 20 + timestamps 12): an estimate, since
//   Ethernet framing, IPv6 and options vary.

/// Counters of one device; see above.
public struct DeviceStatistics: Equatable, Sendable {
    /// Batches produced.
    public var batchesGenerated: Int64 = 0
    /// Readings produced.
    public var readingsGenerated: Int64 = 0
    /// Batch transmissions (re-sends included).
    public var batchesSent: Int64 = 0
    /// Readings in those transmissions.
    public var readingsSent: Int64 = 0
    /// Transmissions that were re-sends.
    public var batchesRetried: Int64 = 0
    /// Batches released by an acknowledgement.
    public var batchesAcked: Int64 = 0
    /// Readings in those batches.
    public var readingsAcked: Int64 = 0
    /// Sum of `Ack.readings`: readings the collector newly stored.
    public var readingsStored: Int64 = 0
    /// Sum of `Ack.duplicateBatches`: re-sent batches the collector already had.
    public var duplicateBatches: Int64 = 0
    /// Batches dropped because the buffer was full (oldest first).
    public var batchesDroppedFull: Int64 = 0
    /// Batches dropped because the collector refused them for good.
    public var batchesDroppedRejected: Int64 = 0
    /// Readings in dropped batches, for either reason.
    public var readingsDropped: Int64 = 0
    /// Bytes written to the device's sockets.
    public var bytesSent: Int64 = 0
    /// Bytes read from the device's sockets.
    public var bytesReceived: Int64 = 0
    /// TLS handshake and record-overhead bytes, included in `bytesSent` / `bytesReceived`.
    public var tls = TLSBytes()
    /// Completed TLS handshakes by kind.
    public var handshakes = HandshakeCounts()
    /// TCP segments sent on the device's connections.
    public var segmentsSent: Int64 = 0
    /// TCP segments received on the device's connections.
    public var segmentsReceived: Int64 = 0
    /// Connections established.
    public var connections: Int64 = 0
    /// Calls or requests made (Upload streams, Pushes, POSTs).
    public var calls: Int64 = 0
    /// Failures by kind.
    public var errors = ErrorCounts()
    /// Acknowledgement latencies.
    public var latency = LatencySummary()

    /// All zero.
    public init() {}

    /// All batches dropped, for either reason.
    public var batchesDropped: Int64 { batchesDroppedFull + batchesDroppedRejected }

    /// Wire bytes in both directions per acknowledged reading; nil before the first acknowledgement.
    public var bytesPerReading: Double? {
        readingsAcked > 0 ? Double(bytesSent + bytesReceived) / Double(readingsAcked) : nil
    }

    /// IPv4 + TCP header bytes (with timestamps) assumed per segment for the link estimate.
    public static let headerBytesPerSegment: Int64 = 52

    /// Estimated bytes on the link, both directions: socket bytes plus 52 per TCP segment (an estimate).
    public var estimatedLinkBytes: Int64 {
        bytesSent + bytesReceived + Self.headerBytesPerSegment * (segmentsSent + segmentsReceived)
    }

    /// Estimated link bytes per acknowledged reading; nil before the first acknowledgement.
    public var estimatedLinkBytesPerReading: Double? {
        readingsAcked > 0 ? Double(estimatedLinkBytes) / Double(readingsAcked) : nil
    }

    /// Adds another device's counters.
    public static func += (lhs: inout DeviceStatistics, rhs: DeviceStatistics) {
        lhs.batchesGenerated += rhs.batchesGenerated
        lhs.readingsGenerated += rhs.readingsGenerated
        lhs.batchesSent += rhs.batchesSent
        lhs.readingsSent += rhs.readingsSent
        lhs.batchesRetried += rhs.batchesRetried
        lhs.batchesAcked += rhs.batchesAcked
        lhs.readingsAcked += rhs.readingsAcked
        lhs.readingsStored += rhs.readingsStored
        lhs.duplicateBatches += rhs.duplicateBatches
        lhs.batchesDroppedFull += rhs.batchesDroppedFull
        lhs.batchesDroppedRejected += rhs.batchesDroppedRejected
        lhs.readingsDropped += rhs.readingsDropped
        lhs.bytesSent += rhs.bytesSent
        lhs.bytesReceived += rhs.bytesReceived
        lhs.tls += rhs.tls
        lhs.handshakes += rhs.handshakes
        lhs.segmentsSent += rhs.segmentsSent
        lhs.segmentsReceived += rhs.segmentsReceived
        lhs.connections += rhs.connections
        lhs.calls += rhs.calls
        lhs.errors += rhs.errors
        lhs.latency += rhs.latency
    }
}
