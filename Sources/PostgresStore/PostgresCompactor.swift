import Chunks
import Clocks
import Postgres
import Storage

// Compaction on PostgreSQL: merging a series' small chunks (one per batch, as writers store them) into chunks of up
// to `ChunkPolicy.standard` (an hour or 3,600 readings).
//
// When: `CompactionSchedule` (Chunks), the rule both backends keep; which runs of a series are merged, and where
// a long run resumes: `ChunkCompaction` (Chunks).
//
// How: a step is one short transaction on the writer's connection, between group commits, taking ready series
// until ~3 ms have passed or 20,000 readings were rewritten (no bound with `compactAll`). For each series it first
// takes the series row's lock, the lock every writer of every collector takes before it touches the series'
// chunks, so nothing changes the chunks between the read of their headers and their replacement. The lock is
// taken with SKIP LOCKED: a series another collector is writing right now is left for a later step instead of
// holding this writer (and its pending group commit) behind the other one, and no lock wait can take part in a
// deadlock. Then, as in SQLite: read the headers (not the blobs) from the first possibly small chunk on, find runs
// of two or more adjacent small chunks, and replace each complete run (at most about one full chunk's worth per
// series per pass; the next pass resumes at the first chunk not read) by chunks cut by the policy. Chunks never
// overlap, so a run's readings are already sorted and distinct and every reading keeps its value. A run the policy
// would cut exactly as it is stored (chunks ended by the span bound are "small" by the count and span test) is
// left as it is: nothing is written. A failed step rolls back whole (old chunks stay) and the compactor's memory
// goes back to what it was before the step, so the same work is tried again later.

/// Merges a series' small chunks into chunks of up to ChunkPolicy.standard, in short transactions on the writer's
/// connection between group commits. Owned by the writer thread.
struct PostgresCompactor {
    /// Which series hold small chunks and which are ready (CompactionSchedule.swift).
    private(set) var schedule: CompactionSchedule
    /// Readings one step rewrites at most (unless `compactAll`).
    let maxReadingsPerStep = 20_000
    /// Time after which a step takes no further series (one series always completes; unless `compactAll`).
    let stepBudgetNs: UInt64 = 3_000_000

    /// A compactor cutting by `policy` that merges an idle series' chunks after `idleMs` without writes.
    init(policy: ChunkPolicy = .standard, idleMs: Int64) {
        schedule = CompactionSchedule(policy: policy, idleMs: idleMs)
    }

    /// The cut compaction writes.
    var policy: ChunkPolicy { schedule.policy }

    /// Records a chunk the writer stored (after its transaction committed); `isInPast` when it was merged into or
    /// between older chunks.
    mutating func noteWrite(seriesID: Int64, startTs: Int64, endTs: Int64, count: Int64, isInPast: Bool, nowNs: UInt64)
    {
        schedule.noteWrite(
            seriesID: seriesID, startTs: startTs, endTs: endTs, count: count, isInPast: isInPast, nowNs: nowNs)
    }

    /// Marks a series as possibly holding small chunks from `fromTs` on: after a restart, when the memory of what
    /// was written is gone (they are compacted once idle, or once they fill).
    mutating func noteUnknown(seriesID: Int64, fromTs: Int64, nowNs: UInt64) {
        schedule.noteUnknown(seriesID: seriesID, fromTs: fromTs, nowNs: nowNs)
    }

    /// True when a step would find work now.
    mutating func hasReadyWork(nowNs: UInt64) -> Bool {
        schedule.hasReadyWork(nowNs: nowNs)
    }

    /// One step: BEGIN; for ready series (all noted series when `compactAll`): lock the series row, read the chunk
    /// headers, merge runs of ≥ 2 adjacent small chunks; COMMIT. Returns the chunks merged away and written. Does
    /// not touch the connection when nothing is ready. On error: ROLLBACK, the compactor's memory is restored, and
    /// the error is thrown (nothing acknowledged changes).
    mutating func step(
        on connection: PostgresConnection, nowNs: UInt64, compactAll: Bool
    ) throws(StoreError) -> (chunksMerged: UInt64, chunksWritten: UInt64) {
        if compactAll { schedule.makeEverythingReady() } else { schedule.promoteIdle(nowNs: nowNs) }
        guard !schedule.ready.isEmpty else { return (0, 0) }
        let saved = schedule
        let startNs = MonotonicClock.nowNs()
        var merged: UInt64 = 0
        var written: UInt64 = 0
        var readingsRewritten = 0
        var skipped: [Int64] = []
        var session = Session(connection: connection)
        let policy = policy
        do throws(StoreError) {
            while compactAll
                || (readingsRewritten < maxReadingsPerStep && MonotonicClock.nowNs() &- startNs < stepBudgetNs),
                let (id, state) = schedule.takeReady()
            {
                guard let headers = try session.lockAndReadHeaders(seriesID: id, from: state.fromTs) else {
                    skipped.append(id)  // another collector holds the series: a later step
                    continue
                }
                let isIdle = compactAll || schedule.isIdle(state, nowNs: nowNs)
                let outcome = try ChunkCompaction.compact(headers: headers, policy: policy, mergeTail: isIdle) {
                    (part) throws(StoreError) -> [ChunkHeader]? in
                    try session.rewrite(seriesID: id, part, policy: policy)
                }
                merged += UInt64(outcome.chunksRemoved)
                written += UInt64(outcome.chunksWritten)
                readingsRewritten += outcome.readingsRewritten
                schedule.record(outcome, of: id, takenAs: state)
            }
            try session.commit()
        } catch {
            session.rollBack()
            schedule = saved
            throw error
        }
        schedule.requeue(skipped)
        return (merged, written)
    }
}

extension PostgresCompactor {
    /// The compaction transaction on the writer's connection: BEGIN goes with the first series' lock.
    struct Session {
        let connection: PostgresConnection
        private var isBegun = false

        init(connection: PostgresConnection) {
            self.connection = connection
        }

        /// Locks the series row (SKIP LOCKED) and reads its chunk headers from the one holding or preceding `from`
        /// on, in one round trip; nil when another transaction holds the lock.
        mutating func lockAndReadHeaders(seriesID: Int64, from: Int64) throws(StoreError) -> [ChunkHeader]? {
            var statements: [PostgresStatement] = []
            if !isBegun { statements.append(PostgresStatement("BEGIN")) }
            statements.append(
                PostgresStatement(
                    "SELECT 1 FROM series WHERE id = $1 FOR UPDATE SKIP LOCKED", parameters: [.int(seriesID)]))
            statements.append(
                PostgresStatement(
                    """
                    SELECT start_ts, end_ts, count FROM chunks
                    WHERE series_id = $1 AND start_ts >= coalesce(
                        (SELECT m.start_ts FROM chunks m WHERE m.series_id = $1 AND m.start_ts < $2
                         ORDER BY m.start_ts DESC LIMIT 1), $2)
                    ORDER BY start_ts
                    """, parameters: [.int(seriesID), .int(from)]))
            let operation = "read chunk headers"
            let results = try PostgresReader.Transaction.run(statements, on: connection, operation: operation)
            isBegun = true
            // No row locked: another transaction holds it (nil: later), or the series is gone (no chunks: done).
            let lock = results[results.count - 2]
            guard !lock.rows.isEmpty || results[results.count - 1].rows.isEmpty else { return nil }
            var headers: [ChunkHeader] = []
            headers.reserveCapacity(results[results.count - 1].rows.count)
            for row in results[results.count - 1].rows {
                let row = PostgresReader.Row(row: row, operation: operation)
                headers.append(ChunkHeader(startTs: try row.int(0), endTs: try row.int(1), count: try row.int(2)))
            }
            return headers
        }

        /// Replaces the chunks `run` (adjacent: no other chunk lies between them) by chunks cut by `policy`: reads
        /// the run's blobs, then deletes it and inserts the new chunks in one round trip; returns their headers, or
        /// nil (and writes nothing) when the policy cuts the run's readings exactly as they are stored.
        func rewrite(
            seriesID: Int64, _ run: ArraySlice<ChunkHeader>, policy: ChunkPolicy
        ) throws(StoreError) -> [ChunkHeader]? {
            guard let first = run.first, let last = run.last else { return nil }
            let operation = "compact"
            let rows: [PostgresRow]
            do {
                rows = try connection.execute(
                    "SELECT start_ts, data FROM chunks WHERE series_id = $1 AND start_ts BETWEEN $2 AND $3 "
                        + "ORDER BY start_ts",
                    parameters: [.int(seriesID), .int(first.startTs), .int(last.startTs)]
                ).rows
            } catch {
                throw StoreError(error, operation: operation)
            }
            guard rows.count == run.count else {
                throw .postgres(
                    sqlState: "XX001", operation: operation,
                    message:
                        "series \(seriesID): \(run.count) chunks from \(first.startTs) expected, \(rows.count) found")
            }
            var times: [Int64] = []
            var values: [Double] = []
            times.reserveCapacity(Int(run.reduce(0) { $0 + $1.count }))
            values.reserveCapacity(times.capacity)
            for row in rows {
                let row = PostgresReader.Row(row: row, operation: operation)
                let decoded = try PostgresReader.decodeChunk(
                    try row.optionalBytes(1) ?? [], seriesID: seriesID, startTs: try row.int(0), operation: operation)
                times += decoded.timestamps
                values += decoded.values
            }
            let cut = policy.cut(times[...])
            let cutHeaders = cut.map {
                ChunkHeader(startTs: times[$0.lowerBound], endTs: times[$0.upperBound - 1], count: Int64($0.count))
            }
            guard cutHeaders != Array(run) else { return nil }
            var statements = [
                PostgresStatement(
                    "DELETE FROM chunks WHERE series_id = $1 AND start_ts BETWEEN $2 AND $3",
                    parameters: [.int(seriesID), .int(first.startTs), .int(last.startTs)])
            ]
            for range in cut {
                statements.append(Self.insert(PreparedChunk(times[range], values[range]), seriesID: seriesID))
            }
            let results = try PostgresReader.Transaction.run(statements, on: connection, operation: operation)
            guard results[0].affectedRows == run.count else {
                throw .postgres(
                    sqlState: "XX001", operation: operation,
                    message: "series \(seriesID): \(run.count) chunks from \(first.startTs) read, "
                        + "\(results[0].affectedRows) deleted")
            }
            return cutHeaders
        }

        /// The INSERT of one chunk row (a sum that is NaN, +inf plus −inf, is stored as NULL).
        static func insert(_ chunk: PreparedChunk, seriesID: Int64) -> PostgresStatement {
            let summary = chunk.summary
            let sum = summary.sum.value
            return PostgresStatement(
                """
                INSERT INTO chunks (series_id, start_ts, end_ts, count, value_min, value_max, value_sum, value_first,
                    value_last, data)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """,
                parameters: [
                    .int(seriesID), .int(summary.startTs), .int(summary.endTs), .int(summary.count),
                    .double(summary.min), .double(summary.max), sum.isNaN ? nil : .double(sum),
                    .double(summary.first), .double(summary.last), .bytes(chunk.blob),
                ])
        }

        /// Commits the step's transaction (nothing to do when no series was locked).
        mutating func commit() throws(StoreError) {
            guard isBegun else { return }
            isBegun = false
            do {
                try connection.execute("COMMIT")
            } catch {
                throw StoreError(error, operation: "commit compaction")
            }
        }

        /// Rolls the step's transaction back if one is open.
        func rollBack() {
            connection.rollBackIfInTransaction()
        }
    }
}
