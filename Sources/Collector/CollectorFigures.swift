import CollectorService
import EventIO

/// The server layer's `ServerFigureSource`: the listener's socket byte totals, its connection limiter and the
/// request buffer budget, read when `/metrics` or `/v1/bandwidth` asks (the service layer cannot see EventIO).
struct CollectorFigures: ServerFigureSource {
    let transportTotals: TransportByteTotals
    let limiter: ConnectionLimiter?
    let requestBuffers: RequestBufferBudget

    func serverFigures() -> ServerFigures {
        var limits: ServerFigures.ConnectionLimits?
        if let limiter {
            let snapshot = limiter.snapshot()
            limits = ServerFigures.ConnectionLimits(
                openSockets: snapshot.openConnections, maxConnections: limiter.limits.maxConnections,
                maxConnectionsPerAddress: limiter.limits.maxConnectionsPerAddress,
                refusedOverTotal: snapshot.refusedOverTotal, refusedOverAddress: snapshot.refusedOverAddress)
        }
        return ServerFigures(
            socket: ServerFigures.SocketTotals(
                bytesRead: transportTotals.bytesRead, bytesWritten: transportTotals.bytesWritten),
            connectionLimits: limits, bufferedRequestBytes: requestBuffers.usedBytes,
            bufferedRequestBytesLimit: requestBuffers.limit)
    }
}
