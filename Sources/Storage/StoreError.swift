/// Why a storage backend refused or failed an operation: the one error type of every `TelemetryStorage`.
///
/// The collector maps `isUnavailable` errors to gRPC UNAVAILABLE / HTTP 503 (try again later: the queue is full,
/// the store is shutting down, or the storage itself is failing), `.invalidArgument` to a 400, and everything else
/// to an internal error.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The write queue is full; the batch was not accepted. Carries the number of batches queued at the time.
    case overloaded(queuedBatches: Int)
    /// Too many queries are waiting for a read thread; the query was not started. Carries the number waiting.
    case readsOverloaded(queued: Int)
    /// The store has been closed; nothing more is accepted.
    case closed
    /// The storage is failing: disk full, file read-only, I/O error, cannot open, out of memory, or locked by
    /// another process for longer than the busy timeout; for PostgreSQL, the server cannot be reached, is shutting
    /// down, is out of resources, or ran past the statement timeout. Nothing of the failed operation was stored.
    /// `code` is SQLite's result code, or `postgresCode` (-1) for a PostgreSQL server.
    case storageFailure(code: Int32, operation: String, message: String)
    /// Any other SQLite error (for example a constraint violation). `code` is the extended result code and
    /// `operation` names what the store was doing.
    case sqlite(code: Int32, operation: String, message: String)
    /// An error the PostgreSQL server reported for an operation (a constraint, a bad statement, ...), with its
    /// SQLSTATE: not a reason to retry. (A lost or overloaded server is `.storageFailure`.)
    case postgres(sqlState: String, operation: String, message: String)
    /// The database file has a schema newer than this code knows: it was written by a newer collector.
    case schemaTooNew(found: Int32, supported: Int32)
    /// The database file could not be prepared: a directory could not be created, or the file is not a database
    /// this code can use.
    case cannotOpen(path: String, reason: String)
    /// A query argument is out of range (a limit or step that is not positive, a cursor of the wrong order, ...).
    case invalidArgument(String)

    /// The `code` of a `.storageFailure` reported by the PostgreSQL backend (SQLite's codes are not negative).
    public static let postgresCode: Int32 = -1

    /// True when the caller should answer "unavailable, retry later" (gRPC UNAVAILABLE, HTTP 503).
    public var isUnavailable: Bool {
        switch self {
        case .overloaded, .readsOverloaded, .closed, .storageFailure: true
        case .sqlite, .postgres, .schemaTooNew, .cannotOpen, .invalidArgument: false
        }
    }

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .overloaded(let queuedBatches):
            "store overloaded: write queue full (\(queuedBatches) batches queued); retry later"
        case .readsOverloaded(let queued):
            "store overloaded: \(queued) queries waiting for a read thread; retry later"
        case .closed:
            "store closed: no more writes or queries are accepted"
        case .storageFailure(let code, let operation, let message):
            code == Self.postgresCode
                ? "storage failing during \(operation): \(message)"
                : "storage failing during \(operation): \(message) (SQLite code \(code))"
        case .postgres(let sqlState, let operation, let message):
            "PostgreSQL error during \(operation): \(message) (SQLSTATE \(sqlState))"
        case .sqlite(let code, let operation, let message):
            "SQLite error during \(operation): \(message) (SQLite code \(code))"
        case .schemaTooNew(let found, let supported):
            "database schema version \(found) is newer than this collector supports (\(supported)); "
                + "use a newer collector or another file"
        case .cannotOpen(let path, let reason):
            "cannot open store at \(path): \(reason)"
        case .invalidArgument(let text):
            "invalid argument: \(text)"
        }
    }
}
