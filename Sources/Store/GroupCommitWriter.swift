import Clocks
import Storage
import Telemetry

// The group-commit writer: one thread, one connection, every write of the store.
//
// Batching rule. The writer sleeps until a request is queued. It then opens one transaction (BEGIN IMMEDIATE)
// and keeps taking queued requests into it, in FIFO order, until the transaction holds `maxTransactionReadings`
// readings, or `maxTransactionMs` have passed since BEGIN, or the queue is empty; then it COMMITs. It never waits
// for more work inside a transaction, so under no load a lone batch commits at once, and under load one commit
// (one WAL sync with synchronous=FULL) serves many batches.
//
// Durability rule. A completion runs only after COMMIT has returned: an acknowledged batch is in the database
// (with synchronous=NORMAL it survives a process crash; with FULL also a power loss). Each request runs inside
// its own SAVEPOINT, so one that fails (say, an unexpected constraint) is rolled back alone and reported with its
// error while the others commit. If COMMIT fails, or SQLite abandons the transaction, every request of the
// transaction is reported failed and nothing of them is stored. Completions run on the writer thread, after the
// commit, in submission order; a slow completion delays the next transaction.
//
// Failure rule. A failed transaction is rolled back (a ROLLBACK that itself fails, as it can while the disk is
// failing, is retried before the next BEGIN) and reported to `StorageHealth`; the writer does not stop or wait:
// the next queued request starts the next transaction, so writing resumes by itself once the disk has room again
// or the I/O error is gone. Clients see UNAVAILABLE / 503 meanwhile and re-send (deduplicated by seq).
//
// Exactly-once rule. A batch's `batches` row is inserted first, ignoring a conflict on (device_id, seq); when no
// row was inserted the batch is a duplicate and nothing is written. First-write-wins rule: readings are inserted
// ignoring a conflict on (series_id, ts) and counted by SQLite's change count, so a reading whose (sensor, ts) is
// already stored — by an earlier batch or earlier in the same batch — is dropped and not counted, and a stored
// reading never changes. (Only key conflicts are ignored: see WriterStatements.)
//
// Feed rule (CommitFeed.swift). When the commit feed has subscribers at BEGIN, each stored batch's newly stored
// readings are collected (`GroupCommitWriter+Feed.swift`) and published right after COMMIT, before the
// completions run; a subscription request taken inside a transaction is registered right after it, so the
// subscription's first transaction is the next one.
//
// Cache rule. Device and series ids live in `StagedCache`s whose entries become committed only when the
// transaction that created them commits; counters (devices, series) are summed per transaction in memory and
// written just before COMMIT, inside the transaction.

/// The single writer of a store: drains the `WriteQueue` into group-committed transactions.
///
/// Not `Sendable`: it lives in an `ExclusiveBox` and runs on its own thread from `run()` to the end.
final class GroupCommitWriter {
    /// A device as the writer knows it.
    struct DeviceEntry {
        var id: Int64
        var lastSeq: UInt64
    }

    /// Key of the series cache.
    struct SeriesKey: Hashable {
        var deviceID: Int64
        var sensor: String
    }

    /// A series as the writer knows it.
    struct SeriesEntry {
        var id: Int64
        var exponent: Int32?
        /// The end of the series' last chunk, its latest stored ts (nil: no chunk yet).
        var lastEndTs: Int64?
    }

    /// Per-device sums of one transaction, written before COMMIT.
    struct DeviceTotals {
        var readings: Int64 = 0
        var batches: Int64 = 0
        var lastSeq: UInt64 = 0
    }

    /// A finished request waiting for the commit before its completion runs.
    enum Finished {
        case batch(
            @Sendable (Result<BatchOutcome, StoreError>) -> Void, Result<BatchOutcome, StoreError>, queuedNs: UInt64)
        case counters((@Sendable (Result<Void, StoreError>) -> Void)?, Result<Void, StoreError>)

        /// The same request failed by `error` unless it had already failed on its own.
        func failing(with error: StoreError) -> Finished {
            switch self {
            case .batch(let completion, .success, let queuedNs): .batch(completion, .failure(error), queuedNs: queuedNs)
            case .counters(let completion, .success): .counters(completion, .failure(error))
            default: self
            }
        }

        /// Runs the completion with the result.
        func deliver() {
            switch self {
            case .batch(let completion, let result, _): completion(result)
            case .counters(let completion, let result): completion?(result)
            }
        }
    }

    /// The writer connection, used by this thread only.
    let database: Database
    /// The prepared statements on `database`.
    let statements: WriterStatements
    /// Base bucket of `bandwidth_history`, ms.
    let historyBucketMs: Int64
    private let queue: WriteQueue
    let metrics: MetricsRecorder
    let checkpointer: Checkpointer?
    private let maxTransactionReadings: Int
    private let maxTransactionNs: UInt64

    /// Merges small chunks between transactions (Compactor.swift).
    let compactor: Compactor
    let compactorStatements: CompactorStatements
    /// Deletes expired chunks and rollups between transactions (RetentionSweeper.swift).
    let retention: RetentionSweeper
    let retentionStatements: RetentionStatements
    /// When the last maintenance step ran.
    var lastMaintenanceNs: UInt64 = 0
    /// In-order readings of the open transaction, written as one chunk per series just before COMMIT.
    var pending = PendingChunks()
    /// Device name → row id and last seq.
    var devices = StagedCache<String, DeviceEntry>()
    /// (device row id, sensor) → series row id and exponent.
    var series = StagedCache<SeriesKey, SeriesEntry>()
    // State of the open transaction.
    /// Per-device sums of the open transaction, written before COMMIT.
    var deviceTotals: [Int64: DeviceTotals] = [:]
    /// Per-series reading counts of the open transaction, written before COMMIT.
    var seriesTotals: [Int64: Int64] = [:]
    /// What the open transaction did, for the metrics.
    var report = TransactionReport()
    private var finished: [Finished] = []
    /// The commit feed this writer publishes to (CommitFeed.swift), and where a replay's snapshot is read.
    let feed: CommitFeed
    let replaySource: ReplaySource
    /// True when the open transaction collects stored readings for the feed (it had subscribers at BEGIN).
    var isCollectingForFeed = false
    /// The batch being written: its newly stored readings, while collecting.
    var batchCapture: [SensorReadings]?
    /// The open transaction's stored batches, published after COMMIT.
    var transactionCapture: [CommittedBatch] = []
    /// Subscriptions taken from the queue inside the open transaction, registered after it.
    var subscriptionRequests: [CommitSubscription] = []
    /// `.maintain` requests taken into the open transaction, run after it.
    private var maintenanceRequests: [@Sendable (Result<Void, StoreError>) -> Void] = []

    /// A writer on `database`, which is already configured and migrated.
    init(
        database: Database, queue: WriteQueue, metrics: MetricsRecorder, checkpointer: Checkpointer?,
        configuration: StoreConfiguration, feed: CommitFeed = CommitFeed(), replaySource: ReplaySource
    ) throws(StoreError) {
        self.database = database
        self.feed = feed
        self.replaySource = replaySource
        self.statements = try WriterStatements(database)
        self.queue = queue
        self.metrics = metrics
        self.checkpointer = checkpointer
        self.maxTransactionReadings = configuration.maxTransactionReadings
        self.maxTransactionNs = UInt64(configuration.maxTransactionMs) * 1_000_000
        self.historyBucketMs = configuration.historyBucketMs
        self.compactor = Compactor(idleMs: configuration.compactionIdleMs)
        self.compactorStatements = try CompactorStatements(database)
        self.retention = RetentionSweeper(
            retentionMs: configuration.retentionMs, rollups: configuration.rollups,
            intervalMs: configuration.retentionIntervalMs, nowNs: MonotonicClock.nowNs())
        self.retentionStatements = try RetentionStatements(database)
        try noteSeriesAfterRestart()
    }

    /// One group commit: BEGIN, take requests while the bounds allow, COMMIT, then run the completions.
    func runTransaction(startingWith first: WriteRequest) {
        let startNs = MonotonicClock.nowNs()
        let nowMs = WallClock.nowMs()
        var failure: StoreError?
        // The request being written when the transaction failed, if any: it has no result yet.
        var current: WriteRequest? = first
        do throws(StoreError) {
            // A ROLLBACK that itself failed (an I/O error while the disk is failing) can leave the last transaction
            // open; BEGIN would then fail forever with "cannot start a transaction within a transaction".
            if database.isInTransaction { try statements.rollback.run() }
            try statements.begin.run()
            isCollectingForFeed = feed.isActive
            var readingsTaken = 0
            while let request = current {
                readingsTaken += request.batchReadingCount ?? 0
                try perform(request, nowMs: nowMs)
                current = nil
                let elapsedNs = MonotonicClock.nowNs() &- startNs
                if readingsTaken >= maxTransactionReadings || elapsedNs >= maxTransactionNs { break }
                current = queue.takeIfAvailable()
            }
            try writeAllPending()
            try flushTotals(nowMs: nowMs)
            try statements.commit.run()
        } catch {
            failure = error
            if let current { finished.append(Self.failed(current, error)) }
        }
        if let failure {
            if database.isInTransaction { try? statements.rollback.run() }
            devices.rollBackTransaction()
            series.rollBackTransaction()
            _ = pending.takeAll()
            finished = finished.map { $0.failing(with: failure) }
            report.failedBatches = UInt64(finished.count { if case .batch = $0 { true } else { false } })
            report.failure = failure
            batchCapture = nil
            transactionCapture.removeAll()
        } else {
            devices.commitTransaction()
            series.commitTransaction()
            report.isCommitted = true
            checkpointer?.noteCommit()
        }
        let endNs = MonotonicClock.nowNs()
        report.durationMs = Double(endNs &- startNs) / 1_000_000
        for case .batch(_, _, let queuedNs) in finished {
            report.batchLatency.record(Double(endNs &- queuedNs) / 1_000_000)
        }
        metrics.record(report, atMs: WallClock.nowMs())
        let toDeliver = finished
        finished.removeAll(keepingCapacity: true)
        deviceTotals.removeAll(keepingCapacity: true)
        seriesTotals.removeAll(keepingCapacity: true)
        report = TransactionReport()
        publishToFeed()
        for request in toDeliver { request.deliver() }
        if !maintenanceRequests.isEmpty {
            let requests = maintenanceRequests
            maintenanceRequests.removeAll()
            let result = runMaintenanceFully()
            for completion in requests { completion(result) }
        }
        if failure == nil, let checkpointer, checkpointer.isRestartRequested, queue.depth.batches == 0 {
            // Checkpointer.swift, restart rule: with the acks gone and nothing waiting, copy the frames the last
            // background round missed, so the next BEGIN starts the WAL over. A failure only delays the restart.
            checkpointer.takeRestartRequest()
            if (try? database.checkpointPassive()) != nil { metrics.recordWALRestartCheckpoint() }
        }
    }

    /// Writes one request inside its own savepoint and records its result for delivery after the commit.
    /// Throws only when the whole transaction is lost.
    private func perform(_ request: WriteRequest, nowMs: Int64) throws(StoreError) {
        switch request {
        case .batch(let deviceID, let batch, _, let queuedNs, let completion, let prepared):
            var totals = BatchTotals()
            let result: Result<BatchOutcome, StoreError>
            if isCollectingForFeed { batchCapture = [] }
            if let fast = try writeFastBatch(
                deviceID: deviceID, batch: batch, prepared: prepared, nowMs: nowMs, totals: &totals)
            {
                result = fast
            } else {
                result = try inSavepoint { () throws(StoreError) -> BatchOutcome in
                    try writeBatch(deviceID: deviceID, batch: batch, prepared: prepared, nowMs: nowMs, totals: &totals)
                }
            }
            collectForFeed(deviceID: deviceID, seq: batch.seq, result: result)
            switch result {
            case .success(let outcome): add(totals, outcome: outcome)
            case .failure(let error):
                report.failedBatches += 1
                // A batch the disk had no room for fails the storage's health even if its transaction commits.
                if case .storageFailure = error { report.failure = report.failure ?? error }
            }
            finished.append(.batch(completion, result, queuedNs: queuedNs))
        case .counters(let deltas, let atMs, let completion):
            let result = try inSavepoint { () throws(StoreError) in try writeCounters(deltas, atMs: atMs) }
            if case .success = result { report.counterFlushes += 1 }
            finished.append(.counters(completion, result))
        case .maintain(let completion):
            // Taken from the queue inside a transaction: it runs alone, right after this transaction.
            maintenanceRequests.append(completion)
        case .subscribe(let subscription):
            subscriptionRequests.append(subscription)
        }
    }

    /// Runs `body` inside the batch savepoint: on success releases it (and the caches' batch layer), on failure
    /// rolls back to it and returns the error. Throws when SQLite has abandoned the transaction, or the savepoint
    /// cannot be opened or rolled back: then nothing of the transaction can be trusted.
    private func inSavepoint<Value>(
        _ body: () throws(StoreError) -> Value
    ) throws(StoreError) -> Result<Value, StoreError> {
        try statements.savepoint.run()
        do throws(StoreError) {
            let value = try body()
            try statements.releaseSavepoint.run()
            devices.releaseBatch()
            series.releaseBatch()
            pending.releaseBatch()
            return .success(value)
        } catch {
            devices.rollBackBatch()
            series.rollBackBatch()
            pending.rollBackBatch()
            guard database.isInTransaction else { throw error }
            try statements.rollbackToSavepoint.run()
            try statements.releaseSavepoint.run()
            return .failure(error)
        }
    }

    /// Adds a stored batch's sums to the transaction's.
    private func add(_ totals: BatchTotals, outcome: BatchOutcome) {
        if outcome.isDuplicate {
            report.duplicateBatches += 1
            return
        }
        report.storedBatches += 1
        report.storedReadings += UInt64(outcome.readingsStored)
        report.exponentConflicts += totals.exponentConflicts
        deviceTotals[totals.deviceID, default: DeviceTotals()].readings += Int64(outcome.readingsStored)
        deviceTotals[totals.deviceID, default: DeviceTotals()].batches += 1
        deviceTotals[totals.deviceID, default: DeviceTotals()].lastSeq = outcome.lastSeq
        for (seriesID, count) in totals.seriesReadings {
            seriesTotals[seriesID, default: 0] += count
        }
    }

    /// Writes the transaction's counter sums into `devices` and `series`, just before COMMIT.
    private func flushTotals(nowMs: Int64) throws(StoreError) {
        for (deviceID, totals) in deviceTotals {
            let statement = statements.addDeviceTotals
            statement.bind(deviceID, at: 1)
            statement.bind(nowMs, at: 2)
            statement.bind(totals.readings, at: 3)
            statement.bind(totals.batches, at: 4)
            statement.bind(Int64(bitPattern: totals.lastSeq), at: 5)
            try statement.run()
        }
        for (seriesID, count) in seriesTotals {
            statements.addSeriesReadings.bind(seriesID, at: 1)
            statements.addSeriesReadings.bind(count, at: 2)
            try statements.addSeriesReadings.run()
        }
    }

    private static func failed(_ request: WriteRequest, _ error: StoreError) -> Finished {
        switch request {
        case .batch(_, _, _, let queuedNs, let completion, _): .batch(completion, .failure(error), queuedNs: queuedNs)
        case .counters(_, _, let completion): .counters(completion, .failure(error))
        case .maintain(let completion): .counters(completion, .failure(error))
        case .subscribe: .counters(nil, .success(()))  // registered after the transaction all the same
        }
    }
}
