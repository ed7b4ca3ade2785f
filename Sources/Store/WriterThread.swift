// The writer thread: opens the file for writing, runs the group-commit writer, and copes with a file it cannot
// open for writing.
//
// Read-only rule. The store starts even when its file cannot be opened for writing (a read-only file, directory or
// mount; a lock held by another process), as long as a read-only connection finds a database at the current schema
// version there: queries work, and every write is refused at once, without a transaction, with the error that
// kept the file from opening (`.storageFailure`, for a read-only file "database is read-only: ..."), which the
// collector answers with UNAVAILABLE / 503. The health reports it as failing. While writes are refused, a write
// that arrives `reopenIntervalMs` or more after the last attempt makes the thread try to open the file for writing
// again; once that succeeds the store writes normally, without a restart.
//
// Shutdown order (once the queue is closed and drained): the writer's connection, then the read pool, then the
// checkpointer, whose connection is the last one and folds the WAL back into the database file.
import Clocks
import Storage
import Dispatch
import Foundation
import Synchronization

/// How the writer thread opens (and reopens) the store's file for writing.
struct WriterOpener: Sendable {
    let path: String
    let configuration: StoreConfiguration
    let queue: WriteQueue
    let metrics: MetricsRecorder
    /// The commit feed the writer publishes to, and where replays read.
    let feed: CommitFeed
    let replaySource: ReplaySource

    /// Least time between two attempts to open a file that could not be opened for writing.
    static let reopenIntervalMs: UInt64 = 1_000

    /// The writer's connection, configured and migrated, with its checkpointer beside it.
    func open() throws(StoreError) -> OpenWriter {
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: configuration.busyTimeoutMs)
        try database.requireWritable()
        try SchemaMigration.configureWriter(database, configuration)
        try SchemaMigration.migrate(database)
        let checkpointer = try Checkpointer(
            path: path, busyTimeoutMs: configuration.busyTimeoutMs, intervalMs: TelemetryStore.checkpointIntervalMs,
            restartFrames: configuration.walRestartFrames)
        do throws(StoreError) {
            let writer = try GroupCommitWriter(
                database: database, queue: queue, metrics: metrics, checkpointer: checkpointer,
                configuration: configuration, feed: feed, replaySource: replaySource)
            return OpenWriter(writer: writer, checkpointer: checkpointer)
        } catch {
            checkpointer.close()
            throw error
        }
    }

    /// Throws `original` unless it is a storage failure and a read-only connection finds a database at the current
    /// schema version at `path`: the condition for starting with writes refused.
    func requireReadableDatabase(else original: StoreError) throws(StoreError) {
        guard case .storageFailure = original else { throw original }
        let version: Int32
        do throws(StoreError) {
            let database = try Database(path: path, mode: .readOnly, busyTimeoutMs: configuration.busyTimeoutMs)
            version = try SchemaMigration.userVersion(database)
        } catch {
            throw original
        }
        guard version == SchemaSQL.version else { throw original }
    }
}

/// A writer and the checkpointer beside it.
final class OpenWriter {
    let writer: GroupCommitWriter
    let checkpointer: Checkpointer

    init(writer: GroupCommitWriter, checkpointer: Checkpointer) {
        self.writer = writer
        self.checkpointer = checkpointer
    }
}

/// The writer thread's loop: write through the open writer, or refuse while the file cannot be opened for writing.
enum WriterThread {
    /// Runs until the queue is closed and drained, then closes the connections in order (see above).
    /// `refusal` is why `open` is nil at the start.
    static func run(
        _ open: inout OpenWriter?, refusal: StoreError?, opener: WriterOpener, readPool: ReadPool
    ) {
        var refusal = refusal
        var lastAttemptNs = MonotonicClock.nowNs()
        while let request = nextRequest(open, opener.queue) {
            if open == nil, MonotonicClock.nowNs() &- lastAttemptNs >= WriterOpener.reopenIntervalMs * 1_000_000 {
                lastAttemptNs = MonotonicClock.nowNs()
                do throws(StoreError) {
                    open = try opener.open()
                } catch {
                    refusal = error
                }
            }
            if let open {
                if case .maintain(let completion) = request {
                    completion(open.writer.runMaintenanceFully())
                    continue
                }
                if case .subscribe(let subscription) = request {
                    open.writer.subscribe(subscription)
                    continue
                }
                open.writer.runTransaction(startingWith: request)
                // Under sustained load the queue is never empty: maintenance still gets a short step now and then.
                open.writer.runMaintenanceIfOverdue()
            } else {
                refuse(request, with: refusal ?? .closed, metrics: opener.metrics)
            }
        }
        opener.feed.endAll(.failed(.closed))
        let checkpointer = open?.checkpointer
        open = nil  // closes the writer's connection
        readPool.close()
        checkpointer?.close()  // last connection: checkpoints the rest of the WAL and removes it
    }

    /// The next request; while the queue is empty, runs due maintenance steps (compaction, retention) one at a
    /// time, and otherwise sleeps until the next one is due. Nil once the queue is closed and drained.
    private static func nextRequest(_ open: OpenWriter?, _ queue: WriteQueue) -> WriteRequest? {
        guard let writer = open?.writer else { return queue.waitForNext() }
        while true {
            if queue.isClosed { return queue.takeIfAvailable() ?? queue.waitForNext() }
            let nowNs = MonotonicClock.nowNs()
            if writer.isMaintenanceDue(nowNs: nowNs) {
                if let request = queue.takeIfAvailable() { return request }
                writer.runMaintenanceStep()
                continue
            }
            switch queue.waitForNext(timeoutNs: writer.maintenanceWaitNs(nowNs: nowNs)) {
            case .request(let request): return request
            case .closed: return nil
            case .timedOut: continue
            }
        }
    }

    /// Fails one request at once, without a transaction.
    private static func refuse(_ request: WriteRequest, with error: StoreError, metrics: MetricsRecorder) {
        switch request {
        case .batch(_, _, _, _, let completion, _):
            metrics.recordRefused(batches: 1, error: error, atMs: WallClock.nowMs())
            completion(.failure(error))
        case .counters(_, _, let completion):
            metrics.recordRefused(batches: 0, error: error, atMs: WallClock.nowMs())
            completion?(.failure(error))
        case .maintain(let completion):
            completion(.failure(error))
        case .subscribe(let subscription):
            subscription.end(.failed(error))
        }
    }
}

/// What `close()` needs to know about the writer thread, shared with the thread without retaining the store
/// (so an unclosed store can still be deinitialized, which closes it).
final class WriterThreadState: Sendable {
    /// Left by the writer thread once it has drained the queue and closed its connection.
    let finished = DispatchGroup()
    /// The writer thread's pthread id, 0 until it starts.
    let threadID = Atomic<UInt>(0)

    /// True on the writer thread itself (from a completion), where waiting for the writer would deadlock.
    var isCurrent: Bool { threadID.load(ordering: .acquiring) == pthread_self() }
}
