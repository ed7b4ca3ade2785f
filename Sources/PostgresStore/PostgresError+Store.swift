import Postgres
import Storage

// How the PostgreSQL backend reports a server's error through the one error type of every backend.
//
// Rule: what a retry later can fix is `.storageFailure` (unavailable: gRPC UNAVAILABLE, HTTP 503 with
// Retry-After): a lost or refused connection (libpq's CONNECTION_BAD, SQLSTATE class 08), the server shutting down
// or restarting (57P01–57P03), out of resources (class 53), the statement timeout (57014), the lock timeout
// (55P03: another collector held a lock the writer needed for longer than lock_timeout), a deadlock or
// serialization failure the writer gave up retrying (class 40). Everything else is `.postgres` with its SQLSTATE.
// Neither ever carries the password: `PostgresError` is scrubbed already.

extension StoreError {
    /// The store error for `error`, raised while the backend was doing `operation`.
    init(_ error: PostgresError, operation: String) {
        if Self.isUnavailable(error) {
            self = .storageFailure(code: StoreError.postgresCode, operation: operation, message: error.description)
        } else {
            self = .postgres(sqlState: error.sqlState ?? "", operation: operation, message: error.description)
        }
    }

    /// True when a later retry may succeed (see the file header).
    static func isUnavailable(_ error: PostgresError) -> Bool {
        if error.isConnectionBad { return true }
        guard let state = error.sqlState else { return true }  // no SQLSTATE: libpq's own failure (no server answer)
        return state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("40")
            || ["57P01", "57P02", "57P03", "57014", "55P03"].contains(state)
    }
}
