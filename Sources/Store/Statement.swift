import Storage

internal import CSQLite

/// A prepared statement, compiled once and reused: bind, step until done, reset.
///
/// Bindings survive `reset()`, so a parameter that stays the same across rows (a series id) is bound once.
/// Binding an integer or a double cannot fail for a valid index, so those binders do not throw; a wrong index is
/// a programming error and traps in debug builds.
final class Statement {
    private let handle: OpaquePointer
    /// Keeps the connection open for as long as the statement exists.
    private let database: Database
    /// What the statement does, for error messages ("insert reading").
    let operation: String

    /// Wraps a handle from `Database.prepare`.
    init(handle: OpaquePointer, database: Database, operation: String) {
        self.handle = handle
        self.database = database
        self.operation = operation
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Binds a 64-bit integer to the 1-based parameter `index`.
    @inline(__always)
    func bind(_ value: Int64, at index: Int32) {
        let code = sqlite3_bind_int64(handle, index, value)
        assert(code == SQLITE_OK, "bind int64 at \(index) of \(operation): \(code)")
    }

    /// Binds a double to the 1-based parameter `index`. SQLite stores NaN as NULL.
    @inline(__always)
    func bind(_ value: Double, at index: Int32) {
        let code = sqlite3_bind_double(handle, index, value)
        assert(code == SQLITE_OK, "bind double at \(index) of \(operation): \(code)")
    }

    /// Binds an integer, or NULL when `value` is nil.
    func bind(_ value: Int64?, at index: Int32) {
        if let value {
            bind(value, at: index)
        } else {
            let code = sqlite3_bind_null(handle, index)
            assert(code == SQLITE_OK, "bind null at \(index) of \(operation): \(code)")
        }
    }

    /// Binds text (copied by SQLite) to the 1-based parameter `index`.
    func bind(_ text: String, at index: Int32) throws(StoreError) {
        var text = text
        let code = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                fw_sqlite3_bind_text_transient(handle, index, chars.baseAddress, Int32(chars.count))
            }
        }
        guard code == SQLITE_OK else {
            throw StoreError.fromSQLite(code: code, operation: operation, message: database.lastErrorMessage)
        }
    }

    /// Binds bytes (copied by SQLite) as a BLOB to the 1-based parameter `index`.
    func bind(blob bytes: [UInt8], at index: Int32) throws(StoreError) {
        let code = bytes.withUnsafeBytes { raw in
            // A zero-length blob still needs a non-null pointer, or SQLite binds NULL.
            fw_sqlite3_bind_blob_transient(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count))
        }
        guard code == SQLITE_OK else {
            throw StoreError.fromSQLite(code: code, operation: operation, message: database.lastErrorMessage)
        }
    }

    /// Runs the statement one step: true when a row is available, false when done. On error the statement is
    /// reset (so it can be reused) and the error thrown.
    @inline(__always)
    func step() throws(StoreError) -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let message = database.lastErrorMessage
        sqlite3_reset(handle)
        throw StoreError.fromSQLite(code: code, operation: operation, message: message)
    }

    /// Steps a statement that returns no rows to completion and resets it.
    @inline(__always)
    func run() throws(StoreError) {
        while try step() {}
        sqlite3_reset(handle)
    }

    /// Rewinds the statement for its next use, keeping its bindings.
    @inline(__always)
    func reset() {
        sqlite3_reset(handle)
    }

    /// The integer in column `index` (0-based) of the current row.
    @inline(__always)
    func int64(at index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// The double in column `index` (0-based) of the current row.
    @inline(__always)
    func double(at index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// True when column `index` of the current row is NULL.
    func isNull(at index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// The integer in column `index`, or nil when it is NULL.
    func optionalInt64(at index: Int32) -> Int64? { isNull(at: index) ? nil : int64(at: index) }

    /// The bytes of the BLOB in column `index` (0-based) of the current row; empty for NULL.
    func blob(at index: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(handle, index) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, index))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// The text in column `index` (0-based) of the current row; empty for NULL.
    func text(at index: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
