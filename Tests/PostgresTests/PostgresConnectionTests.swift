import PostgresTestSupport
import Testing

@testable import Postgres

/// PostgresConnection against a real PostgreSQL: connecting, statements and their row counts, parameters, errors.
///
/// One throwaway server for the whole suite (`.postgresServer`), tests one after another (`.serialized`), each on
/// its own tables. Skipped when the server binaries are not installed (`scripts/install-deps.sh test` installs
/// them); when they are installed but the server does not start, the suite fails with the server's log.
@Suite(
    .serialized,
    .enabled(
        if: TestPostgresServer.isAvailable,
        "no PostgreSQL server binaries (initdb, pg_ctl; as root also runuser and a postgres user): install postgresql"),
    .postgresServer)
struct PostgresServerTests {
    func connect() throws -> PostgresConnection {
        try PostgresConnection(connectingTo: TestPostgresServer.required().url)
    }

    @Test func connectsByURLOverTCP() throws {
        let connection = try connect()
        let result = try connection.execute("SELECT $1::int + 1 AS answer", parameters: [.int(41)])
        #expect(result.columns == [PostgresColumn(name: "answer", typeOID: 23)])
        #expect(try result.rows.first?.int(at: 0) == 42)
        #expect(result.commandTag == "SELECT 1")
        #expect(connection.serverVersion >= 150_000)
        #expect(!connection.isConnectionBad)
        #expect(connection.transactionStatus == .idle)
        connection.close()
        #expect(connection.isClosed)
        #expect(connection.isConnectionBad)
        #expect(throws: PostgresError.self) { try connection.execute("SELECT 1") }
    }

    @Test func connectsByKeywordValueOverTheUnixSocket() throws {
        let server = try TestPostgresServer.required()
        let connection = try PostgresConnection(connectingTo: server.keywordValue)
        let result = try connection.execute("SELECT current_user, current_database(), inet_server_addr() IS NULL")
        #expect(result.rows == [PostgresRow(values: ["fleetwire", "postgres", "t"])])
    }

    @Test func insertOnConflictDoNothingCountsADuplicateAsZeroRows() throws {
        let connection = try connect()
        try connection.execute(
            "CREATE TABLE batches (device_id text, seq bigint, body bytea NOT NULL, PRIMARY KEY (device_id, seq))")
        let insert = "INSERT INTO batches (device_id, seq, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        let first = try connection.execute(insert, parameters: [.text("dev-1"), .int(7), .bytes([1, 2, 3])])
        #expect(first.affectedRows == 1)
        #expect(first.commandTag == "INSERT 0 1")
        let retry = try connection.execute(insert, parameters: [.text("dev-1"), .int(7), .bytes([9, 9])])
        #expect(retry.affectedRows == 0)
        #expect(retry.commandTag == "INSERT 0 0")
        // First write wins: the stored body is the first one.
        let stored = try connection.execute(
            "SELECT body FROM batches WHERE device_id = $1", parameters: [.text("dev-1")])
        #expect(try stored.rows.map { try $0.bytes(at: 0) } == [[1, 2, 3]])
    }

    @Test func parametersRoundTripIncludingNullAndEveryByte() throws {
        let connection = try connect()
        try connection.execute(
            "CREATE TABLE round_trip (id int PRIMARY KEY, t text, b bytea, i bigint, d double precision, f boolean)")
        let everyByte = (0...255).map(UInt8.init) + [0, 0]
        let rows: [[PostgresValue?]] = [
            [.int(1), .text("héllo 'quoted' \\ \"x\" 🛰"), .bytes(everyByte), .int(.min), .double(0.1), .bool(true)],
            [.int(2), .text(""), .bytes([]), .int(.max), .double(-1e300), .bool(false)],
            [.int(3), nil, nil, nil, nil, nil],
            [.int(4), .text("nan"), .bytes([0]), .int(0), .double(.infinity), nil],
        ]
        for row in rows {
            let insert = try connection.execute(
                "INSERT INTO round_trip VALUES ($1, $2, $3, $4, $5, $6)", parameters: row)
            #expect(insert.affectedRows == 1)
        }
        let result = try connection.execute("SELECT t, b, i, d, f FROM round_trip ORDER BY id")
        #expect(result.rows.count == 4)
        let first = result.rows[0]
        #expect(first.string(at: 0) == "héllo 'quoted' \\ \"x\" 🛰")
        #expect(try first.bytes(at: 1) == everyByte)
        #expect(try first.int(at: 2) == .min)
        #expect(try first.double(at: 3) == 0.1)
        #expect(try first.bool(at: 4) == true)
        let second = result.rows[1]
        #expect(second.string(at: 0) == "")
        #expect(try second.bytes(at: 1) == [])
        #expect(try second.int(at: 2) == .max)
        #expect(try second.double(at: 3) == -1e300)
        #expect(try second.bool(at: 4) == false)
        #expect(result.rows[2].values == [nil, nil, nil, nil, nil])
        #expect(try result.rows[2].bytes(at: 1) == nil)
        #expect(try result.rows[3].double(at: 3) == .infinity)
        // A NULL parameter compared: NULL, not a match.
        let isNull = try connection.execute("SELECT $1::text IS NULL", parameters: [nil])
        #expect(try isNull.rows[0].bool(at: 0) == true)
    }

    @Test func aSyntaxErrorCarriesSQLState42601AndTheServersMessage() throws {
        let connection = try connect()
        #expect {
            try connection.execute("SELEC 1")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.sqlState == "42601" && error.message == "syntax error at or near \"SELEC\""
                && error.call == "PQexecParams" && !error.isConnectionBad
        }
        // The connection is still usable.
        #expect(try connection.execute("SELECT 1").rows.count == 1)
    }

    @Test func aFailedTransactionIsVisibleUntilRollback() throws {
        let connection = try connect()
        try connection.execute("CREATE TABLE once (id int PRIMARY KEY)")
        try connection.execute("BEGIN")
        #expect(connection.transactionStatus == .inTransaction)
        try connection.execute("INSERT INTO once VALUES (1)")
        let duplicate = #expect(throws: PostgresError.self) { try connection.execute("INSERT INTO once VALUES (1)") }
        #expect(duplicate?.isUniqueViolation == true)
        #expect(duplicate?.detail == "Key (id)=(1) already exists.")
        #expect(connection.transactionStatus == .inFailedTransaction)
        try connection.execute("ROLLBACK")
        #expect(connection.transactionStatus == .idle)
        #expect(try connection.execute("SELECT count(*) FROM once").rows[0].int(at: 0) == 0)
    }

    @Test func aWrongPortIsAClearConnectErrorWithoutThePassword() throws {
        let port = try TestPostgresServer.freePort()
        let password = "hunter2-Secret"
        for target in [
            "postgresql://fleetwire:\(password)@127.0.0.1:\(port)/postgres",
            "host=127.0.0.1 port=\(port) user=fleetwire password='\(password)' dbname=postgres",
        ] {
            let error = #expect(throws: PostgresError.self) {
                try PostgresConnection(connectingTo: target, connectTimeoutSeconds: 2)
            }
            guard let error else { continue }
            #expect(error.call == "PQconnectdbParams")
            #expect(error.isConnectionBad)
            #expect(error.message.contains("Connection refused"))
            #expect(error.target?.contains("127.0.0.1") == true)
            #expect(error.target?.contains("***") == true)
            #expect(!error.description.contains(password))
            #expect(!"\(error)".contains(password))
        }
    }

    @Test func aLostConnectionIsMarkedBadAndComesBackWithReconnect() throws {
        let connection = try connect()
        let lost = #expect(throws: PostgresError.self) {
            try connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        }
        #expect(lost?.isConnectionBad == true)
        #expect(connection.isConnectionBad)
        try connection.reconnect()
        #expect(!connection.isConnectionBad)
        #expect(try connection.execute("SELECT 2").rows[0].int(at: 0) == 2)
    }

    @Test func textWithANulByteIsRefusedBeforeSending() throws {
        let connection = try connect()
        let error = #expect(throws: PostgresError.self) {
            try connection.execute("SELECT $1::text", parameters: [.text("a\u{0}b")])
        }
        #expect(error?.call == "parameter")
        #expect(try connection.execute("SELECT 1").rows.count == 1)
    }

    @Test func aCopyIsRefusedAndTheConnectionStaysUsable() throws {
        let connection = try connect()
        #expect(throws: PostgresError.self) { try connection.execute("COPY (SELECT 1) TO STDOUT") }
        try connection.execute("CREATE TABLE copied (id int)")
        #expect(throws: PostgresError.self) { try connection.execute("COPY copied FROM STDIN") }
        #expect(connection.transactionStatus == .idle)
        #expect(try connection.execute("SELECT count(*) FROM copied").rows[0].int(at: 0) == 0)
    }

    @Test func rollBackIfInTransactionEndsAnOpenOrAbortedTransactionAndLeavesAnIdleOneAlone() throws {
        let connection = try connect()
        connection.rollBackIfInTransaction()  // idle: nothing sent
        #expect(connection.transactionStatus == .idle)
        _ = try connection.execute("CREATE TEMP TABLE rolled (n int)")
        _ = try connection.execute("BEGIN")
        _ = try connection.execute("INSERT INTO rolled VALUES (1)")
        #expect(connection.transactionStatus == .inTransaction)
        connection.rollBackIfInTransaction()
        #expect(connection.transactionStatus == .idle)
        _ = try connection.execute("BEGIN")
        #expect(throws: PostgresError.self) { try connection.execute("SELECT no_such_column FROM rolled") }
        #expect(connection.transactionStatus == .inFailedTransaction)
        connection.rollBackIfInTransaction()
        #expect(connection.transactionStatus == .idle)
        #expect(try connection.execute("SELECT count(*) FROM rolled").rows[0].int(at: 0) == 0)
        connection.close()
        connection.rollBackIfInTransaction()  // closed: nothing to do, no trap
    }
}
