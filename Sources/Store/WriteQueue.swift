// The SQLite writer's requests, queued in a `BoundedWriteQueue` (Storage).
import Chunks
import Storage
import Dispatch
import Synchronization
import Telemetry

/// A write waiting for the writer thread.
enum WriteRequest: QueuedWrite {
    /// Store a batch, then report its outcome.
    case batch(
        deviceID: String, batch: ReadingBatch, readingCount: Int, queuedNs: UInt64,
        completion: @Sendable (Result<BatchOutcome, StoreError>) -> Void, prepared: [PreparedChunk?])
    /// Add bandwidth counter deltas, then report (when someone listens).
    case counters(deltas: [CounterDelta], atMs: Int64, completion: (@Sendable (Result<Void, StoreError>) -> Void)?)
    /// Compact every series with small chunks and run a retention sweep now, then report (tests and tools).
    case maintain(completion: @Sendable (Result<Void, StoreError>) -> Void)
    /// Register a commit-feed subscription between two transactions (GroupCommitWriter+Feed.swift).
    case subscribe(CommitSubscription)

    /// The readings of a batch; nil for every other request (they skip the queue's bounds).
    var batchReadingCount: Int? {
        if case .batch(_, _, let count, _, _, _) = self { return count }
        return nil
    }
}

/// The queue of the SQLite writer.
typealias WriteQueue = BoundedWriteQueue<WriteRequest>
