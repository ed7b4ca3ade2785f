import Chunks
import Postgres
import Storage

// The queries of the PostgreSQL backend, one connection at a time (PostgresReadPool lends them).
//
// Rules: every query method runs in one read-only REPEATABLE READ transaction, so all its statements see one
// snapshot even while other collectors commit (a readings page's chunk fetches, a device's series and chunks). The
// BEGIN travels in one pipeline with the method's first statement, and a method of a single statement sends BEGIN,
// the statement and COMMIT in one round trip. Text comparisons that decide an order or a prefix use the "C"
// collation: byte order, as SQLite's BINARY, whatever the database's default collation. The semantics of each
// query are those of the SQLite backend's ReadConnection (Sources/Store/ReadConnection+*.swift); PostgreSQL keeps
// no rollups, so series are computed from chunks alone.

/// One connection's queries; each method runs in one read-only transaction.
struct PostgresReader {
    /// The connection, lent by the pool for the reader's lifetime.
    let connection: PostgresConnection

    /// How every read transaction starts.
    static let beginSQL = "BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ"

    /// Runs `body` in one read-only transaction (begun with its first query), committed after it returns and
    /// rolled back when it throws.
    func inReadTransaction<T>(_ body: (inout Transaction) throws(StoreError) -> T) throws(StoreError) -> T {
        var transaction = Transaction(connection: connection)
        do {
            let result = try body(&transaction)
            try transaction.commit()
            return result
        } catch {
            transaction.rollBack()
            throw error
        }
    }

    /// Runs one statement in a read-only transaction of its own: BEGIN, the statement and COMMIT in one round trip.
    /// When the statement fails the server skips the COMMIT, so the failed transaction is rolled back here.
    func readAlone(
        _ sql: String, _ parameters: [PostgresValue?] = [], operation: String
    ) throws(StoreError) -> [Row] {
        let statements = [
            PostgresStatement(Self.beginSQL), PostgresStatement(sql, parameters: parameters),
            PostgresStatement("COMMIT"),
        ]
        do {
            let results = try Transaction.run(statements, on: connection, operation: operation)
            return results[1].rows.map { Row(row: $0, operation: operation) }
        } catch {
            Transaction(connection: connection).rollBack()
            throw error
        }
    }

    /// The readings of a stored chunk, or a `.postgres` error (SQLSTATE XX001, data corrupted) naming the series
    /// and the chunk: what every reader of `chunks` in this backend throws for a damaged blob.
    static func decodeChunk(
        _ blob: [UInt8], seriesID: Int64, startTs: Int64, operation: String
    ) throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        do throws(ChunkDecodeError) {
            return try ChunkCodec.decode(blob)
        } catch {
            throw .postgres(
                sqlState: "XX001", operation: operation,
                message: "series \(seriesID) chunk at \(startTs): \(error.description)")
        }
    }
}

extension PostgresReader {
    /// A read transaction in progress: BEGIN is sent with the first query.
    struct Transaction {
        let connection: PostgresConnection
        private(set) var isBegun = false

        init(connection: PostgresConnection) {
            self.connection = connection
        }

        /// The rows of one statement, inside the transaction.
        mutating func query(
            _ sql: String, _ parameters: [PostgresValue?] = [], operation: String
        ) throws(StoreError) -> [Row] {
            let result: PostgresResult
            if isBegun {
                do {
                    result = try connection.execute(sql, parameters: parameters)
                } catch {
                    throw StoreError(error, operation: operation)
                }
            } else {
                let results = try Self.run(
                    [PostgresStatement(PostgresReader.beginSQL), PostgresStatement(sql, parameters: parameters)],
                    on: connection, operation: operation)
                isBegun = true
                result = results[1]
            }
            return result.rows.map { Row(row: $0, operation: operation) }
        }

        /// Ends the transaction (nothing to do when no query was sent).
        mutating func commit() throws(StoreError) {
            guard isBegun else { return }
            isBegun = false
            do {
                try connection.execute("COMMIT")
            } catch {
                throw StoreError(error, operation: "end read transaction")
            }
        }

        /// Ends a failed transaction if one is open; a connection that cannot is dropped by the pool.
        func rollBack() {
            connection.rollBackIfInTransaction()
        }

        /// Runs a pipeline and returns every statement's result, or the first failure as a store error.
        static func run(
            _ statements: [PostgresStatement], on connection: PostgresConnection, operation: String
        ) throws(StoreError) -> [PostgresResult] {
            let outcomes: [Result<PostgresResult, PostgresError>]
            do {
                outcomes = try connection.executePipeline(statements)
            } catch {
                throw StoreError(error, operation: operation)
            }
            var results: [PostgresResult] = []
            results.reserveCapacity(outcomes.count)
            for outcome in outcomes {
                switch outcome {
                case .success(let result): results.append(result)
                case .failure(let error): throw StoreError(error, operation: operation)
                }
            }
            return results
        }
    }

    /// A result row read for one operation: its readers throw store errors naming it.
    struct Row {
        let row: PostgresRow
        let operation: String

        /// Column `index` as an integer (not NULL).
        func int(_ index: Int) throws(StoreError) -> Int64 {
            guard let value = try optionalInt(index) else { throw nullError(index) }
            return value
        }

        /// Column `index` as an integer, nil for NULL.
        func optionalInt(_ index: Int) throws(StoreError) -> Int64? {
            do {
                return try row.int(at: index)
            } catch {
                throw StoreError(error, operation: operation)
            }
        }

        /// Column `index` as a number (not NULL).
        func double(_ index: Int) throws(StoreError) -> Double {
            guard let value = try optionalDouble(index) else { throw nullError(index) }
            return value
        }

        /// Column `index` as a number, nil for NULL.
        func optionalDouble(_ index: Int) throws(StoreError) -> Double? {
            do {
                return try row.double(at: index)
            } catch {
                throw StoreError(error, operation: operation)
            }
        }

        /// Column `index` as text (not NULL).
        func text(_ index: Int) throws(StoreError) -> String {
            guard let value = row.string(at: index) else { throw nullError(index) }
            return value
        }

        /// Column `index` as the bytes of a `bytea`, nil for NULL.
        func optionalBytes(_ index: Int) throws(StoreError) -> [UInt8]? {
            do {
                return try row.bytes(at: index)
            } catch {
                throw StoreError(error, operation: operation)
            }
        }

        /// Column `index` as a counter amount: a whole number (a `sum` of bigints is `numeric`, so it may exceed
        /// Int64), clamped to UInt64's range.
        func clampedAmount(_ index: Int) throws(StoreError) -> UInt64 {
            let text = try text(index)
            if let value = UInt64(text) { return value }
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                throw .postgres(
                    sqlState: "XX000", operation: operation, message: "column \(index) is \"\(text)\", not an amount")
            }
            return text.hasPrefix("-") ? 0 : .max
        }

        private func nullError(_ index: Int) -> StoreError {
            .postgres(sqlState: "XX000", operation: operation, message: "column \(index) is NULL")
        }
    }
}
