import Clocks

/// Logs refused connections at most every 10 s, with the counts since the last line: a connection flood must not
/// become a log flood, and an operator whose fleet outgrew a limit must still hear about it.
struct RefusalLog {
    private var loggedTotal: UInt64 = 0
    private var loggedAddress: UInt64 = 0
    private var lastLogMs: Int64 = 0

    /// Writes a line when connections were refused since the last one and 10 s have passed.
    mutating func report(_ context: CollectorContext, nowMs: Int64 = WallClock.nowMs()) {
        guard let limiter = context.limiter, nowMs - lastLogMs >= 10_000 else { return }
        let snapshot = limiter.snapshot()
        let overTotal = snapshot.refusedOverTotal - loggedTotal
        let overAddress = snapshot.refusedOverAddress - loggedAddress
        guard overTotal + overAddress > 0 else { return }
        var parts: [String] = []
        if overTotal > 0 { parts.append("\(overTotal) over --max-connections \(limiter.limits.maxConnections)") }
        if overAddress > 0 {
            parts.append("\(overAddress) over --max-connections-per-address \(limiter.limits.maxConnectionsPerAddress)")
        }
        let peer = snapshot.lastRefusedPeer.map { " (latest from \($0.ipAddress))" } ?? ""
        context.log.warning("refused connections: \(parts.joined(separator: ", "))\(peer)")
        loggedTotal = snapshot.refusedOverTotal
        loggedAddress = snapshot.refusedOverAddress
        lastLogMs = nowMs
    }
}
