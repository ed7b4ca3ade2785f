/// A snapshot of the writer's queue and commit counters, for the collector's metrics endpoint.
public struct StoreMetrics: Equatable, Sendable {
    /// Batches accepted and not yet taken by the writer.
    public var queuedBatches: Int = 0
    /// Readings in those batches.
    public var queuedReadings: Int = 0
    /// Transactions committed.
    public var commits: UInt64 = 0
    /// Transactions whose COMMIT (or BEGIN) failed, failing all their batches.
    public var failedCommits: UInt64 = 0
    /// Batches stored (not counting duplicates).
    public var committedBatches: UInt64 = 0
    /// Duplicate batches acknowledged without writing.
    public var duplicateBatches: UInt64 = 0
    /// Batches that failed (alone, or with their transaction).
    public var failedBatches: UInt64 = 0
    /// Readings newly stored.
    public var committedReadings: UInt64 = 0
    /// Counter flushes committed.
    public var committedCounterFlushes: UInt64 = 0
    /// Batches that declared an exponent different from the one already stored for a series (the first is kept).
    public var exponentConflicts: UInt64 = 0
    /// Checkpoints the writer ran between transactions so that a large, nearly copied WAL starts over.
    public var walRestartCheckpoints: UInt64 = 0
    /// Transactions by duration, BEGIN to the end of COMMIT (failed ones included).
    public var commitLatency = LatencyHistogram.commitBuckets()
    /// Batches by the time from entering the queue to the end of their transaction's COMMIT: the store's share
    /// of a device's ack latency (queueing behind earlier transactions plus its own).
    public var batchLatency = LatencyHistogram.batchBuckets()

    /// An empty snapshot.
    public init() {}
}
