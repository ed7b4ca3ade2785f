import Dispatch
import Glibc
import Storage
import Synchronization
import Telemetry

/// A SQLite store whose readings queries wait at a gate until the test opens it: a query as slow as the test
/// wants, to show what else the collector does meanwhile. Everything else goes straight to the store.
final class GatedStorage: TelemetryStorage {
    let inner: any TelemetryStorage
    /// Signalled once per readings query that reached the gate.
    let arrived = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)
    /// The nice value of the thread each readings query ran on.
    let readThreadNiceness = Mutex<[Int32]>([])

    init(_ inner: any TelemetryStorage) { self.inner = inner }

    /// Lets `count` waiting (or future) readings queries go on.
    func open(_ count: Int = 1) { for _ in 0..<count { gate.signal() } }

    func readings(
        deviceID: String, sensor: String?, fromMs: Int64?, toMs: Int64?, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?
    ) throws(StoreError) -> ReadingPage {
        let niceness = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        readThreadNiceness.withLock { $0.append(niceness) }
        arrived.signal()
        gate.wait()
        return try inner.readings(
            deviceID: deviceID, sensor: sensor, fromMs: fromMs, toMs: toMs, limit: limit, order: order, after: cursor)
    }

    func submit(deviceID: String, batch: ReadingBatch,
                completion: @escaping @Sendable (Result<BatchOutcome, StoreError>) -> Void) throws(StoreError) {
        try inner.submit(deviceID: deviceID, batch: batch, completion: completion)
    }
    func addCounters(_ deltas: [CounterDelta], atMs: Int64,
                     completion: (@Sendable (Result<Void, StoreError>) -> Void)?) throws(StoreError) {
        try inner.addCounters(deltas, atMs: atMs, completion: completion)
    }
    func watchCommits(_ subscription: CommitSubscription) throws(StoreError) { try inner.watchCommits(subscription) }
    func performRead(_ work: @escaping @Sendable () -> Void) throws(StoreError) { try inner.performRead(work) }
    func series(deviceID: String, sensor: String, fromMs: Int64?, toMs: Int64?, stepMs: Int64,
                aggregate: SeriesAggregate) throws(StoreError) -> [SeriesBucket] {
        try inner.series(deviceID: deviceID, sensor: sensor, fromMs: fromMs, toMs: toMs, stepMs: stepMs,
                         aggregate: aggregate)
    }
    func latest(deviceID: String) throws(StoreError) -> [SensorLatest] { try inner.latest(deviceID: deviceID) }
    func devices(namePrefix: String?, limit: Int, after: String?) throws(StoreError) -> [DeviceSummary] {
        try inner.devices(namePrefix: namePrefix, limit: limit, after: after)
    }
    func device(_ id: String) throws(StoreError) -> DeviceSummary? { try inner.device(id) }
    func counters() throws(StoreError) -> [CounterRow] { try inner.counters() }
    func counterHistory(stepMs: Int64, fromMs: Int64?, toMs: Int64?) throws(StoreError) -> [HistoryBucket] {
        try inner.counterHistory(stepMs: stepMs, fromMs: fromMs, toMs: toMs)
    }
    func revokedDevices() throws(StoreError) -> [RevokedDevice] { try inner.revokedDevices() }
    var historyBucketMs: Int64 { inner.historyBucketMs }
    func storageHealth() -> StorageHealth { inner.storageHealth() }
    func metrics() -> StoreMetrics { inner.metrics() }
    func readinessProblems() -> [String] { inner.readinessProblems() }
    var isClosed: Bool { inner.isClosed }
    func close() {
        open(64)  // no query stays stuck at the gate
        inner.close()
    }
}
