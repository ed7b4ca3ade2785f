internal import CPostgres

/// What one statement returned: its rows in text format and how many rows it changed.
///
/// It exists so that the libpq result is read once, copied into Swift values and freed at once: no `PGresult`
/// outlives the call that produced it, and the caller sees the affected row count that tells an `INSERT … ON
/// CONFLICT DO NOTHING` that stored its row (1) from one that found a duplicate (0).
public struct PostgresResult: Sendable, Equatable {
    /// The result's columns, in order (empty for a statement that returns no rows).
    public var columns: [PostgresColumn]
    /// The rows, each with one value per column.
    public var rows: [PostgresRow]
    /// The rows the statement inserted, updated, deleted, selected, moved, fetched or copied (libpq's
    /// `PQcmdTuples`); 0 for a statement that reports none (CREATE, SET, BEGIN …).
    public var affectedRows: Int
    /// The command tag the server sent (`INSERT 0 1`, `CREATE TABLE`, `SELECT 3`).
    public var commandTag: String

    /// A result with the given parts (tests build expected values with it).
    public init(columns: [PostgresColumn], rows: [PostgresRow], affectedRows: Int, commandTag: String) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// The index of the column named `name`, if there is one.
    public func columnIndex(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// A result column: its name and its type's object identifier in the server's catalog (`int8` 20, `text` 25,
/// `bytea` 17, …), kept so that a caller can check what it reads.
public struct PostgresColumn: Sendable, Equatable {
    /// The column's name as the statement labels it.
    public var name: String
    /// The type's object identifier (`pg_type.oid`).
    public var typeOID: UInt32

    /// A column named `name` of type `typeOID`.
    public init(name: String, typeOID: UInt32) {
        self.name = name
        self.typeOID = typeOID
    }
}

extension PostgresResult {
    /// Copies a successful `PGresult` (TUPLES_OK or COMMAND_OK) into Swift values; the caller still owns and
    /// clears it.
    init(copying result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        columns = (0..<columnCount).map { column in
            PostgresColumn(
                name: PQfname(result, Int32(column)).map { String(cString: $0) } ?? "",
                typeOID: UInt32(PQftype(result, Int32(column))))
        }
        rows = (0..<rowCount).map { row in
            PostgresRow(
                values: (0..<columnCount).map { column -> String? in
                    if PQgetisnull(result, Int32(row), Int32(column)) != 0 { return nil }
                    return PQgetvalue(result, Int32(row), Int32(column)).map { String(cString: $0) } ?? ""
                })
        }
        let tuples = PQcmdTuples(result).map { String(cString: $0) } ?? ""
        affectedRows = Int(tuples) ?? 0
        commandTag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
    }
}
