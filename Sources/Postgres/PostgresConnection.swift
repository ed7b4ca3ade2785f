internal import CPostgres

// One blocking libpq connection, used by one thread at a time (the storage backend's writer thread).
//
// Rules this file keeps:
// - Every PGresult is copied into Swift values and cleared before the call returns; no libpq pointer leaves the
//   module, and the PGconn is finished exactly once (close or deinit).
// - Statements use the extended protocol (PQexecParams): parameters travel apart from the SQL text, so no value is
//   ever spliced into SQL. `bytea` parameters are binary; results are text.
// - An error never carries the password: messages are scrubbed of the password libpq used (PQpass) and name the
//   target through PostgresURL.redact.
// - A failure leaves the connection either usable (a statement error: the server rolled the statement back) or
//   marked bad (`isConnectionBad`); the caller reconnects with `reconnect()` or a new connection.

/// A blocking connection to one PostgreSQL server through libpq.
///
/// It exists so that the PostgreSQL storage backend speaks Swift values (`PostgresValue`, `PostgresResult`,
/// `PostgresError`) and never a libpq pointer. It is not `Sendable`: one thread owns it, as the writer thread owns
/// its SQLite connection.
public final class PostgresConnection {
    /// libpq's connection object; nil once closed.
    var handle: OpaquePointer?
    /// The connection text with its password hidden: what errors and logs name.
    public let target: String

    /// The connect timeout used when the connection text does not set `connect_timeout` (seconds, per host).
    public static let defaultConnectTimeoutSeconds = 10

    /// Connects (blocking) to the server `connectionText` names: a `postgresql://` URL, a keyword/value string, or
    /// empty for libpq's defaults (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `~/.pgpass`, …).
    ///
    /// `connectTimeoutSeconds` applies when the text has no `connect_timeout` of its own (libpq waits at least 2 s);
    /// `application_name` defaults to `fleetwire`.
    /// - Throws: `PostgresError` (call `PQconnectdbParams`) with libpq's reason and the redacted target.
    public init(
        connectingTo connectionText: String,
        connectTimeoutSeconds: Int = PostgresConnection.defaultConnectTimeoutSeconds
    ) throws(PostgresError) {
        target = PostgresURL.redact(connectionText)
        // Array order decides precedence (libpq: "later entries override earlier ones", and an expanded dbname's
        // fields sit at its place): our defaults come first, so the text's own settings win.
        let keywords = ["connect_timeout", "fallback_application_name", "dbname"]
        let values = [String(connectTimeoutSeconds), "fleetwire", connectionText]
        let connection = withCStringArrays(keywords, values) { keywordPointers, valuePointers in
            PQconnectdbParams(keywordPointers, valuePointers, 1)
        }
        guard let connection else {
            throw PostgresError(call: "PQconnectdbParams", message: "out of memory", target: target)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let error = PostgresError(
                call: "PQconnectdbParams",
                message: PostgresError.scrubbed(
                    String(cString: PQerrorMessage(connection)), hiding: Self.secrets(of: connection)),
                target: target, isConnectionBad: true)
            PQfinish(connection)
            throw error
        }
        handle = connection
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Closes the connection (idempotent). Later calls throw a `PostgresError` that says so.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { handle == nil }

    /// Whether the connection is unusable (closed, or lost: libpq's `CONNECTION_BAD`). A lost connection comes back
    /// with `reconnect()`.
    public var isConnectionBad: Bool {
        guard let handle else { return true }
        return PQstatus(handle) != CONNECTION_OK
    }

    /// Where the session stands between statements, which tells whether a transaction is still open after an error.
    public var transactionStatus: PostgresTransactionStatus {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// Sends ROLLBACK when a transaction is open (also one a failed statement left aborted); does nothing on an idle,
    /// closed or lost connection. Its own failure is ignored: a connection that cannot roll back is lost, and its
    /// owner replaces it.
    public func rollBackIfInTransaction() {
        switch transactionStatus {
        case .inTransaction, .inFailedTransaction: _ = try? execute("ROLLBACK")
        case .idle, .active, .unknown: break
        }
    }

    /// The server's version as an integer (`150014` for 15.14); 0 when closed.
    public var serverVersion: Int {
        guard let handle else { return 0 }
        return Int(PQserverVersion(handle))
    }

    /// Reconnects with the same parameters (libpq's `PQreset`), blocking; an open transaction is lost.
    /// - Throws: `PostgresError` (call `PQreset`) when the server still cannot be reached.
    public func reconnect() throws(PostgresError) {
        let handle = try openHandle(for: "PQreset")
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else { throw connectionError(call: "PQreset") }
    }

    /// Runs one statement (blocking) with `$1`, `$2`, … bound to `parameters` (`nil` is NULL) and returns its rows
    /// and affected row count.
    ///
    /// One statement per call (the extended protocol refuses several). Outside a transaction it commits on its own.
    /// - Throws: `PostgresError` with the server's SQLSTATE and message (call `PQexecParams`); after a lost
    ///   connection, with `isConnectionBad` set.
    @discardableResult
    public func execute(_ sql: String, parameters: [PostgresValue?] = []) throws(PostgresError) -> PostgresResult {
        let handle = try openHandle(for: "PQexecParams")
        let wire = try PostgresWireParameters(parameters)
        let result = wire.withArrays { count, types, values, lengths, formats in
            PQexecParams(handle, sql, count, types, values, lengths, formats, 0)
        }
        guard let result else { throw connectionError(call: "PQexecParams") }
        defer { PQclear(result) }
        return try outcome(of: result, call: "PQexecParams")
    }

    // MARK: - Shared with the pipeline

    /// The open handle, or the error a closed connection gives.
    func openHandle(for call: String) throws(PostgresError) -> OpaquePointer {
        guard let handle else {
            throw PostgresError(call: call, message: "the connection is closed", target: target, isConnectionBad: true)
        }
        return handle
    }

    /// A successful result's values, or its error; a COPY the caller did not ask for is ended so that the
    /// connection stays usable.
    func outcome(of result: OpaquePointer, call: String) throws(PostgresError) -> PostgresResult {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return PostgresResult(copying: result)
        case PGRES_EMPTY_QUERY:
            return PostgresResult(columns: [], rows: [], affectedRows: 0, commandTag: "")
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy()
            throw PostgresError(call: call, message: "COPY is not supported by this wrapper", target: target)
        default:
            throw statementError(from: result, call: call)
        }
    }

    /// The error a failed result describes: the server's fields when it sent them, libpq's text otherwise.
    func statementError(from result: OpaquePointer, call: String) -> PostgresError {
        let secrets = handle.map(Self.secrets(of:)) ?? []
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { PostgresError.scrubbed(String(cString: $0), hiding: secrets) }
        }
        // PG_DIAG_SQLSTATE 'C', PG_DIAG_MESSAGE_PRIMARY 'M', PG_DIAG_MESSAGE_DETAIL 'D', PG_DIAG_MESSAGE_HINT 'H'
        // (postgres_ext.h spells them as character-literal macros).
        var message = field(UInt8(ascii: "M"))
        if message == nil || message?.isEmpty == true {
            message = PostgresError.scrubbed(String(cString: PQresultErrorMessage(result)), hiding: secrets)
        }
        if message?.isEmpty != false, let handle {
            message = PostgresError.scrubbed(String(cString: PQerrorMessage(handle)), hiding: secrets)
        }
        return PostgresError(
            call: call, sqlState: field(UInt8(ascii: "C")), message: message ?? "unknown error",
            detail: field(UInt8(ascii: "D")), hint: field(UInt8(ascii: "H")), target: target,
            isConnectionBad: isConnectionBad)
    }

    /// The error of a call that returned no result, from libpq's connection-level message.
    func connectionError(call: String) -> PostgresError {
        guard let handle else {
            return PostgresError(call: call, message: "the connection is closed", target: target, isConnectionBad: true)
        }
        let message = PostgresError.scrubbed(String(cString: PQerrorMessage(handle)), hiding: Self.secrets(of: handle))
        return PostgresError(
            call: call, message: message.isEmpty ? "no result" : message, target: target,
            isConnectionBad: isConnectionBad)
    }

    /// What a message must never show: the password libpq used (from the text, PGPASSWORD or ~/.pgpass).
    static func secrets(of handle: OpaquePointer) -> [String] {
        guard let password = PQpass(handle) else { return [] }
        let text = String(cString: password)
        return text.isEmpty ? [] : [text]
    }

    /// Ends a COPY started by a statement: refuses a COPY FROM STDIN, drains a COPY TO STDOUT, then reads the
    /// results that follow, so the connection is idle again.
    private func abandonCopy() {
        guard let handle else { return }
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_COPY_IN {
                _ = PQputCopyEnd(handle, "COPY is not supported by this wrapper")
            } else if status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(handle, &buffer, 0) > 0 {
                    PQfreemem(buffer)
                    buffer = nil
                }
            }
        }
    }
}

/// Where a session stands between statements (libpq's `PQtransactionStatus`).
///
/// It exists so that a writer can tell, after an error, whether it must still send ROLLBACK.
public enum PostgresTransactionStatus: Sendable, Equatable {
    /// No transaction is open.
    case idle
    /// A statement is running (never seen between blocking calls).
    case active
    /// A transaction is open and healthy.
    case inTransaction
    /// A transaction is open and failed: only ROLLBACK is accepted.
    case inFailedTransaction
    /// The connection is closed or bad.
    case unknown
}
