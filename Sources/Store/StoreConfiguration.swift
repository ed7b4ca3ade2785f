/// How a `TelemetryStore` trades durability, latency and memory; the defaults suit the collector.
public struct StoreConfiguration: Equatable, Sendable {
    /// Aggregates of `stepMs` buckets kept for `keepMs` after retention deleted the readings they summarize.
    public struct Rollup: Equatable, Sendable {
        /// Bucket size, ms (> 0).
        public var stepMs: Int64
        /// How long a bucket is kept, ms (counted from the bucket's end).
        public var keepMs: Int64

        public init(stepMs: Int64, keepMs: Int64) {
            self.stepMs = stepMs
            self.keepMs = keepMs
        }
    }

    /// How hard SQLite works to make a commit survive a crash.
    public enum Durability: Equatable, Sendable {
        /// `synchronous=NORMAL` in WAL mode: a commit survives a process crash; a power loss may undo the last
        /// commits but never corrupts the file.
        case normal
        /// `synchronous=FULL`: the WAL is synced at every commit, so a commit also survives a power loss.
        case full
    }

    /// Sync policy of the writer connection.
    public var durability: Durability
    /// Most batches waiting in the write queue; `submit` throws `.overloaded` beyond it.
    public var maxQueuedBatches: Int
    /// Most readings waiting in the write queue; `submit` throws `.overloaded` beyond it (a single batch larger
    /// than this is still accepted into an empty queue, so it is not refused forever).
    public var maxQueuedReadings: Int
    /// The writer stops taking batches into a transaction once it holds this many readings.
    public var maxTransactionReadings: Int
    /// The writer stops taking batches into a transaction this long after its BEGIN, in milliseconds
    /// (clamped to 1...20): the most a queued batch's acknowledgement is delayed to share a commit. Only a writer
    /// that is behind fills it (an empty queue commits at once); then a longer window means larger transactions,
    /// which share the pages of the device and series counters among more batches (store-bench, 1,000 devices in
    /// shuffled order: 20 ms takes 1.15–1.2× the readings/s of 10 ms).
    public var maxTransactionMs: Int
    /// How long a connection waits for a lock held by another process before failing, in milliseconds.
    public var busyTimeoutMs: Int
    /// Idle read-only connections kept for queries (more are opened while many queries run at once).
    public var readConnections: Int
    /// Threads that run queries handed over by `performRead`, below the event loops' priority (see ReadThreads.swift).
    public var readThreads: Int
    /// Queries waiting for a read thread before `performRead` refuses more with `.readsOverloaded`.
    public var maxQueuedReads: Int
    /// Size of the `bandwidth_history` base bucket, in milliseconds.
    public var historyBucketMs: Int64
    /// Page cache of the writer connection, in MiB: big enough to keep the last leaf page of every active series
    /// (and the indexes' upper levels) in memory, so inserts do not re-read pages.
    public var writerCacheMiB: Int
    /// WAL size (frames) past which a WAL the background checkpointer has copied completely starts over (see
    /// Checkpointer.swift, restart rule). 16,384 frames is 64 MiB, the size the WAL file is truncated back to:
    /// each restart pauses the writer for the frames the last background round missed (measured 4–20 ms), so
    /// fewer, larger rounds trade disk for fewer pauses. Tests make it small.
    var walRestartFrames: Int32 = 16_384
    /// How long readings are kept, in milliseconds (nil: for ever). Retention deletes whole chunks whose last
    /// reading is older than now − retention, in the background (see RetentionSweeper.swift).
    public var retentionMs: Int64?
    /// Per-step aggregates kept when retention deletes chunks (`--rollup STEP:DURATION`).
    public var rollups: [Rollup] = []
    /// A series with small chunks and no write for this long has them merged (see Compactor.swift), ms.
    public var compactionIdleMs: Int64 = 60_000
    /// Time between two retention sweeps, ms.
    var retentionIntervalMs: Int64 = 60_000
    /// Tests only: caps the database file at this many pages, so a "disk full" (SQLITE_FULL) can be provoked.
    var maxPageCount: Int?

    /// The defaults: NORMAL sync, 10,000 batches / 1,000,000 readings queued, transactions of at most 50,000
    /// readings or 20 ms, 5 s busy timeout, 2 idle read connections, 2 read threads with up to 1,024 queries waiting, 10 s history buckets, 64 MiB writer cache.
    public init(
        durability: Durability = .normal,
        maxQueuedBatches: Int = 10_000,
        maxQueuedReadings: Int = 1_000_000,
        maxTransactionReadings: Int = 50_000,
        maxTransactionMs: Int = 20,
        busyTimeoutMs: Int = 5_000,
        readConnections: Int = 2,
        readThreads: Int = 2,
        maxQueuedReads: Int = 1024,
        historyBucketMs: Int64 = 10_000,
        writerCacheMiB: Int = 64
    ) {
        self.durability = durability
        self.maxQueuedBatches = maxQueuedBatches
        self.maxQueuedReadings = maxQueuedReadings
        self.maxTransactionReadings = maxTransactionReadings
        self.maxTransactionMs = maxTransactionMs
        self.busyTimeoutMs = busyTimeoutMs
        self.readConnections = readConnections
        self.readThreads = readThreads
        self.maxQueuedReads = maxQueuedReads
        self.historyBucketMs = historyBucketMs
        self.writerCacheMiB = writerCacheMiB
    }

    /// The configuration with every bound made usable: counts at least 1, the time bound within 1...20 ms.
    var normalized: StoreConfiguration {
        var copy = self
        copy.maxQueuedBatches = max(1, maxQueuedBatches)
        copy.maxQueuedReadings = max(1, maxQueuedReadings)
        copy.maxTransactionReadings = max(1, maxTransactionReadings)
        copy.maxTransactionMs = min(20, max(1, maxTransactionMs))
        copy.busyTimeoutMs = max(0, busyTimeoutMs)
        copy.readConnections = max(1, readConnections)
        copy.readThreads = min(64, max(1, readThreads))
        copy.maxQueuedReads = max(1, maxQueuedReads)
        copy.historyBucketMs = max(1, historyBucketMs)
        copy.writerCacheMiB = min(1 << 20, max(1, writerCacheMiB))
        copy.retentionMs = retentionMs.map { max(1, $0) }
        copy.rollups = rollups.filter { $0.stepMs > 0 && $0.keepMs > 0 }
        copy.compactionIdleMs = max(0, compactionIdleMs)
        copy.retentionIntervalMs = max(1, retentionIntervalMs)
        return copy
    }
}
