import Storage

// The thin SQLite wrapper: the only place besides Statement.swift that touches sqlite3_* and its pointers.
internal import CSQLite

/// One SQLite connection, opened with `SQLITE_OPEN_NOMUTEX`: it must be used by one thread at a time, which the
/// writer (one thread) and the read pool (one borrower at a time) guarantee.
///
/// Deliberately not `Sendable`. Closing happens when the last reference goes away (`sqlite3_close_v2`, so a
/// statement finalized later is still safe); statements keep their connection alive.
final class Database {
    /// How to open the file.
    enum Mode {
        /// Read and write, creating the file when missing: the writer's connection.
        case readWrite
        /// Read only: the query pool's connections.
        case readOnly
    }

    /// The connection handle; valid for the object's whole life.
    let handle: OpaquePointer
    /// The file, for error messages.
    let path: String

    /// Opens `path` with extended result codes and the given busy timeout.
    init(path: String, mode: Mode, busyTimeoutMs: Int) throws(StoreError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        switch mode {
        case .readWrite: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        }
        _ = Self.configureSQLite
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw StoreError.fromSQLite(code: code, operation: "open \(path)", message: message)
        }
        handle = opened
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(clamping: busyTimeoutMs))
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Process-wide SQLite settings, applied once before the first connection: no memory statistics (we never read
    /// them, and keeping them costs a global mutex per allocation: about 5 % of the writer's time in store-bench).
    private static let configureSQLite: Void = {
        _ = fw_sqlite3_disable_memory_statistics()
    }()

    /// Runs one or more SQL statements that return no rows we need (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String, operation: String) throws(StoreError) {
        var errorText: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorText)
        guard code == SQLITE_OK else {
            let message = errorText.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(errorText)
            throw StoreError.fromSQLite(code: code, operation: operation, message: message)
        }
    }

    /// Compiles one statement to be reused many times (bind, step, reset).
    func prepare(_ sql: String, operation: String) throws(StoreError) -> Statement {
        var prepared: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard code == SQLITE_OK, let prepared else {
            throw StoreError.fromSQLite(code: code, operation: "prepare \(operation)", message: lastErrorMessage)
        }
        return Statement(handle: prepared, database: self, operation: operation)
    }

    /// The integer value of a pragma that returns one row, such as `user_version`.
    func pragmaInteger(_ name: String) throws(StoreError) -> Int64 {
        let statement = try prepare("PRAGMA \(name)", operation: "read PRAGMA \(name)")
        guard try statement.step() else { return 0 }
        let value = statement.int64(at: 0)
        statement.reset()
        return value
    }

    /// The text value of a pragma that returns one row, such as `journal_mode`.
    func pragmaText(_ statementText: String) throws(StoreError) -> String {
        let statement = try prepare("PRAGMA \(statementText)", operation: "PRAGMA \(statementText)")
        guard try statement.step() else { return "" }
        let value = statement.text(at: 0)
        statement.reset()
        return value
    }

    /// Runs a PASSIVE checkpoint: copies committed WAL frames back into the database file without waiting for,
    /// or blocking, the writer or the readers. Returns the frames in the WAL and how many of them are now copied.
    /// Copies the whole WAL into the database file and truncates the WAL to zero bytes (waits for readers).
    func checkpointTruncate() throws(StoreError) {
        let code = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        guard code == SQLITE_OK else {
            throw StoreError.fromSQLite(code: code, operation: "final checkpoint", message: lastErrorMessage)
        }
    }

    func checkpointPassive() throws(StoreError) -> (walFrames: Int32, checkpointedFrames: Int32) {
        var walFrames: Int32 = 0
        var checkpointedFrames: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &walFrames, &checkpointedFrames)
        guard code == SQLITE_OK else {
            throw StoreError.fromSQLite(code: code, operation: "checkpoint", message: lastErrorMessage)
        }
        return (walFrames, checkpointedFrames)
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE (rows skipped by `ON CONFLICT DO NOTHING` excluded).
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the most recent successful INSERT into a rowid table.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// True while a transaction is open (SQLite is not in autocommit mode).
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Throws `.storageFailure` (SQLITE_READONLY) when SQLite opened the file read-only although asked for read-write,
    /// as it silently does when the file, its directory or the mount cannot be written.
    func requireWritable() throws(StoreError) {
        guard sqlite3_db_readonly(handle, "main") == 1 else { return }
        throw .storageFailure(
            code: SQLITE_READONLY, operation: "open \(path) for writing",
            message: "database is read-only: the file, its directory or its file system cannot be written")
    }

    /// SQLite's message for the connection's most recent error.
    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }
}

extension StoreError {
    /// The error for a failed SQLite call: `.storageFailure` for the codes that mean the storage itself is
    /// failing (full, read-only, I/O error, cannot open, out of memory, busy past the timeout), `.sqlite` otherwise.
    static func fromSQLite(code: Int32, operation: String, message: String) -> StoreError {
        switch code & 0xFF {
        case SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_NOMEM, SQLITE_BUSY:
            .storageFailure(code: code, operation: operation, message: message)
        default:
            .sqlite(code: code, operation: operation, message: message)
        }
    }
}
