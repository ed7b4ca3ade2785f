// The seam between the collector and a telemetry database. The collector talks only to this protocol; the SQLite
// store (module `Store`) implements it today, and a second backend (PostgreSQL, a chunked time-series layout)
// implements it without the collector changing.
//
// Rules every backend keeps:
// - Writes are asynchronous and durable: `submit` never blocks; its completion runs exactly once, after the
//   transaction holding the batch committed (an acknowledgement means committed), or with the error that kept it
//   from being stored, in which case nothing of it is stored. `(device, seq)` is stored at most once.
// - Reads are blocking and may take long (a 10,000-row page, a year of series): callers on an event loop never call
//   them directly but hand the work to `performRead`, which runs it on the backend's own read threads, at a lower
//   scheduling priority than the loops, and the caller posts the result back to its loop. That way a heavy query
//   never stalls the connections that share its loop.
// - Errors are `StoreError`: `isUnavailable` ones mean "retry later" (HTTP 503, gRPC UNAVAILABLE).

import Telemetry

/// The operations the collector needs from a telemetry database: group-committed writes, the read API's queries,
/// the persisted bandwidth counters, the deny list, and the backend's health.
public protocol TelemetryStorage: AnyObject, Sendable {
    // MARK: Writes

    /// Queues `batch` of device `deviceID` for storage without blocking; `completion` runs once the batch is
    /// committed or has failed (see the rules above). Throws `.overloaded` or `.closed` at once when nothing was
    /// queued; then `completion` never runs.
    func submit(
        deviceID: String, batch: ReadingBatch,
        completion: @escaping @Sendable (Result<BatchOutcome, StoreError>) -> Void
    ) throws(StoreError)

    /// Queues bandwidth counter deltas to be added to the persisted totals and to the history bucket holding `atMs`.
    func addCounters(
        _ deltas: [CounterDelta], atMs: Int64, completion: (@Sendable (Result<Void, StoreError>) -> Void)?
    ) throws(StoreError)

    // MARK: Commit feed

    /// Subscribes to committed batches (CommitFeed.swift): registered between two transactions, after which the
    /// subscription gets `subscribed` and then every matching transaction right after its COMMIT. With
    /// `subscription.sinceMs` the backend first pins a read snapshot holding exactly the transactions committed
    /// before the registration and replays the stored readings from that time out of it, page by page as the
    /// consumer asks, so replay and live neither overlap nor leave a gap. Throws `.closed` at once; a failure
    /// later arrives as `ended(.failed)`.
    func watchCommits(_ subscription: CommitSubscription) throws(StoreError)

    // MARK: Reads (blocking: run them through `performRead` from an event loop)

    /// Runs `work` on one of the backend's read threads, which run below the event loops' priority. Throws
    /// `.overloaded` when too many reads are waiting and `.closed` after `close()`; then `work` never runs.
    func performRead(_ work: @escaping @Sendable () -> Void) throws(StoreError)

    /// A page of a device's readings in [fromMs, toMs), continuing after `cursor`.
    func readings(
        deviceID: String, sensor: String?, fromMs: Int64?, toMs: Int64?, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?
    ) throws(StoreError) -> ReadingPage

    /// A sensor's readings aggregated per `stepMs` step in [fromMs, toMs): only non-empty steps, oldest first.
    func series(
        deviceID: String, sensor: String, fromMs: Int64?, toMs: Int64?, stepMs: Int64, aggregate: SeriesAggregate
    ) throws(StoreError) -> [SeriesBucket]

    /// The latest reading of each of the device's sensors, by sensor name.
    func latest(deviceID: String) throws(StoreError) -> [SensorLatest]

    /// Devices by name, optionally with a name prefix, continuing after the name `after`.
    func devices(namePrefix: String?, limit: Int, after: String?) throws(StoreError) -> [DeviceSummary]

    /// The device named `id`, or nil when it has never stored a batch.
    func device(_ id: String) throws(StoreError) -> DeviceSummary?

    /// The persisted bandwidth counters, by protocol then device.
    func counters() throws(StoreError) -> [CounterRow]

    /// Bytes and readings per protocol per `stepMs` step (a positive multiple of `historyBucketMs`).
    func counterHistory(stepMs: Int64, fromMs: Int64?, toMs: Int64?) throws(StoreError) -> [HistoryBucket]

    /// The deny list as committed now.
    func revokedDevices() throws(StoreError) -> [RevokedDevice]

    // MARK: Several collectors on one database

    /// The name this collector's counter rows carry when several collectors share the database (the PostgreSQL
    /// backend); nil for a backend one collector owns (SQLite), whose `counters()` are all its own.
    var sharedCollectorName: String? { get }

    /// The persisted counters of one collector of a shared database, by protocol then device.
    func counters(collector: String) throws(StoreError) -> [CounterRow]

    /// The collectors that have persisted counters in a shared database, sorted.
    func counterCollectors() throws(StoreError) -> [String]

    // MARK: Health

    /// The size of the persisted bandwidth-history buckets, in milliseconds.
    var historyBucketMs: Int64 { get }

    /// Whether writes currently reach the disk, for readiness and for the log.
    func storageHealth() -> StorageHealth

    /// Queue depth and commit counters, for `/metrics`.
    func metrics() -> StoreMetrics

    /// Why the backend should not take traffic now (closed, queue nearly full, file not writable, latest write
    /// failed), each as a short sentence; empty when it is ready.
    func readinessProblems() -> [String]

    /// True once `close()` has been called.
    var isClosed: Bool { get }

    /// Stops accepting work, commits everything queued (running its completions) and releases the backend.
    func close()
}

extension TelemetryStorage {
    /// A backend one collector owns: no shared name.
    public var sharedCollectorName: String? { nil }

    /// A backend one collector owns keeps no per-collector rows: its counters are `counters()`.
    public func counters(collector: String) throws(StoreError) -> [CounterRow] { try counters() }

    /// A backend one collector owns names no collectors.
    public func counterCollectors() throws(StoreError) -> [String] { [] }
}
