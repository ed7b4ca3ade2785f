internal import CPostgres

// Several statements for one network round trip, through libpq's pipeline mode (libpq 14+).
//
// The exchange: enter pipeline mode; queue every statement with PQsendQueryParams (libpq buffers them); one
// PQpipelineSync flushes the buffer and marks the end; then read, for each statement in order, its results until
// PQgetResult returns NULL, and finally the PGRES_PIPELINE_SYNC result; leave pipeline mode. The server runs the
// statements in order; after the first one that fails it skips the rest up to the sync (each reported as
// PGRES_PIPELINE_ABORTED), and it treats the statements between syncs as one implicit transaction unless they
// open their own with BEGIN.
//
// The connection stays blocking, so everything is sent before anything is read. libpq's manual warns that this can
// deadlock when the server's replies fill both sockets' buffers before the client reads: it is meant for statements
// with small replies (INSERTs, UPDATEs and their command tags, a few rows), which is what a group commit sends.

/// One statement of a pipeline: SQL with `$n` placeholders and its parameters (`nil` is NULL).
///
/// It exists so that a pipeline is a plain array of values, built before the connection is touched.
public struct PostgresStatement: Sendable, Equatable {
    /// The SQL text (one statement).
    public var sql: String
    /// The values of `$1`, `$2`, …
    public var parameters: [PostgresValue?]

    /// A statement of `sql` with `parameters`.
    public init(_ sql: String, parameters: [PostgresValue?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension PostgresConnection {
    /// Runs `statements` in order for one network round trip and returns each one's outcome, in order.
    ///
    /// A statement that fails gives its `PostgresError`; the statements after it up to the end were not run and give
    /// an error saying so (call `PQgetResult`, no SQLSTATE). Without an explicit BEGIN the statements form one
    /// implicit transaction, committed at the end unless one failed.
    /// - Throws: `PostgresError` when the exchange itself fails (a parameter refused before anything is sent, a
    ///   lost connection: then `isConnectionBad` is set and the connection must be reconnected).
    public func executePipeline(
        _ statements: [PostgresStatement]
    ) throws(PostgresError) -> [Result<PostgresResult, PostgresError>] {
        let handle = try openHandle(for: "PQenterPipelineMode")
        guard !statements.isEmpty else { return [] }
        var wireStatements: [PostgresWireParameters] = []
        wireStatements.reserveCapacity(statements.count)
        for statement in statements { wireStatements.append(try PostgresWireParameters(statement.parameters)) }

        guard PQenterPipelineMode(handle) == 1 else { throw connectionError(call: "PQenterPipelineMode") }
        defer {
            // Fails (and changes nothing) only if results are still pending, i.e. after a lost connection.
            if PQpipelineStatus(handle) != PQ_PIPELINE_OFF { _ = PQexitPipelineMode(handle) }
        }
        for (statement, wire) in zip(statements, wireStatements) {
            let isSent = wire.withArrays { count, types, values, lengths, formats in
                PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0) == 1
            }
            guard isSent else { throw connectionError(call: "PQsendQueryParams") }
        }
        guard PQpipelineSync(handle) == 1 else { throw connectionError(call: "PQpipelineSync") }

        var outcomes: [Result<PostgresResult, PostgresError>] = []
        outcomes.reserveCapacity(statements.count)
        for _ in statements {
            var outcome: Result<PostgresResult, PostgresError>?
            // One statement's results end with NULL; a statement gives one result (no COPY in a pipeline).
            while let result = PQgetResult(handle) {
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_PIPELINE_ABORTED:
                    outcome = .failure(
                        PostgresError(
                            call: "PQgetResult", message: "not run: an earlier statement of the pipeline failed",
                            target: target))
                case PGRES_PIPELINE_SYNC:
                    throw PostgresError(
                        call: "PQgetResult", message: "the pipeline ended before every statement's result",
                        target: target, isConnectionBad: isConnectionBad)
                default:
                    do throws(PostgresError) {
                        outcome = .success(try self.outcome(of: result, call: "PQgetResult"))
                    } catch {
                        outcome = .failure(error)
                    }
                }
            }
            guard let outcome else { throw connectionError(call: "PQgetResult") }
            if case .failure(let error) = outcome, error.isConnectionBad { throw error }
            outcomes.append(outcome)
        }
        guard let sync = PQgetResult(handle) else { throw connectionError(call: "PQgetResult") }
        defer { PQclear(sync) }
        guard PQresultStatus(sync) == PGRES_PIPELINE_SYNC else {
            throw PostgresError(
                call: "PQgetResult", message: "expected the pipeline's sync, got another result", target: target,
                isConnectionBad: isConnectionBad)
        }
        return outcomes
    }
}
