// The connection limits a collector can keep, and the log line that says it is refusing connections.

import CollectorService
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
