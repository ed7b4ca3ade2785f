// The PostgreSQL backend of `TelemetryStorage`: many collectors may share one database (schema/postgresql.sql
// states the rules they keep together).
//
// Rules this file keeps:
// - The writer thread owns the writer's connection from its first byte: it connects, sets the session up and
//   applies the schema, and reports a failed start back to `init`, which then throws (a server that cannot be
//   reached is `.storageFailure`, naming the target without its password: `PostgresConnection.target`).
// - `submit` never blocks: it encodes the batch's in-order series into chunks on the caller's thread
//   (`PreparedChunk.prepare`) and queues the request for the group-commit writer (PostgresWriter.swift).
// - Reads run on the store's read threads (`performRead`), each in its own read-only transaction on a pooled
//   connection (PostgresReadPool), after the same argument checks as every backend's (QueryArguments).
// - Neither a log line, an error nor `readinessProblems()` ever carries the password.

import Chunks
import Clocks
import Dispatch
import Foundation
import Postgres
import Storage
import Synchronization
import Telemetry

/// The collector's telemetry database on a PostgreSQL server: a group-commit writer thread for every write, and a
/// pool of read connections for queries. Safe to use from any thread.
public final class PostgresTelemetryStore: TelemetryStorage {
    /// The database this store writes to, with its password hidden.
    public let target: String
    /// The configuration in effect (bounds clamped to usable values).
    public let configuration: PostgresStoreConfiguration
    /// The name this collector writes into `batches.collector` and its own `bandwidth` rows.
    public let collectorName: String

    private let queue: PostgresWriteQueue
    private let metricsRecorder: MetricsRecorder
    /// Whether the writer is connected, and why not (PostgresWriterStatus.swift).
    let status: PostgresWriterStatus
    /// The connections the queries use.
    let readPool: PostgresReadPool
    /// The threads `performRead` hands queries to.
    private let readThreads: ReadThreads
    private let writerThread = PostgresWriterThreadState()
    /// Watchers of committed batches (CommitFeed.swift), published to by the writer.
    let feed = CommitFeed()

    /// Connects to the server `connection` names (a `postgresql://` URL or a keyword/value string), applies the
    /// schema when the database has none (PostgresSchema.swift), and starts the writer thread.
    ///
    /// - Throws: `.storageFailure` when the server cannot be reached (the message names the target without its
    ///   password), `.schemaTooNew` for a database written by a newer collector, `.postgres` for another error the
    ///   server reported.
    public init(connection: String, configuration: PostgresStoreConfiguration = .init()) throws(StoreError) {
        let configuration = configuration.normalized
        self.configuration = configuration
        self.collectorName = configuration.collectorName
        self.target = PostgresURL.redact(connection)
        queue = PostgresWriteQueue(
            maxBatches: configuration.maxQueuedBatches, maxReadings: configuration.maxQueuedReadings)
        metricsRecorder = MetricsRecorder()
        status = PostgresWriterStatus()
        readPool = PostgresReadPool(
            connection: connection, maxIdle: configuration.readConnections,
            statementTimeoutMs: configuration.statementTimeoutMs,
            connectTimeoutSeconds: configuration.connectTimeoutSeconds)
        readThreads = ReadThreads(
            count: configuration.readThreads, maxQueued: configuration.maxQueuedReads, name: "fleetwire-pg-read")
        let startup = PostgresWriterStartup()
        let context = PostgresWriterContext(
            connectionText: connection, configuration: configuration, queue: queue, metrics: metricsRecorder,
            feed: feed, status: status)
        startWriterThread(context, startup: startup)
        if let failure = startup.wait() {
            queue.close()
            readThreads.close()
            readPool.close()
            writerThread.finished.wait()
            throw failure
        }
    }

    deinit {
        close()
    }

    /// Queues `batch` of device `deviceID` for storage without blocking; its in-order series are encoded into
    /// chunks here, on the caller's thread.
    ///
    /// `completion` runs exactly once, on the writer thread, after the transaction holding the batch has
    /// committed, or with the error that kept it from being stored (then nothing of it is stored).
    /// - Throws: `.overloaded` at once when the write queue is full, `.closed` after `close()`; then the
    ///   completion is never called.
    public func submit(
        deviceID: String, batch: ReadingBatch,
        completion: @escaping @Sendable (Result<BatchOutcome, StoreError>) -> Void
    ) throws(StoreError) {
        try queue.enqueue(
            .batch(
                PostgresBatchRequest(
                    deviceID: deviceID, batch: batch, readingCount: batch.readingCount,
                    queuedNs: MonotonicClock.nowNs(), completion: completion, prepared: PreparedChunk.prepare(batch))))
    }

    /// Stores `batch` and returns its outcome once committed: `submit` for async callers, tests and tools.
    public func store(deviceID: String, batch: ReadingBatch) async throws(StoreError) -> BatchOutcome {
        try await awaitStoreCompletion { (completion) throws(StoreError) in
            try submit(deviceID: deviceID, batch: batch, completion: completion)
        }
    }

    /// Queues bandwidth counter deltas to be added to this collector's `bandwidth` rows and to its
    /// `bandwidth_history` bucket holding `atMs`, through the writer like every write.
    ///
    /// Accepted even when the batch queue is full; refused with `.closed` after `close()`.
    public func addCounters(
        _ deltas: [CounterDelta], atMs: Int64, completion: (@Sendable (Result<Void, StoreError>) -> Void)? = nil
    ) throws(StoreError) {
        try queue.enqueue(.counters(deltas: deltas, atMs: atMs, completion: completion))
    }

    /// Adds counter deltas and returns once they are committed.
    public func addCounters(_ deltas: [CounterDelta], atMs: Int64) async throws(StoreError) {
        try await awaitStoreCompletion { (completion) throws(StoreError) in
            try addCounters(deltas, atMs: atMs, completion: completion)
        }
    }

    /// Compacts every series holding small chunks, through the writer like every write, and returns once done.
    public func compactAndSweep() async throws(StoreError) {
        try await awaitStoreCompletion { (completion) throws(StoreError) in
            try queue.enqueue(.maintain(completion: completion))
        }
    }

    /// Registers `subscription` through the write queue, so the writer registers it between two transactions.
    /// A subscription with `sinceMs` ends at once: replay is not supported on this backend yet (see
    /// PostgresWriter+Feed.swift). Throws `.closed` after `close()`.
    public func watchCommits(_ subscription: CommitSubscription) throws(StoreError) {
        try queue.enqueue(.subscribe(subscription))
    }

    /// Stops accepting writes, lets the writer commit everything already queued (running its completions), and
    /// closes the connections and threads, returning when they are closed. Idempotent and safe from any thread;
    /// called from a completion (on the writer thread) it does not wait.
    public func close() {
        readThreads.close()
        queue.close()
        guard !writerThread.isCurrent else { return }
        writerThread.finished.wait()
        readPool.close()
    }

    /// True once `close()` has been called.
    public var isClosed: Bool { queue.isClosed }

    /// Runs `work` on one of the store's read threads (see ReadThreads.swift).
    public func performRead(_ work: @escaping @Sendable () -> Void) throws(StoreError) {
        try readThreads.execute(work)
    }

    /// The size of the `bandwidth_history` base bucket.
    public var historyBucketMs: Int64 { configuration.historyBucketMs }

    /// Not ready while: closed, the write queue is at 90 % of either bound, the database is unreachable, or the
    /// latest write failed.
    public func readinessProblems() -> [String] {
        var problems: [String] = []
        if isClosed { problems.append("the store is closed") }
        let depth = queue.depth
        if depth.batches * 10 >= configuration.maxQueuedBatches * 9
            || depth.readings * 10 >= configuration.maxQueuedReadings * 9
        {
            problems.append("the store queue is nearly full (\(depth.batches) batches, \(depth.readings) readings)")
        }
        if let reason = status.disconnection {
            problems.append("the database at \(target) is unreachable: \(reason)")
        } else if let failure = storageHealth().currentFailure {
            problems.append("the latest write failed: \(failure)")
        }
        return problems
    }

    /// Whether writes currently reach the database (see StorageHealth.swift).
    public func storageHealth() -> StorageHealth {
        metricsRecorder.storageHealth()
    }

    /// Queue depth and commit counters, for metrics.
    public func metrics() -> StoreMetrics {
        var snapshot = metricsRecorder.snapshot()
        let depth = queue.depth
        snapshot.queuedBatches = depth.batches
        snapshot.queuedReadings = depth.readings
        return snapshot
    }

    private func startWriterThread(_ context: PostgresWriterContext, startup: PostgresWriterStartup) {
        let state = writerThread
        state.finished.enter()
        let thread = Thread {
            state.threadID.store(pthread_self(), ordering: .releasing)
            PostgresWriterThread.run(context, startup: startup)
            state.finished.leave()
        }
        thread.name = "fleetwire-pg-writer"
        thread.start()
    }
}
