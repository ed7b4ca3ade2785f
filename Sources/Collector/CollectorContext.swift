import Accounting
import CollectorService
import EventIO
import GRPC
import Storage
import Telemetry

/// What every connection on every loop shares: configuration, the store, the bandwidth ledger, the authenticator
/// and the log.
final class CollectorContext: Sendable {
    let configuration: CollectorConfiguration
    let store: any TelemetryStorage
    let ledger: BandwidthLedger
    /// What the listener's sockets read and wrote, counted by the transports: the reference the ledger's
    /// attribution is checked against (`/v1/bandwidth`'s socket totals, `/metrics`).
    let transportTotals: TransportByteTotals
    let authenticator: Authenticator
    let log: Log
    let operations: OperationalCounters
    /// The listener's connection limits and refusal counts (nil: no limits).
    let limiter: ConnectionLimiter?
    /// Bytes held for partially received requests, across all connections.
    let requestBuffers: RequestBufferBudget
    /// Timeouts and floods the defences answered.
    let protection: ProtectionCounters
    /// Keeps attacker-triggered log lines to a few per minute.
    let logThrottle = LogThrottle()
    /// gRPC method path → call handler, for every transport that carries gRPC.
    let grpcRouter: GRPCRouter<any TelemetryServerHandler>
    /// gRPC method path → call handler for the standard services (Health, server reflection): calls with no device.
    let standardServiceRouter: GRPCRouter<any StandardServiceHandler>
    /// The REST API (service layer), shared by HTTP/1.1 connections and h2c streams.
    let restService: RESTService
    /// TLS, when on.
    let tls: CollectorTLS?

    init(configuration: CollectorConfiguration, store: any TelemetryStorage, ledger: BandwidthLedger,
         authenticator: Authenticator, log: Log, limiter: ConnectionLimiter? = nil, tls: CollectorTLS? = nil) {
        self.tls = tls
        self.configuration = configuration
        self.store = store
        self.ledger = ledger
        self.authenticator = authenticator
        self.log = log
        self.limiter = limiter
        let transportTotals = TransportByteTotals()
        self.transportTotals = transportTotals
        let operations = OperationalCounters()
        let protection = ProtectionCounters()
        self.operations = operations
        self.protection = protection
        let requestBuffers = RequestBufferBudget(limit: configuration.maxBufferedRequestBytes)
        self.requestBuffers = requestBuffers
        self.grpcRouter = TelemetryService.makeRouter(limits: configuration.decodeLimits)
        let restService = RESTService(
            store: store, ledger: ledger, operations: operations, protection: protection,
            decodeLimits: configuration.decodeLimits,
            server: CollectorFigures(
                transportTotals: transportTotals, limiter: limiter, requestBuffers: requestBuffers))
        self.restService = restService
        // Health follows /readyz's decision; the descriptor index is built here, at start, not at the first call.
        self.standardServiceRouter = StandardServices.makeRouter(
            isServing: { restService.readinessProblems().isEmpty }, index: .served)
    }

    /// Submits a batch and calls `completion` on `loop` once it is committed or has failed. Throws at once when
    /// the store refuses (overloaded or closed): nothing was queued.
    func submit(deviceID: String, batch: ReadingBatch, on loop: EventLoop,
                completion: @escaping (Result<BatchOutcome, StoreError>) -> Void) throws(StoreError) {
        let bound = LoopBound(completion, on: loop)
        try store.submit(deviceID: deviceID, batch: batch) { result in
            loop.execute { bound.value(result) }
        }
    }
}
