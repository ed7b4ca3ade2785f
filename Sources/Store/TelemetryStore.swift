import Chunks
import Clocks
import Dispatch
import Foundation
import Glibc
import Storage
import Synchronization
import Telemetry

/// The collector's telemetry database: a group-commit writer thread for every write, and a pool of read-only
/// connections for queries. Safe to use from any thread.
///
/// Writes are queued and never block the caller: `submit` either accepts a batch (its completion runs once, after
/// the transaction holding it has committed) or throws at once (`.overloaded`, `.closed`). See
/// `GroupCommitWriter.swift` for the batching, durability, exactly-once and first-write-wins rules.
public final class TelemetryStore: TelemetryStorage {
    /// The database file.
    public let path: String
    /// The configuration in effect (bounds clamped to usable values).
    public let configuration: StoreConfiguration

    private let queue: WriteQueue
    private let metricsRecorder: MetricsRecorder
    /// The read-only connections the queries use.
    let readPool: ReadPool
    /// The threads `performRead` hands queries to.
    private let readThreads: ReadThreads
    /// How often, at most, the background thread checkpoints the WAL while the writer commits.
    static let checkpointIntervalMs = 100
    private let writerThread = WriterThreadState()
    /// Watchers of committed batches (CommitFeed.swift), published to by the writer.
    let feed = CommitFeed()

    /// Opens (creating it and its directory when missing) the store at `path`, brings its schema to the current
    /// version, and starts the writer thread.
    ///
    /// A file that exists at the current schema version but cannot be opened for writing (read-only file, directory
    /// or mount) still opens: queries work, writes are refused with `.storageFailure` until the file can be opened
    /// for writing again (see WriterThread.swift), and `storageHealth()` says so.
    ///
    /// Throws `.schemaTooNew` for a file written by a newer collector, `.cannotOpen` when the directory cannot be
    /// created, and `.storageFailure`/`.sqlite` when SQLite cannot open or set up the file.
    public init(path: String, configuration: StoreConfiguration = .init()) throws(StoreError) {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else {
            throw .cannotOpen(path: path, reason: "the store needs a plain file path (readers open it separately)")
        }
        let configuration = configuration.normalized
        self.path = path
        self.configuration = configuration
        try Self.createParentDirectory(of: path)

        queue = WriteQueue(maxBatches: configuration.maxQueuedBatches, maxReadings: configuration.maxQueuedReadings)
        metricsRecorder = MetricsRecorder()
        readPool = ReadPool(
            path: path, busyTimeoutMs: configuration.busyTimeoutMs, maxIdle: configuration.readConnections)
        readThreads = ReadThreads(count: configuration.readThreads, maxQueued: configuration.maxQueuedReads)
        let opener = WriterOpener(
            path: path, configuration: configuration, queue: queue, metrics: metricsRecorder, feed: feed,
            replaySource: ReplaySource(readPool: readPool, readThreads: readThreads))
        let open: OpenWriter?
        var refusal: StoreError?
        do throws(StoreError) {
            open = try opener.open()
        } catch {
            try opener.requireReadableDatabase(else: error)
            open = nil
            refusal = error
            metricsRecorder.recordRefused(batches: 0, error: error, atMs: WallClock.nowMs())
        }
        startWriterThread(ExclusiveBox<OpenWriter?>(open), refusal: refusal, opener: opener)
    }

    deinit {
        close()
    }

    /// Queues `batch` of device `deviceID` for storage without blocking. Its in-order series are encoded into
    /// chunks here, on the caller's thread, so the single writer thread only writes them (see PreparedChunk).
    ///
    /// `completion` runs exactly once, on the writer thread, after the transaction holding the batch has
    /// committed — or with the error that kept it from being stored, in which case nothing of it is stored.
    /// Keep it short: the next transaction waits for it.
    ///
    /// - Throws: `.overloaded` at once when the write queue is full, `.closed` after `close()`; then the
    ///   completion is never called.
    public func submit(
        deviceID: String, batch: ReadingBatch,
        completion: @escaping @Sendable (Result<BatchOutcome, StoreError>) -> Void
    ) throws(StoreError) {
        try queue.enqueue(
            .batch(
                deviceID: deviceID, batch: batch, readingCount: batch.readingCount, queuedNs: MonotonicClock.nowNs(),
                completion: completion, prepared: PreparedChunk.prepare(batch)))
    }

    /// Registers `subscription` through the write queue, so the writer registers it between two transactions
    /// (and pins its replay's snapshot there): see GroupCommitWriter+Feed.swift. Throws `.closed` after `close()`.
    public func watchCommits(_ subscription: CommitSubscription) throws(StoreError) {
        try queue.enqueue(.subscribe(subscription))
    }

    /// Stores `batch` and returns its outcome once committed: `submit` for async callers, tests and tools.
    public func store(deviceID: String, batch: ReadingBatch) async throws(StoreError) -> BatchOutcome {
        try await awaitStoreCompletion { (completion) throws(StoreError) in
            try submit(deviceID: deviceID, batch: batch, completion: completion)
        }
    }

    /// Queues bandwidth counter deltas to be added to `bandwidth` and to the `bandwidth_history` bucket holding
    /// `atMs`, through the writer like every write.
    ///
    /// Accepted even when the batch queue is full (a flush is tiny and losing it loses accounting); refused with
    /// `.closed` after `close()`. `completion`, when given, runs after the commit, as for `submit`.
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

    /// Compacts every series holding small chunks and runs a whole retention sweep, through the writer like every
    /// write, and returns once done: for tests, the benchmark and tools that want the settled layout now. (The
    /// collector does both in the background by itself.)
    public func compactAndSweep() async throws(StoreError) {
        try await awaitStoreCompletion { (completion) throws(StoreError) in
            try queue.enqueue(.maintain(completion: completion))
        }
    }

    /// Stops accepting writes, lets the writer commit everything already queued (running its completions), and
    /// closes the connections and threads, returning when they are closed. Idempotent and safe from any thread;
    /// called from a completion (on the writer thread) it does not wait, and the writer finishes right after.
    public func close() {
        readThreads.close()
        queue.close()
        guard !writerThread.isCurrent else { return }  // the writer finishes the queue after this completion
        writerThread.finished.wait()
    }

    /// True once `close()` has been called.
    public var isClosed: Bool { queue.isClosed }

    /// Runs `work` on one of the store's read threads (see ReadThreads.swift).
    public func performRead(_ work: @escaping @Sendable () -> Void) throws(StoreError) {
        try readThreads.execute(work)
    }

    /// The size of the `bandwidth_history` base bucket.
    public var historyBucketMs: Int64 { configuration.historyBucketMs }

    /// Not ready while: closed, the write queue is at 90 % of either bound, the file is not writable, or the
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
        if access(path, W_OK) != 0 { problems.append("the database file is not writable") }
        if let failure = storageHealth().currentFailure { problems.append("the latest write failed: \(failure)") }
        return problems
    }

    /// Whether writes currently reach the disk (see StorageHealth.swift): for readiness and for the log.
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

    private func startWriterThread(_ box: ExclusiveBox<OpenWriter?>, refusal: StoreError?, opener: WriterOpener) {
        let state = writerThread
        let readPool = readPool
        state.finished.enter()
        let thread = Thread {
            state.threadID.store(pthread_self(), ordering: .releasing)
            box.withExclusiveAccess { open in
                WriterThread.run(&open, refusal: refusal, opener: opener, readPool: readPool)
            }
            // Shutdown happens here, not in close(), so it also completes when close() ran on this thread.
            state.finished.leave()
        }
        thread.name = "fleetwire-store-writer"
        thread.start()
    }

    private static func createParentDirectory(of path: String) throws(StoreError) {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, reason: "cannot create directory \(directory): \(error.localizedDescription)")
        }
    }
}
