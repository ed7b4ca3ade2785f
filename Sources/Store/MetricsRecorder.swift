import Clocks
import Storage
import Synchronization

/// What one transaction did, reported by the writer once per transaction.
struct TransactionReport {
    /// True when the transaction committed.
    var isCommitted = false
    /// Batches stored (duplicates excluded).
    var storedBatches: UInt64 = 0
    /// Duplicate batches acknowledged.
    var duplicateBatches: UInt64 = 0
    /// Batches that failed.
    var failedBatches: UInt64 = 0
    /// Readings newly stored.
    var storedReadings: UInt64 = 0
    /// Counter flushes written.
    var counterFlushes: UInt64 = 0
    /// Exponents ignored because the series had another one.
    var exponentConflicts: UInt64 = 0
    /// Series entries appended after their series' last chunk without reading anything stored.
    var fastPathSeries: UInt64 = 0
    /// Series entries merged into or between stored chunks.
    var mergedSeries: UInt64 = 0
    /// Chunk rows written.
    var chunksWritten: UInt64 = 0
    /// BEGIN to end of COMMIT, ms.
    var durationMs: Double = 0
    /// Queue-to-commit latency of each batch of the transaction.
    var batchLatency = LatencyHistogram.batchBuckets()
    /// What failed the whole transaction, or a storage failure (disk full, I/O error) that failed one of its batches.
    var failure: StoreError?
}

/// The writer's counters and the storage's health, updated once per transaction and read from any thread.
final class MetricsRecorder: Sendable {
    private let state = Mutex(StoreMetrics())
    private let health = Mutex(StorageHealth())

    /// An empty recorder.
    init() {}

    /// Adds one transaction's report.
    func record(_ report: TransactionReport) {
        state.withLock { metrics in
            if report.isCommitted {
                metrics.commits += 1
                metrics.committedBatches += report.storedBatches
                metrics.duplicateBatches += report.duplicateBatches
                metrics.committedReadings += report.storedReadings
                metrics.committedCounterFlushes += report.counterFlushes
                metrics.exponentConflicts += report.exponentConflicts
                metrics.chunksWritten += report.chunksWritten
                metrics.mergedSeriesWrites += report.mergedSeries
            } else {
                metrics.failedCommits += 1
            }
            metrics.failedBatches += report.failedBatches
            metrics.commitLatency.record(report.durationMs)
            metrics.batchLatency.add(report.batchLatency)
        }
        health.withLock { health in
            if let failure = report.failure {
                health.recordFailure(failure, atMs: WallClock.nowMs())
            } else if report.isCommitted {
                health.recordCommit()
            }
        }
    }

    /// Writes refused without a transaction, because the file cannot be opened for writing: they fail the storage
    /// health like a failed transaction, and count as failed batches (not as failed commits).
    func recordRefused(batches: UInt64, error: StoreError) {
        state.withLock { $0.failedBatches += batches }
        health.withLock { $0.recordFailure(error, atMs: WallClock.nowMs()) }
    }

    /// The storage's health as of the latest transaction.
    func storageHealth() -> StorageHealth {
        health.withLock { $0 }
    }

    /// Adds what a maintenance step did (or that it failed).
    func recordMaintenance(compaction: CompactionReport, retention: RetentionReport, failed: Bool) {
        state.withLock { metrics in
            metrics.chunksCompacted += UInt64(compaction.chunksRemoved)
            metrics.chunksFromCompaction += UInt64(compaction.chunksWritten)
            metrics.readingsExpired += UInt64(retention.readingsDeleted)
            metrics.chunksExpired += UInt64(retention.chunksDeleted)
            if failed { metrics.maintenanceFailures += 1 }
        }
    }

    /// Counts one checkpoint the writer ran to let the WAL start over.
    func recordWALRestartCheckpoint() {
        state.withLock { $0.walRestartCheckpoints += 1 }
    }

    /// The counters, with the queue depth filled in by the caller.
    func snapshot() -> StoreMetrics {
        state.withLock { $0 }
    }
}
