// Plain SQL over a store file, the way `collector sql` offers it: the file opened read-only, the `readings` table over
// the chunks (ReadingsVirtualTable.swift) and the old `readings_view` added as TEMP objects of this connection only,
// so nothing is written to the file.

internal import CSQLite
import Glibc
import Storage

/// One value of a result row, typed as SQLite returned it.
package enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The value as text: nil for NULL; reals as Swift's `description` (it reads back as the same Double); blobs as
    /// an SQL literal `X'…'` in hex.
    package var text: String? {
        switch self {
        case .null: nil
        case .integer(let value): String(value)
        case .real(let value): value.description
        case .text(let value): value
        case .blob(let bytes):
            "X'" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined() + "'"
        }
    }
}

/// What a statement returned.
package struct SQLResult: Equatable, Sendable {
    /// Column names, in order.
    package var columns: [String]
    /// The rows; each has one value per column.
    package var rows: [[SQLValue]]
    /// Chunks the `readings` table decoded to answer: how much of the store the query read.
    package var decodedChunks: Int

    package init(columns: [String] = [], rows: [[SQLValue]] = [], decodedChunks: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.decodedChunks = decodedChunks
    }
}

/// Runs SQL against a store file with the `readings` table available.
package enum SQLConsole {
    /// The TEMP objects every console connection gets (SQLite has no `CREATE TEMP VIRTUAL TABLE`: the `temp.`
    /// schema name does it).
    static let setupSQL = """
        CREATE VIRTUAL TABLE temp.readings USING \(ReadingsModule.name);
        CREATE TEMP VIEW readings_view AS SELECT device, sensor, ts, value FROM readings;
        """

    /// Opens `path` read-only (a missing file is an error, never created), adds `readings` and `readings_view`, and
    /// runs `sql`: one statement or several separated by `;`. Returns the rows of the last statement that has
    /// columns (a SELECT), or an empty result. SQLite's errors come back with its message (a write: "attempt to
    /// write a readonly database").
    package static func run(path: String, sql: String) throws(StoreError) -> SQLResult {
        let database = try open(path: path)
        let module = try install(on: database)
        var result = try execute(sql, on: database)
        result.decodedChunks = module.decodedChunks
        return result
    }

    /// Opens `path` read-only; refuses a missing file by name.
    static func open(path: String) throws(StoreError) -> Database {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .cannotOpen(path: path, reason: "no such database file")
        }
        return try Database(path: path, mode: .readOnly, busyTimeoutMs: 5_000)
    }

    /// Registers the module on `database` and creates the TEMP `readings` table and `readings_view` view.
    static func install(on database: Database) throws(StoreError) -> ReadingsModule {
        let module = try ReadingsModule.register(on: database)
        try database.execute(setupSQL, operation: "create the readings table")
        return module
    }

    /// Runs every statement of `sql` on `database`.
    static func execute(_ sql: String, on database: Database) throws(StoreError) -> SQLResult {
        let outcome: Result<SQLResult, StoreError> = sql.withCString { start in
            var result = SQLResult()
            var remaining: UnsafePointer<CChar>? = start
            while let current = remaining, current.pointee != 0 {
                var statement: OpaquePointer?
                let code = sqlite3_prepare_v2(database.handle, current, -1, &statement, &remaining)
                guard code == SQLITE_OK else {
                    return .failure(
                        .fromSQLite(code: code, operation: "prepare the SQL", message: database.lastErrorMessage))
                }
                // Only whitespace or a comment was left.
                guard let statement else { continue }
                defer { sqlite3_finalize(statement) }
                switch rows(of: statement, on: database) {
                case .success(let rows) where sqlite3_column_count(statement) > 0: result = rows
                case .success: break
                case .failure(let error): return .failure(error)
                }
            }
            return .success(result)
        }
        return try outcome.get()
    }

    /// Steps `statement` to the end, collecting its rows.
    private static func rows(of statement: OpaquePointer, on database: Database) -> Result<SQLResult, StoreError> {
        let width = sqlite3_column_count(statement)
        var result = SQLResult(columns: (0..<width).map { String(cString: sqlite3_column_name(statement, $0)) })
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return .success(result) }
            guard code == SQLITE_ROW else {
                return .failure(.fromSQLite(code: code, operation: "run the SQL", message: database.lastErrorMessage))
            }
            result.rows.append((0..<width).map { value(statement, $0) })
        }
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let bytes = sqlite3_column_text(statement, column)
            let count = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let bytes = sqlite3_column_blob(statement, column)
            let count = Int(sqlite3_column_bytes(statement, column))
            return .blob(count == 0 ? [] : Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }
}
