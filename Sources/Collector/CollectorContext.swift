import Accounting
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
    let transportTotals = TransportByteTotals()
    let authenticator: Authenticator
    let log: Log
    let operations = OperationalCounters()
    /// The listener's connection limits and refusal counts (nil: no limits).
    let limiter: ConnectionLimiter?
    /// Bytes held for partially received requests, across all connections.
    let requestBuffers: RequestBufferBudget
    /// Timeouts and floods the defences answered.
    let protection = ProtectionCounters()
    /// Keeps attacker-triggered log lines to a few per minute.
    let logThrottle = LogThrottle()
    /// gRPC method path → call handler, for every transport that carries gRPC.
    let grpcRouter: GRPCRouter<any TelemetryServerHandler>

    init(configuration: CollectorConfiguration, store: any TelemetryStorage, ledger: BandwidthLedger,
         authenticator: Authenticator, log: Log, limiter: ConnectionLimiter? = nil) {
        self.configuration = configuration
        self.store = store
        self.ledger = ledger
        self.authenticator = authenticator
        self.log = log
        self.limiter = limiter
        self.requestBuffers = RequestBufferBudget(limit: configuration.maxBufferedRequestBytes)
        self.grpcRouter = TelemetryService.makeRouter(limits: configuration.decodeLimits)
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

    /// Runs `work` on the store's read threads (never on a loop: a long query would stall every connection on
    /// it) and calls `completion` on `loop` with its result. When the store refuses the work (too many queries
    /// waiting, closed), `completion` runs at once with the error.
    func read<Value: Sendable>(on loop: EventLoop, _ work: @escaping @Sendable () -> Value,
                               completion: @escaping (Result<Value, StoreError>) -> Void) {
        let bound = LoopBound(completion, on: loop)
        do {
            try store.performRead {
                let value = work()
                loop.execute { bound.value(.success(value)) }
            }
        } catch {
            completion(.failure(error))
        }
    }
}

extension StoreError {
    /// The message a client sees: what happened and that a retry is safe.
    var clientMessage: String {
        switch self {
        case .overloaded: "the store is overloaded; retry later (retries are deduplicated by seq)"
        case .closed: "the collector is shutting down; retry later"
        default: "storage is failing (\(self)); retry later"
        }
    }

    /// The gRPC status for a failed submission: UNAVAILABLE when retrying can help, INTERNAL otherwise.
    var grpcStatus: GRPCStatus {
        GRPCStatus(isUnavailable ? .unavailable : .internal, clientMessage)
    }

    /// The REST error for a failed submission: 503 with Retry-After when retrying can help.
    var restError: RESTError {
        isUnavailable ? .unavailable(clientMessage) : RESTError(500, "internal", clientMessage)
    }
}
