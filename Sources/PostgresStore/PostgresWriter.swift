// The PostgreSQL group-commit writer: one thread, one connection, every write of the store.
//
// Batching rule (as the SQLite writer's). The writer sleeps until a request is queued, then takes queued requests
// in FIFO order into one transaction until it holds `maxTransactionReadings` readings, or `maxTransactionMs` have
// passed since it started, or the queue is empty. It never waits for more work inside a transaction.
//
// Round trips. A transaction is a few pipelines, not a statement per row (PostgresWriter+Batches.swift): BEGIN and
// the `batches` rows; the `series` rows; the chunk rows, counters, devices and COMMIT. Only late readings (at or
// before their series' last_ts) add round trips: they read and rewrite the chunks they fall into.
//
// Durability rule. Completions run only after COMMIT returned, with synchronous_commit on. A batch that cannot be
// stored on its own (a NaN value) is refused before anything is written and fails alone; any failure of the
// transaction fails all its requests with the mapped StoreError, and nothing of them is stored. A deadlock, a
// serialization failure, a unique violation from a race with another collector or a lock timeout rolls back and
// retries the whole transaction (`maxAttempts`) before failing it.
//
// Connection rule. A lost connection fails the transaction's requests with `.storageFailure` (clients get
// UNAVAILABLE / 503 and resend; dedup by seq makes that safe), records the failure in the storage health, and
// marks the writer disconnected: it then reconnects with exponential backoff (reconnectInitialMs doubling to
// reconnectMaxMs), and every write taken from the queue meanwhile fails at once with `.storageFailure` naming
// the reason, without waiting for the backoff (a Watch subscription is still registered: the feed needs no
// connection). A successful reconnect ends the disconnection; the next commit ends the failing spell.
//
// Maintenance. When the queue is empty between transactions the writer gives the compactor (PostgresCompactor)
// a step, and under sustained load one a second between transactions; `compactAndSweep` runs it over everything.

import Chunks
import Clocks
import Postgres
import Storage
import Telemetry

/// The single writer of a PostgreSQL store: drains the queue into group-committed transactions.
///
/// Not `Sendable`: it lives on the writer thread from `run()` to the end.
final class PostgresWriter {
    /// The writer's connection, used by this thread only.
    let connection: PostgresConnection
    /// The queue, settings, metrics, feed and status the writer shares with the store.
    let context: PostgresWriterContext
    /// Merges small chunks between transactions (helper B's PostgresCompactor).
    var compactor: PostgresCompactor
    /// False while the server is unreachable.
    private(set) var isConnected = true
    private var reconnectDelayMs: Int
    private var nextReconnectNs: UInt64 = 0
    /// When the compactor last had a step.
    private var lastStepNs: UInt64 = 0

    /// How many times a transaction is tried when it fails with a retryable error.
    static let maxAttempts = 4
    /// How long an idle writer waits between two compaction steps, and the longest a busy one goes without one.
    static let idleStepNs: UInt64 = 1_000_000_000

    /// The requests the writer drains.
    var queue: PostgresWriteQueue { context.queue }
    /// Where transactions and the health are recorded.
    var metrics: MetricsRecorder { context.metrics }
    /// The store's settings.
    var configuration: PostgresStoreConfiguration { context.configuration }

    /// A writer on `connection`, whose session is set up and whose schema is current.
    init(connection: PostgresConnection, context: PostgresWriterContext) {
        self.connection = connection
        self.context = context
        self.compactor = PostgresCompactor(idleMs: context.configuration.compactionIdleMs)
        self.reconnectDelayMs = context.configuration.reconnectInitialMs
    }

    /// Writes until the queue is closed and drained.
    func run() {
        while let request = nextRequest() {
            if case .subscribe(let subscription) = request {
                subscribe(subscription)  // the feed needs no connection: a watcher waits out an outage
                continue
            }
            guard isConnected else {
                refuse(request)
                continue
            }
            switch request {
            case .maintain(let completion): completion(runMaintenance(compactAll: true))
            case .batch, .counters, .subscribe: runTransaction(startingWith: request)
            }
        }
    }

    /// The next request; nil once the queue is closed and drained. While disconnected it tries to reconnect when
    /// the backoff allows and otherwise waits for a request no longer than that; while idle it runs compaction
    /// steps.
    private func nextRequest() -> PostgresWriteRequest? {
        while true {
            if !isConnected {
                let nowNs = MonotonicClock.nowNs()
                if nowNs >= nextReconnectNs {
                    reconnect()
                    continue
                }
                switch queue.waitForNext(timeoutNs: nextReconnectNs - nowNs) {
                case .request(let request): return request
                case .closed: return nil
                case .timedOut: continue
                }
            }
            // Under sustained load the queue is never empty: compaction still gets a step now and then.
            if MonotonicClock.nowNs() &- lastStepNs >= Self.idleStepNs, !queue.isClosed {
                lastStepNs = MonotonicClock.nowNs()
                _ = try? runMaintenanceStep()
            }
            if let request = queue.takeIfAvailable() { return request }
            if queue.isClosed { return queue.waitForNext() }
            lastStepNs = MonotonicClock.nowNs()
            let didWork = (try? runMaintenanceStep()) ?? false
            switch queue.waitForNext(timeoutNs: didWork ? 0 : Self.idleStepNs) {
            case .request(let request): return request
            case .closed: return nil
            case .timedOut: continue
            }
        }
    }

    // MARK: - Transactions

    /// One group commit: take requests while the bounds allow, write them (retrying a retryable failure), then
    /// publish to the feed and run the completions.
    private func runTransaction(startingWith first: PostgresWriteRequest) {
        let startNs = MonotonicClock.nowNs()
        let nowMs = WallClock.nowMs()
        let maxNs = UInt64(configuration.maxTransactionMs) * 1_000_000
        var batches: [PostgresBatchRequest] = []
        var counters: [CounterFlush] = []
        var maintenance: [@Sendable (Result<Void, StoreError>) -> Void] = []
        var subscriptions: [CommitSubscription] = []
        var readings = 0
        var next: PostgresWriteRequest? = first
        while let request = next {
            switch request {
            case .batch(let batch):
                batches.append(batch)
                readings += batch.readingCount
            case .counters(let deltas, let atMs, let completion):
                counters.append(CounterFlush(deltas: deltas, atMs: atMs, completion: completion))
            case .maintain(let completion): maintenance.append(completion)
            case .subscribe(let subscription): subscriptions.append(subscription)
            }
            if readings >= configuration.maxTransactionReadings || MonotonicClock.nowNs() &- startNs >= maxNs { break }
            next = queue.takeIfAvailable()
        }

        let isCollecting = context.feed.isActive
        var report = TransactionReport()
        var written: WrittenTransaction?
        var failure: StoreError?
        var attempt = 1
        while true {
            do throws(WriteFailure) {
                written = try write(batches, counters: counters, nowMs: nowMs, isCollecting: isCollecting)
                break
            } catch {
                rollBackIfOpen()
                if error.isRetryable, attempt < Self.maxAttempts, !connection.isConnectionBad {
                    attempt += 1
                    continue
                }
                failure = error.storeError
                if error.isConnectionLost { markDisconnected(error.storeError) }
                break
            }
        }

        let endNs = MonotonicClock.nowNs()
        var results: [Result<BatchOutcome, StoreError>]
        if let written {
            results = written.results
            report.isCommitted = true
            report.storedBatches = written.storedBatches
            report.duplicateBatches = written.duplicateBatches
            report.storedReadings = written.storedReadings
            report.exponentConflicts = written.exponentConflicts
            report.chunksWritten = written.chunksWritten
            report.mergedSeries = written.mergedSeries
            report.fastPathSeries = written.fastPathSeries
            report.counterFlushes = UInt64(counters.count)
            for note in written.chunkNotes {
                compactor.noteWrite(
                    seriesID: note.seriesID, startTs: note.startTs, endTs: note.endTs, count: note.count,
                    isInPast: note.isInPast, nowNs: endNs)
            }
        } else {
            let error = failure ?? .closed
            results = batches.map { _ in .failure(error) }
            report.failure = error
        }
        report.failedBatches = UInt64(results.count { if case .failure = $0 { true } else { false } })
        report.durationMs = Double(endNs &- startNs) / 1_000_000
        for batch in batches { report.batchLatency.record(Double(endNs &- batch.queuedNs) / 1_000_000) }
        metrics.record(report, atMs: WallClock.nowMs())

        if let written { publish(written.captured) }
        for subscription in subscriptions { subscribe(subscription) }
        for (batch, result) in zip(batches, results) { batch.completion(result) }
        for flush in counters { flush.completion?(failure.map { .failure($0) } ?? .success(())) }
        for completion in maintenance { completion(runMaintenance(compactAll: true)) }
    }

    /// Sends ROLLBACK when a transaction is still open after a failure (a lost connection has none).
    private func rollBackIfOpen() {
        connection.rollBackIfInTransaction()
    }

    // MARK: - Connection

    /// Marks the writer disconnected after `error`: the next attempt to reconnect is right away, then backs off.
    func markDisconnected(_ error: StoreError) {
        isConnected = false
        reconnectDelayMs = configuration.reconnectInitialMs
        nextReconnectNs = MonotonicClock.nowNs()
        context.status.disconnection = Self.reason(error, naming: connection.target)
    }

    /// One reconnect attempt: on success the writer is connected again; on failure the next attempt waits twice as
    /// long as this one did (up to reconnectMaxMs).
    private func reconnect() {
        do throws(PostgresError) {
            try connection.reconnect()
            try PostgresWriterThread.configureSession(connection, configuration)
            isConnected = true
            reconnectDelayMs = configuration.reconnectInitialMs
            context.status.disconnection = nil
        } catch {
            context.status.disconnection = Self.reason(
                StoreError(error, operation: "reconnect"), naming: connection.target)
            nextReconnectNs = MonotonicClock.nowNs() &+ UInt64(reconnectDelayMs) * 1_000_000
            reconnectDelayMs = min(reconnectDelayMs * 2, configuration.reconnectMaxMs)
        }
    }

    /// Fails a request taken while disconnected, at once, with the reason.
    private func refuse(_ request: PostgresWriteRequest) {
        let reason = context.status.disconnection ?? "the connection was lost"
        let error = StoreError.storageFailure(
            code: StoreError.postgresCode, operation: "write",
            message: "the database at \(connection.target) is unreachable: \(reason)")
        if case .batch = request {
            metrics.recordRefused(batches: 1, error: error, atMs: WallClock.nowMs())
        } else if case .counters = request {
            metrics.recordRefused(batches: 0, error: error, atMs: WallClock.nowMs())
        }
        request.fail(with: error)
    }

    /// A short reason for readiness and refusals: the error's message (already free of the password).
    /// The messages it goes into name the target already ("the database at … is unreachable: <reason>"), so the
    /// reason leaves out libpq's own mention of it.
    static func reason(_ error: StoreError, naming target: String) -> String {
        let text =
            switch error {
            case .storageFailure(_, _, let message), .postgres(_, _, let message): message
            default: error.description
            }
        return text.replacing(" (\(target))", with: "")
    }

    // MARK: - Maintenance

    /// One compaction step between transactions; true when it did something (then another may follow at once).
    private func runMaintenanceStep() throws(StoreError) -> Bool {
        try compact(all: false).get()
    }

    /// Runs the compactor over everything (`compactAndSweep`), recording what it did.
    private func runMaintenance(compactAll: Bool) -> Result<Void, StoreError> {
        compact(all: compactAll).map { _ in () }
    }

    /// One step of the compactor (every series with `all`), recorded in the metrics; true when it did something.
    private func compact(all compactAll: Bool) -> Result<Bool, StoreError> {
        guard isConnected else {
            return .failure(
                .storageFailure(
                    code: StoreError.postgresCode, operation: "compact",
                    message: context.status.disconnection ?? "the connection was lost"))
        }
        do throws(StoreError) {
            let done = try compactor.step(on: connection, nowNs: MonotonicClock.nowNs(), compactAll: compactAll)
            metrics.recordMaintenance(
                chunksCompacted: done.chunksMerged, chunksFromCompaction: done.chunksWritten, readingsExpired: 0,
                chunksExpired: 0, failed: false)
            return .success(done.chunksMerged > 0 || done.chunksWritten > 0)
        } catch {
            rollBackIfOpen()
            metrics.recordMaintenance(
                chunksCompacted: 0, chunksFromCompaction: 0, readingsExpired: 0, chunksExpired: 0, failed: true)
            if connection.isConnectionBad { markDisconnected(error) }
            return .failure(error)
        }
    }
}

/// A counter flush taken into a transaction.
struct CounterFlush {
    /// The deltas to add.
    var deltas: [CounterDelta]
    /// When they were counted (picks the history bucket), Unix ms.
    var atMs: Int64
    /// Runs after the commit, when someone listens.
    var completion: (@Sendable (Result<Void, StoreError>) -> Void)?
}
