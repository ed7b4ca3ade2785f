import Testing

@testable import Postgres

/// Pipeline mode on the suite's server: several statements, one sync, every result read in order.
extension PostgresServerTests {
    @Test func threeStatementsOneSyncAllResultsRead() throws {
        let connection = try connect()
        try connection.execute("CREATE TABLE piped (device_id text, seq bigint, PRIMARY KEY (device_id, seq))")
        let insert = "INSERT INTO piped VALUES ($1, $2) ON CONFLICT DO NOTHING"
        let outcomes = try connection.executePipeline([
            PostgresStatement(insert, parameters: [.text("d"), .int(1)]),
            PostgresStatement(insert, parameters: [.text("d"), .int(1)]),
            PostgresStatement("SELECT count(*) FROM piped"),
        ])
        let results = try outcomes.map { try $0.get() }
        #expect(results.map(\.affectedRows) == [1, 0, 1])
        #expect(try results[2].rows[0].int(at: 0) == 1)
        // Out of pipeline mode again: a plain statement works.
        #expect(try connection.execute("SELECT 1").rows.count == 1)
    }

    @Test func aFailedStatementAbortsTheRestAndRollsBackTheImplicitTransaction() throws {
        let connection = try connect()
        try connection.execute("CREATE TABLE piped_abort (id int PRIMARY KEY)")
        let outcomes = try connection.executePipeline([
            PostgresStatement("INSERT INTO piped_abort VALUES ($1)", parameters: [.int(1)]),
            PostgresStatement("SELEC 2"),
            PostgresStatement("INSERT INTO piped_abort VALUES ($1)", parameters: [.int(3)]),
        ])
        #expect(outcomes.count == 3)
        #expect((try? outcomes[0].get())?.affectedRows == 1)
        guard case .failure(let syntax) = outcomes[1], case .failure(let aborted) = outcomes[2] else {
            Issue.record("expected the second and third statements to fail: \(outcomes)")
            return
        }
        #expect(syntax.sqlState == "42601")
        #expect(aborted.sqlState == nil)
        #expect(aborted.message.contains("not run"))
        #expect(connection.transactionStatus == .idle)
        #expect(try connection.execute("SELECT count(*) FROM piped_abort").rows[0].int(at: 0) == 0)
    }

    @Test func anEmptyPipelineSendsNothing() throws {
        let connection = try connect()
        #expect(try connection.executePipeline([]).isEmpty)
    }
}

extension PostgresServerTests {
    @Test func aConnectionLostMidPipelineThrowsAndReconnectsOutOfPipelineMode() throws {
        let connection = try connect()
        let lost = #expect(throws: PostgresError.self) {
            try connection.executePipeline([
                PostgresStatement("SELECT 1"),
                PostgresStatement("SELECT pg_terminate_backend(pg_backend_pid())"),
                PostgresStatement("SELECT 3"),
            ])
        }
        #expect(lost?.isConnectionBad == true)
        try connection.reconnect()
        #expect(try connection.execute("SELECT 4").rows[0].int(at: 0) == 4)
        let outcomes = try connection.executePipeline([PostgresStatement("SELECT 5")])
        #expect(try outcomes.map { try $0.get().rows[0].int(at: 0) } == [5])
    }
}
