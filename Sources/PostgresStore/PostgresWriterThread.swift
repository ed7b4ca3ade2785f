// The writer thread's start and the state it shares with the store: the connection is opened on the writer thread
// itself, and the session is set up the same way after every reconnect.
//
// Start rule. The thread connects, sets the session (`configureSession`) and applies the schema; it reports the
// outcome to `init` through `PostgresWriterStartup`, and on failure ends at once without taking a request, so
// `init` throws the error (a server that cannot be reached is `.storageFailure`, naming the redacted target).
//
// Session rule. Every session of the writer runs with `synchronous_commit = on` (an acknowledged batch survives a
// server crash), `statement_timeout` from the configuration, and a `lock_timeout` a little shorter, so a writer
// stuck behind another collector's lock gives up with a retryable error before the statement timeout.

import Dispatch
import Glibc
import Postgres
import Storage
import Synchronization

/// What the writer thread needs, handed to it at start (the connection text holds the password: it is given to
/// libpq and never logged).
struct PostgresWriterContext: Sendable {
    /// What libpq connects to (a URL or keyword/value string; holds the password).
    let connectionText: String
    /// The store's settings, normalized.
    let configuration: PostgresStoreConfiguration
    /// The requests the writer drains.
    let queue: PostgresWriteQueue
    /// Where the writer reports its transactions and the storage health.
    let metrics: MetricsRecorder
    /// Where committed batches are published.
    let feed: CommitFeed
    /// Whether the writer is connected, read by `readinessProblems()`.
    let status: PostgresWriterStatus
}

/// The start's outcome, handed from the writer thread to `init`.
final class PostgresWriterStartup: Sendable {
    private let outcome = Mutex<StoreError??>(nil)
    private let reported = DispatchSemaphore(value: 0)

    /// Reports the start: nil when the writer is running.
    func report(_ failure: StoreError?) {
        outcome.withLock { $0 = .some(failure) }
        reported.signal()
    }

    /// Waits for the report; nil when the writer is running.
    func wait() -> StoreError? {
        reported.wait()
        return outcome.withLock { $0 ?? nil }
    }
}

/// Whether the writer is connected, for readiness: set by the writer thread, read from any thread.
final class PostgresWriterStatus: Sendable {
    private let reason = Mutex<String?>(nil)

    /// Why the writer is disconnected (the error of the latest attempt), or nil while it is connected.
    var disconnection: String? {
        get { reason.withLock { $0 } }
        set { reason.withLock { $0 = newValue } }
    }
}

/// What `close()` needs to know about the writer thread, shared without retaining the store.
final class PostgresWriterThreadState: Sendable {
    /// Left by the writer thread once it has drained the queue and closed its connection (or failed to start).
    let finished = DispatchGroup()
    /// The writer thread's pthread id, 0 until it starts.
    let threadID = Atomic<UInt>(0)

    /// True on the writer thread itself (from a completion), where waiting for the writer would deadlock.
    var isCurrent: Bool { threadID.load(ordering: .acquiring) == pthread_self() }
}

/// The writer thread's body.
enum PostgresWriterThread {
    /// Connects, prepares the schema, reports the start, then writes until the queue is closed and drained.
    static func run(_ context: PostgresWriterContext, startup: PostgresWriterStartup) {
        let connection: PostgresConnection
        do throws(StoreError) {
            connection = try connect(context)
            try PostgresSchema.prepare(connection)
        } catch {
            startup.report(error)
            return
        }
        startup.report(nil)
        let writer = PostgresWriter(connection: connection, context: context)
        writer.run()
        context.feed.endAll(.failed(.closed))
        connection.close()
    }

    /// A new connection with its session set up.
    static func connect(_ context: PostgresWriterContext) throws(StoreError) -> PostgresConnection {
        do throws(PostgresError) {
            let connection = try PostgresConnection(
                connectingTo: context.connectionText,
                connectTimeoutSeconds: context.configuration.connectTimeoutSeconds)
            try configureSession(connection, context.configuration)
            return connection
        } catch {
            throw StoreError(error, operation: "connect")
        }
    }

    /// Sets the session's durability and timeouts (see the file header), in one round trip.
    static func configureSession(
        _ connection: PostgresConnection, _ configuration: PostgresStoreConfiguration
    ) throws(PostgresError) {
        let statementTimeout = configuration.statementTimeoutMs
        let lockTimeout = max(1, statementTimeout * 9 / 10)
        let outcomes = try connection.executePipeline([
            PostgresStatement("SET synchronous_commit = on"),
            PostgresStatement("SET statement_timeout = \(statementTimeout)"),
            PostgresStatement("SET lock_timeout = \(lockTimeout)"),
        ])
        for outcome in outcomes { _ = try outcome.get() }
    }
}
