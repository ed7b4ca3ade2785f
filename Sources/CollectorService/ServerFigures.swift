/// The figures `/metrics` and `/v1/bandwidth` report that only the server layer knows (its sockets, its connection
/// limits, its request buffers), as plain values, so the service layer reports them without importing EventIO.
package struct ServerFigures: Sendable {
    /// Bytes read from and written to all sockets, as the transports counted them: the reference the bandwidth
    /// ledger's attribution is checked against.
    package struct SocketTotals: Sendable {
        package var bytesRead: Int64
        package var bytesWritten: Int64

        package init(bytesRead: Int64, bytesWritten: Int64) {
            self.bytesRead = bytesRead
            self.bytesWritten = bytesWritten
        }
    }

    /// The listener's connection limits and what they refused.
    package struct ConnectionLimits: Sendable {
        /// Accepted connections still open, whatever their protocol (the count the limits apply to).
        package var openSockets: Int
        /// The limits in force: open connections in all, and from one IP address.
        package var maxConnections: Int
        package var maxConnectionsPerAddress: Int
        /// Connections closed right after accept because the total or the per-address limit was reached.
        package var refusedOverTotal: UInt64
        package var refusedOverAddress: UInt64

        package init(
            openSockets: Int, maxConnections: Int, maxConnectionsPerAddress: Int, refusedOverTotal: UInt64,
            refusedOverAddress: UInt64
        ) {
            self.openSockets = openSockets
            self.maxConnections = maxConnections
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.refusedOverTotal = refusedOverTotal
            self.refusedOverAddress = refusedOverAddress
        }
    }

    /// What the sockets read and wrote.
    package var socket: SocketTotals
    /// Nil when the server runs without connection limits.
    package var connectionLimits: ConnectionLimits?
    /// Bytes held for partially received requests, all connections, and the limit on them.
    package var bufferedRequestBytes: Int
    package var bufferedRequestBytesLimit: Int

    package init(
        socket: SocketTotals, connectionLimits: ConnectionLimits?, bufferedRequestBytes: Int,
        bufferedRequestBytesLimit: Int
    ) {
        self.socket = socket
        self.connectionLimits = connectionLimits
        self.bufferedRequestBytes = bufferedRequestBytes
        self.bufferedRequestBytesLimit = bufferedRequestBytesLimit
    }
}
