// One HTTP/1.1 connection's share of the bandwidth ledger: requests' parts and socket counts in, rows out (rules:
// ConnectionLedger.swift).
//
// Requests are answered one at a time, so the connection's row is simply the row of the request being read or
// answered (`requestKey`, set when its head is routed and cleared after its response is queued), else the REST
// overhead row. A request's inbound bytes come from the parser's exact offsets when it completes or is refused;
// bytes read but never booked that way are framing of the connection's row at close.

/// Attributes one HTTP/1.1 connection's bytes; owned by the connection's loop thread.
public struct HTTP1ConnectionLedger: ConnectionLedger {
    /// Where bytes that belong to no request go.
    public static let overheadKey = BandwidthKey.overhead(.restJSON)

    /// The row of the request being read or answered; nil between requests.
    public var requestKey: BandwidthKey? {
        didSet { if let requestKey { lastRequestKey = requestKey } }
    }
    /// The row of the latest request, which TLS bytes and segments between requests go to.
    private var lastRequestKey: BandwidthKey?
    /// True once the connection has been counted (at its first booked request, or at close).
    public private(set) var isConnectionCounted = false
    private var rows: [BandwidthKey: BandwidthCounters] = [:]
    private var output = WrittenBytes<(key: BandwidthKey, part: TrafficPart)>()
    private var bytesRead = 0
    private var bytesBooked = 0
    private var linkBooking = LinkBooking()

    /// Nothing booked yet, and no request in progress.
    public init() {}

    /// The row bytes of the current request, or of no request, go to.
    public var connectionKey: BandwidthKey { requestKey ?? Self.overheadKey }

    /// `count` bytes were read from the socket; what no request books becomes framing of the connection's row at close.
    public mutating func read(_ count: Int) { bytesRead += count }

    /// A request's bytes as the parser delimited them (head, chunk framing, body), booked to the connection's row;
    /// the connection's first booked request also counts the connection there.
    public mutating func received(_ request: Traffic) {
        var counters = BandwidthCounters(bytesIn: request)
        if !isConnectionCounted {
            isConnectionCounted = true
            counters.connections = 1
        }
        bytesBooked += Int(request.total)
        rows[connectionKey, default: BandwidthCounters()] += counters
    }

    /// Books the TLS bytes and segments that grew since the last call to the row of the current request, else of
    /// the latest one (a keep-alive connection's TLS bytes belong to the device it carries), else the overhead row.
    public mutating func link(_ totals: LinkTotals) {
        guard let growth = linkBooking.growth(to: totals) else { return }
        rows[requestKey ?? lastRequestKey ?? Self.overheadKey, default: BandwidthCounters()] += growth
    }

    /// Queues a response (or a `100 Continue`, or one write of a streamed response) for the connection's row, in
    /// this order of parts, booked as `written` reports it sent.
    public mutating func queue(header: Int, framing: Int = 0, payload: Int) {
        output.append((connectionKey, .header), count: header)
        output.append((connectionKey, .framing), count: framing)
        output.append((connectionKey, .payload), count: payload)
    }

    /// `count` bytes were written to the socket: books the queued headers and payloads they cover, in order.
    public mutating func written(_ count: Int) {
        var pending = output  // moved out, so booking below may touch the rest of `self`
        output = WrittenBytes()
        pending.written(count) { tag, count in
            rows[tag.key, default: BandwidthCounters()].bytesOut.add(Int64(count), as: tag.part)
        }
        output = pending
    }

    /// Hands over the non-empty rows booked so far; they start again from zero.
    public mutating func drain(into sink: (BandwidthKey, BandwidthCounters) -> Void) {
        for (key, counters) in rows where !counters.isZero { sink(key, counters) }
        // Released, not kept: an idle keep-alive connection holds no row storage (about 500 bytes each, measured
        // with 2,000 idle HTTP/1.1 connections); the next request allocates it again.
        rows = [:]
    }

    /// At close: bytes read that no request booked, and the connection's count if no request made it, go to the
    /// connection's row. Output never written is never booked.
    public mutating func close(into sink: (BandwidthKey, BandwidthCounters) -> Void) {
        var counters = BandwidthCounters(bytesIn: Traffic(.framing, Int64(max(bytesRead - bytesBooked, 0))))
        bytesBooked = bytesRead
        if !isConnectionCounted {
            isConnectionCounted = true
            counters.connections = 1
        }
        rows[connectionKey, default: BandwidthCounters()] += counters
        drain(into: sink)
    }
}
