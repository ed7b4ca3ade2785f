// The writer's counters and the storage's health, shared by every backend's writer thread.
//
// Rule: the writer reports once per transaction (`record`), once per write refused without a transaction
// (`recordRefused`) and once per maintenance step; readers on any thread take consistent snapshots under the lock.
// Health follows StorageHealth.swift: a transaction's `failure` starts or continues a failing spell, a commit ends
// it. The caller passes the wall-clock time, so this file reads no clock.
import Synchronization

/// What one transaction did, reported by the writer once per transaction.
package struct TransactionReport {
    /// True when the transaction committed.
    package var isCommitted = false
    /// Batches stored (duplicates excluded).
    package var storedBatches: UInt64 = 0
    /// Duplicate batches acknowledged.
    package var duplicateBatches: UInt64 = 0
    /// Batches that failed.
    package var failedBatches: UInt64 = 0
    /// Readings newly stored.
    package var storedReadings: UInt64 = 0
    /// Counter flushes written.
    package var counterFlushes: UInt64 = 0
    /// Exponents ignored because the series had another one.
    package var exponentConflicts: UInt64 = 0
    /// Series entries appended after their series' last chunk without reading anything stored.
    package var fastPathSeries: UInt64 = 0
    /// Series entries merged into or between stored chunks.
    package var mergedSeries: UInt64 = 0
    /// Chunk rows written.
    package var chunksWritten: UInt64 = 0
    /// BEGIN to end of COMMIT, ms.
    package var durationMs: Double = 0
    /// Queue-to-commit latency of each batch of the transaction.
    package var batchLatency = LatencyHistogram.batchBuckets()
    /// What failed the whole transaction, or a storage failure (disk full, I/O error) that failed one of its batches.
    package var failure: StoreError?

    /// An empty report.
    package init() {}
}

/// The writer's counters and the storage's health, updated once per transaction and read from any thread.
package final class MetricsRecorder: Sendable {
    private let state = Mutex(StoreMetrics())
    private let health = Mutex(StorageHealth())

    /// An empty recorder.
    package init() {}

    /// Adds one transaction's report, which ended at wall-clock `atMs`.
    package func record(_ report: TransactionReport, atMs: Int64) {
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
                health.recordFailure(failure, atMs: atMs)
            } else if report.isCommitted {
                health.recordCommit()
            }
        }
    }

    /// Writes refused without a transaction, because the file cannot be opened for writing: they fail the storage
    /// health like a failed transaction, and count as failed batches (not as failed commits).
    package func recordRefused(batches: UInt64, error: StoreError, atMs: Int64) {
        state.withLock { $0.failedBatches += batches }
        health.withLock { $0.recordFailure(error, atMs: atMs) }
    }

    /// The storage's health as of the latest transaction.
    package func storageHealth() -> StorageHealth {
        health.withLock { $0 }
    }

    /// Adds what a maintenance step did (or that it failed): chunks compaction removed and wrote, readings and
    /// chunks retention deleted.
    package func recordMaintenance(
        chunksCompacted: UInt64, chunksFromCompaction: UInt64, readingsExpired: UInt64, chunksExpired: UInt64,
        failed: Bool
    ) {
        state.withLock { metrics in
            metrics.chunksCompacted += chunksCompacted
            metrics.chunksFromCompaction += chunksFromCompaction
            metrics.readingsExpired += readingsExpired
            metrics.chunksExpired += chunksExpired
            if failed { metrics.maintenanceFailures += 1 }
        }
    }

    /// Counts one checkpoint the writer ran to let the WAL start over.
    package func recordWALRestartCheckpoint() {
        state.withLock { $0.walRestartCheckpoints += 1 }
    }

    /// The counters, with the queue depth filled in by the caller.
    package func snapshot() -> StoreMetrics {
        state.withLock { $0 }
    }
}
