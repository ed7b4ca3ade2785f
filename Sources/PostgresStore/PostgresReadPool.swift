import Postgres
import Storage
import Synchronization

// The read side's connections: one libpq connection per query in flight, kept idle between queries.
//
// Rules: a connection is lent to one caller at a time (it is taken out of the idle list while lent, so no two
// threads ever share one); connections are opened lazily, never more are kept idle than `maxIdle`; a connection
// that comes back lost (libpq's CONNECTION_BAD) or still inside a transaction is closed, not kept. Every session is
// read-only by default and bounded by the statement timeout. A query that fails on a reused connection because
// that connection was lost while idle (the server restarted, an administrator ended the session) is run once more
// on a fresh connection: queries only read, so running one again changes nothing.

/// Read-only connections for queries, opened lazily, at most `maxIdle` kept; a connection found bad is dropped and
/// replaced.
final class PostgresReadPool: Sendable {
    /// One connection, lent to one caller at a time.
    ///
    /// `@unchecked Sendable` because `PostgresConnection` is not: the pool hands a lease to exactly one caller
    /// (popped from the idle list under the lock, pushed back under it), so the connection is never used by two
    /// threads at once, and the lock's ordering makes one user's writes visible to the next.
    private final class Lease: @unchecked Sendable {
        let connection: PostgresConnection

        init(_ connection: PostgresConnection) {
            self.connection = connection
        }
    }

    private struct State {
        var idle: [Lease] = []
        var isClosed = false
    }

    private let connectionText: String
    private let maxIdle: Int
    private let statementTimeoutMs: Int
    private let connectTimeoutSeconds: Int
    private let state = Mutex(State())

    /// A pool of connections to `connection` (a URL or keyword/value string); each session gets
    /// `statement_timeout` = `statementTimeoutMs` (0: none) and is read-only by default.
    init(connection: String, maxIdle: Int, statementTimeoutMs: Int, connectTimeoutSeconds: Int) {
        self.connectionText = connection
        self.maxIdle = maxIdle
        self.statementTimeoutMs = statementTimeoutMs
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// Runs `body` with a reader no other thread is using; throws `.closed` after `close()`, `.storageFailure`
    /// when no connection can be opened.
    func withReader<T>(_ body: (PostgresReader) throws(StoreError) -> T) throws(StoreError) -> T {
        let (lease, isReused) = try checkOut()
        do {
            let result = try body(PostgresReader(connection: lease.connection))
            checkIn(lease)
            return result
        } catch {
            let isLostWhileIdle = isReused && lease.connection.isConnectionBad
            checkIn(lease)
            guard isLostWhileIdle else { throw error }
        }
        // The reused connection had been lost while idle: once more on a new one (see the file header).
        let fresh = try openLease()
        defer { checkIn(fresh) }
        return try body(PostgresReader(connection: fresh.connection))
    }

    /// Closes the idle connections and refuses further queries; connections lent out are closed when returned.
    func close() {
        let dropped = state.withLock { state -> [Lease] in
            state.isClosed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for lease in dropped { lease.connection.close() }
    }

    /// An idle connection (reused: true) or a new one.
    private func checkOut() throws(StoreError) -> (Lease, Bool) {
        let reused = try state.withLock { (state) throws(StoreError) -> Lease? in
            guard !state.isClosed else { throw .closed }
            return state.idle.popLast()
        }
        if let reused { return (reused, true) }
        return (try openLease(), false)
    }

    /// Opens and sets up a new connection.
    private func openLease() throws(StoreError) -> Lease {
        let operation = "open read connection"
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(
                connectingTo: connectionText, connectTimeoutSeconds: connectTimeoutSeconds)
            // One round trip: the statement timeout (when there is one) and read-only sessions.
            try connection.execute(
                "SELECT set_config('statement_timeout', $1, false), "
                    + "set_config('default_transaction_read_only', 'on', false)",
                parameters: [.text(String(max(0, statementTimeoutMs)))])
        } catch {
            throw StoreError(error, operation: operation)
        }
        return Lease(connection)
    }

    /// Takes a connection back: kept when it is healthy, idle and the pool has room; closed otherwise.
    private func checkIn(_ lease: Lease) {
        let connection = lease.connection
        let isHealthy = !connection.isConnectionBad && connection.transactionStatus == .idle
        let isKept =
            isHealthy
            && state.withLock { state in
                guard !state.isClosed && state.idle.count < maxIdle else { return false }
                state.idle.append(lease)
                return true
            }
        if !isKept { connection.close() }
    }
}
