// What a connection cost below the bytes its protocol handler parsed: TLS (handshake records, record overhead) and
// TCP segments. The transport keeps these as running totals; its connection ledger books what grew since the last
// look (`LinkBooking`) to the connection's row, so TLS bytes and segments follow the same attribution rule as the
// connection-level bytes of each transport (ConnectionLedger.swift).

/// Running totals of one connection's TLS bytes and TCP segments, as its transport reports them.
public struct LinkTotals: Equatable, Sendable {
    /// TLS handshake bytes received and sent.
    public var tlsHandshakeIn: Int64 = 0
    public var tlsHandshakeOut: Int64 = 0
    /// TLS record overhead received and sent.
    public var tlsRecordIn: Int64 = 0
    public var tlsRecordOut: Int64 = 0
    /// TCP segments received and sent.
    public var segmentsIn: Int64 = 0
    public var segmentsOut: Int64 = 0

    /// All zero.
    public init() {}

    /// Memberwise.
    public init(
        tlsHandshakeIn: Int64, tlsHandshakeOut: Int64, tlsRecordIn: Int64, tlsRecordOut: Int64, segmentsIn: Int64,
        segmentsOut: Int64
    ) {
        self.tlsHandshakeIn = tlsHandshakeIn
        self.tlsHandshakeOut = tlsHandshakeOut
        self.tlsRecordIn = tlsRecordIn
        self.tlsRecordOut = tlsRecordOut
        self.segmentsIn = segmentsIn
        self.segmentsOut = segmentsOut
    }
}

/// Turns running `LinkTotals` into the counters that grew since the previous call.
public struct LinkBooking: Sendable {
    private var booked = LinkTotals()

    /// Nothing booked yet.
    public init() {}

    /// The growth since the last call as counters (TLS parts of `bytesIn`/`bytesOut`, segments); nil when nothing
    /// grew. A total that went down (a transport that cannot report segments any more) books nothing for it.
    public mutating func growth(to totals: LinkTotals) -> BandwidthCounters? {
        var counters = BandwidthCounters()
        counters.bytesIn.tlsHandshake = max(totals.tlsHandshakeIn - booked.tlsHandshakeIn, 0)
        counters.bytesOut.tlsHandshake = max(totals.tlsHandshakeOut - booked.tlsHandshakeOut, 0)
        counters.bytesIn.tlsRecord = max(totals.tlsRecordIn - booked.tlsRecordIn, 0)
        counters.bytesOut.tlsRecord = max(totals.tlsRecordOut - booked.tlsRecordOut, 0)
        counters.segmentsIn = max(totals.segmentsIn - booked.segmentsIn, 0)
        counters.segmentsOut = max(totals.segmentsOut - booked.segmentsOut, 0)
        booked.tlsHandshakeIn = max(booked.tlsHandshakeIn, totals.tlsHandshakeIn)
        booked.tlsHandshakeOut = max(booked.tlsHandshakeOut, totals.tlsHandshakeOut)
        booked.tlsRecordIn = max(booked.tlsRecordIn, totals.tlsRecordIn)
        booked.tlsRecordOut = max(booked.tlsRecordOut, totals.tlsRecordOut)
        booked.segmentsIn = max(booked.segmentsIn, totals.segmentsIn)
        booked.segmentsOut = max(booked.segmentsOut, totals.segmentsOut)
        return counters.isZero ? nil : counters
    }
}
