// What a connection's link cost beyond the plaintext its handler parsed, sampled for its ledger: the TLS
// transport's byte counts (read at every drain: a field read) and the socket's TCP segment counts (a
// getsockopt(TCP_INFO) call, so at most once a second while open, and once more at close).

import Accounting
import Clocks
import EventIO
import TLS

/// Samples a transport's `LinkTotals` for one connection's ledger.
struct LinkSampler {
    /// Least time between two TCP_INFO reads of an open connection.
    static let segmentInterval: UInt64 = 1_000_000_000

    private var segments: SegmentCounts?
    private var sampledAtNs: UInt64 = 0

    /// The running totals of `transport`; `final` (at close) always reads the segments.
    mutating func totals(of transport: any ByteTransport, final: Bool) -> LinkTotals {
        let now = MonotonicClock.nowNs()
        if final || segments == nil || now &- sampledAtNs >= Self.segmentInterval {
            segments = transport.segmentCounts ?? segments
            sampledAtNs = now
        }
        var totals = LinkTotals()
        if let tls = transport as? TLSTransport {
            totals.tlsHandshakeIn = Int64(tls.byteCounts.handshakeIn)
            totals.tlsHandshakeOut = Int64(tls.byteCounts.handshakeOut)
            totals.tlsRecordIn = Int64(tls.byteCounts.recordIn)
            totals.tlsRecordOut = Int64(tls.byteCounts.recordOut)
        }
        if let segments {
            totals.segmentsIn = Int64(segments.inbound)
            totals.segmentsOut = Int64(segments.outbound)
        }
        return totals
    }
}
