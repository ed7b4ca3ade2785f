import Storage
import Synchronization

/// The read-only connections queries run on, lent to one caller at a time, so queries from any thread run beside
/// the writer (WAL gives each read transaction its own snapshot).
///
/// Never blocks: when every connection is lent out, a new one is opened; at most `maxIdle` are kept when returned.
final class ReadPool: Sendable {
    private struct State {
        var idle: [ExclusiveBox<ReadConnection>] = []
        var isClosed = false
    }

    private let path: String
    private let busyTimeoutMs: Int
    private let maxIdle: Int
    private let state = Mutex(State())

    /// A pool for the database at `path` (which the writer has already created and migrated).
    init(path: String, busyTimeoutMs: Int, maxIdle: Int) {
        self.path = path
        self.busyTimeoutMs = busyTimeoutMs
        self.maxIdle = maxIdle
    }

    /// Runs `body` with a connection no other thread is using; throws `.closed` after `close()`.
    func withConnection<Result>(
        _ body: (ReadConnection) throws(StoreError) -> Result
    ) throws(StoreError) -> Result {
        let box = try checkOut()
        defer { checkIn(box) }
        return try box.withExclusiveAccess { (connection) throws(StoreError) -> Result in try body(connection) }
    }

    /// Drops the idle connections and refuses further queries; connections lent out close when returned.
    func close() {
        let dropped = state.withLock { state -> [ExclusiveBox<ReadConnection>] in
            state.isClosed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        _ = dropped  // released here, outside the lock: closing a connection may take a moment
    }

    /// A connection for one user (reused or newly opened); give it back with `checkIn`.
    func checkOut() throws(StoreError) -> ExclusiveBox<ReadConnection> {
        let reused = try state.withLock { (state) throws(StoreError) -> ExclusiveBox<ReadConnection>? in
            guard !state.isClosed else { throw .closed }
            return state.idle.popLast()
        }
        if let reused { return reused }
        let database = try Database(path: path, mode: .readOnly, busyTimeoutMs: busyTimeoutMs)
        return ExclusiveBox(ReadConnection(database: database))
    }

    /// Takes a connection back (kept when the pool has room for it).
    func checkIn(_ box: ExclusiveBox<ReadConnection>) {
        state.withLock { state in
            if !state.isClosed && state.idle.count < maxIdle { state.idle.append(box) }
        }
    }
}
