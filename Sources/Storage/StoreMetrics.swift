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
    /// Chunk rows written by batches (one per series per batch, more for runs past 3,600 readings).
    public var chunksWritten: UInt64 = 0
    /// Series entries of batches that landed in the past of their series and were merged into stored chunks.
    public var mergedSeriesWrites: UInt64 = 0
    /// Small chunks compaction merged away, and the chunks it wrote in their place.
    public var chunksCompacted: UInt64 = 0
    public var chunksFromCompaction: UInt64 = 0
    /// Readings retention deleted, and the chunks that held them.
    public var readingsExpired: UInt64 = 0
    public var chunksExpired: UInt64 = 0
    /// Compaction or retention transactions that failed (retried later; nothing acknowledged is affected).
    public var maintenanceFailures: UInt64 = 0
    /// Transactions by duration, BEGIN to the end of COMMIT (failed ones included).
    public var commitLatency = LatencyHistogram.commitBuckets()
    /// Batches by the time from entering the queue to the end of their transaction's COMMIT: the store's share
    /// of a device's ack latency (queueing behind earlier transactions plus its own).
    public var batchLatency = LatencyHistogram.batchBuckets()

    /// An empty snapshot.
    public init() {}
}
