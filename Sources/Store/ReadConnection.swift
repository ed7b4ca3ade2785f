import Storage

/// One read-only connection with its cache of prepared query statements; used by one query at a time.
final class ReadConnection {
    /// The read-only connection.
    let database: Database
    private var statements: [String: Statement] = [:]

    /// Wraps a read-only connection.
    init(database: Database) {
        self.database = database
    }

    /// The prepared statement for `sql`, compiled on first use and reused after. Callers reset it when done.
    func statement(_ sql: String, operation: String) throws(StoreError) -> Statement {
        if let statement = statements[sql] { return statement }
        let statement = try database.prepare(sql, operation: operation)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` in one read transaction, so a query made of several statements sees one snapshot.
    func inReadTransaction<Result>(_ body: () throws(StoreError) -> Result) throws(StoreError) -> Result {
        let begin = try statement("BEGIN", operation: "begin read transaction")
        try begin.run()
        defer {
            if database.isInTransaction {
                try? statement("COMMIT", operation: "end read transaction").run()
            }
        }
        return try body()
    }

    /// Runs `statement` (already bound) and calls `row` for each result row; always resets it.
    func forEachRow(_ statement: Statement, _ row: (Statement) throws(StoreError) -> Void) throws(StoreError) {
        defer { statement.reset() }
        while try statement.step() {
            try row(statement)
        }
    }

    /// The id of device `name`, or nil when the store has never stored a batch of it.
    func deviceRowID(_ name: String) throws(StoreError) -> Int64? {
        let select = try statement("SELECT id FROM devices WHERE name = ?1", operation: "look up device")
        try select.bind(name, at: 1)
        var id: Int64?
        try forEachRow(select) { row in id = row.int64(at: 0) }
        return id
    }

    /// A device's series, sorted by sensor name (optionally only `sensor`).
    func seriesOf(deviceRowID: Int64, sensor: String? = nil) throws(StoreError) -> [SeriesInfo] {
        let select: Statement
        if let sensor {
            select = try statement(
                "SELECT id, sensor, exponent, readings FROM series WHERE device_id = ?1 AND sensor = ?2",
                operation: "look up series")
            try select.bind(sensor, at: 2)
        } else {
            select = try statement(
                "SELECT id, sensor, exponent, readings FROM series WHERE device_id = ?1 ORDER BY sensor",
                operation: "list series")
        }
        select.bind(deviceRowID, at: 1)
        var result: [SeriesInfo] = []
        try forEachRow(select) { row in
            result.append(
                SeriesInfo(
                    id: row.int64(at: 0), sensor: row.text(at: 1),
                    exponent: row.optionalInt64(at: 2).map { Int32(truncatingIfNeeded: $0) },
                    readings: row.int64(at: 3)))
        }
        return result
    }
}

/// A row of the `series` table, as queries use it.
struct SeriesInfo {
    /// Row id, the key of its readings.
    var id: Int64
    /// Sensor name.
    var sensor: String
    /// Declared exponent, if any.
    var exponent: Int32?
    /// Readings stored for the series.
    var readings: Int64
}
