import Storage
import Telemetry
public struct PostgresStoreConfiguration: Sendable { public var collectorName = "x"; public var maxQueuedBatches = 1; public var maxQueuedReadings = 1; public var maxTransactionMs = 1; public var statementTimeoutMs = 1; public init() {} }
public final class PostgresTelemetryStore: TelemetryStorage {
    public init(connection: String, configuration: PostgresStoreConfiguration = .init()) throws(StoreError) { throw .closed }
    public func submit(deviceID: String, batch: ReadingBatch, completion: @escaping @Sendable (Result<BatchOutcome, StoreError>) -> Void) throws(StoreError) {}
    public func addCounters(_ deltas: [CounterDelta], atMs: Int64, completion: (@Sendable (Result<Void, StoreError>) -> Void)?) throws(StoreError) {}
    public func watchCommits(_ subscription: CommitSubscription) throws(StoreError) {}
    public func performRead(_ work: @escaping @Sendable () -> Void) throws(StoreError) {}
    public func readings(deviceID: String, sensor: String?, fromMs: Int64?, toMs: Int64?, limit: Int, order: ReadingOrder, after cursor: ReadingCursor?) throws(StoreError) -> ReadingPage { throw .closed }
    public func series(deviceID: String, sensor: String, fromMs: Int64?, toMs: Int64?, stepMs: Int64, aggregate: SeriesAggregate) throws(StoreError) -> [SeriesBucket] { [] }
    public func latest(deviceID: String) throws(StoreError) -> [SensorLatest] { [] }
    public func devices(namePrefix: String?, limit: Int, after: String?) throws(StoreError) -> [DeviceSummary] { [] }
    public func device(_ id: String) throws(StoreError) -> DeviceSummary? { nil }
    public func counters() throws(StoreError) -> [CounterRow] { [] }
    public func counterHistory(stepMs: Int64, fromMs: Int64?, toMs: Int64?) throws(StoreError) -> [HistoryBucket] { [] }
    public func revokedDevices() throws(StoreError) -> [RevokedDevice] { [] }
    public var historyBucketMs: Int64 { 1 }
    public func storageHealth() -> StorageHealth { .init() }
    public func metrics() -> StoreMetrics { .init() }
    public func readinessProblems() -> [String] { [] }
    public var isClosed: Bool { true }
    public func close() {}
}
