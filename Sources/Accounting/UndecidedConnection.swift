/// A connection that closed before its first bytes told which protocol it speaks (the collector serves HTTP/1.1
/// and h2c on one port): its row, so that it too is counted once and its bytes are attributed.
public enum UndecidedConnection {
    /// The row and counters of a connection closed after reading `bytesRead` bytes, all of which matched the
    /// HTTP/2 preface so far: h2c overhead when it sent any, else REST overhead (a client that never spoke).
    /// `link`: the connection's TCP segments.
    public static func row(bytesRead: Int, link: LinkTotals = LinkTotals()) -> (BandwidthKey, BandwidthCounters) {
        var counters = linkCounters(link)
        counters.bytesIn.framing += Int64(bytesRead)
        return (.overhead(bytesRead > 0 ? .h2c : .restJSON), counters)
    }

    /// The row of a TLS connection closed before its inner protocol was known, with its TLS bytes and segments
    /// (`link`) and `bytesRead` plaintext bytes that matched the HTTP/2 preface so far.
    public static func tlsRow(bytesRead: Int, link: LinkTotals) -> (BandwidthKey, BandwidthCounters) {
        var counters = linkCounters(link)
        counters.bytesIn.framing += Int64(bytesRead)
        return (.overhead(.tls), counters)
    }

    /// One connection, with everything `link` counted (TLS bytes, segments).
    public static func linkCounters(_ link: LinkTotals) -> BandwidthCounters {
        var booking = LinkBooking()
        var counters = booking.growth(to: link) ?? BandwidthCounters()
        counters.connections = 1
        return counters
    }
}
