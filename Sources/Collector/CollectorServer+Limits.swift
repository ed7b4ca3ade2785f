// The connection limits a collector can keep, and the log line that says it is refusing connections.

import Clocks
import EventIO

extension CollectorServer {
    /// Descriptors kept free of connections: the database and its WAL, the read pool, epoll and eventfd per loop,
    /// standard streams, with room to spare. Running out of descriptors would fail the store, not just a client.
    static let reservedDescriptors = 256

    /// The configured limits, with the total lowered to what the open-file limit allows (after raising the soft
    /// limit to the hard one); says so in the log when it had to lower it.
    static func connectionLimits(_ configuration: CollectorConfiguration, log: Log) -> ConnectionLimits {
        var total = max(configuration.maxConnections, 1)
        if let openFiles = try? ResourceLimits.raiseOpenFileLimit() {
            let allowed = max(openFiles - reservedDescriptors, 1)
            if total > allowed {
                log.warning("""
                    --max-connections \(total) lowered to \(allowed): the open-file limit (RLIMIT_NOFILE) is \
                    \(openFiles) and \(reservedDescriptors) descriptors stay reserved; raise it with ulimit -n
                    """)
                total = allowed
            }
        }
        return ConnectionLimits(maxConnections: total,
                                maxConnectionsPerAddress: max(configuration.maxConnectionsPerAddress, 1))
    }
}

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
