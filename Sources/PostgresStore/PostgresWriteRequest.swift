// The PostgreSQL writer's requests, queued in a `BoundedWriteQueue` (Storage): the one hand-off between the
// threads that submit writes and the writer thread.

import Chunks
import Storage
import Telemetry

/// A batch waiting for the writer, with its chunks encoded by the submitting thread.
struct PostgresBatchRequest: Sendable {
    /// The device that sent it.
    var deviceID: String
    /// The batch as received.
    var batch: ReadingBatch
    /// Its readings, counted against the queue's bound.
    var readingCount: Int
    /// When it entered the queue (monotonic ns), for the batch latency.
    var queuedNs: UInt64
    /// Runs once, after COMMIT or with the error that kept the batch from being stored.
    var completion: @Sendable (Result<BatchOutcome, StoreError>) -> Void
    /// One entry per series: its chunk when its readings are in order (PreparedChunk.prepare).
    var prepared: [PreparedChunk?]
}

/// A write waiting for the PostgreSQL writer thread.
enum PostgresWriteRequest: QueuedWrite {
    /// Store a batch, then report its outcome.
    case batch(PostgresBatchRequest)
    /// Add bandwidth counter deltas to this collector's rows, then report (when someone listens).
    case counters(deltas: [CounterDelta], atMs: Int64, completion: (@Sendable (Result<Void, StoreError>) -> Void)?)
    /// Compact every series with small chunks now, then report (tests and tools).
    case maintain(completion: @Sendable (Result<Void, StoreError>) -> Void)
    /// Register a commit-feed subscription between two transactions.
    case subscribe(CommitSubscription)

    /// The readings of a batch; nil for every other request (they skip the queue's bounds).
    var batchReadingCount: Int? {
        if case .batch(let request) = self { return request.readingCount }
        return nil
    }

    /// Reports `error` to whoever waits for this request, which was not written.
    func fail(with error: StoreError) {
        switch self {
        case .batch(let request): request.completion(.failure(error))
        case .counters(_, _, let completion): completion?(.failure(error))
        case .maintain(let completion): completion(.failure(error))
        case .subscribe(let subscription): subscription.end(.failed(error))
        }
    }
}

/// The queue of the PostgreSQL writer.
typealias PostgresWriteQueue = BoundedWriteQueue<PostgresWriteRequest>
