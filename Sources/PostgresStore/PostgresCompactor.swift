import Chunks
import Clocks
import Postgres
import Storage

// Compaction on PostgreSQL: merging a series' small chunks (one per batch, as writers store them) into chunks of up
// to `ChunkPolicy.standard` (an hour or 3,600 readings).
//
// When: as Sources/Store/Compactor.swift. The writer notes every chunk it writes (`noteWrite`); a series is ready
// once its run of small chunks could fill a whole chunk (by count or span), once readings landed before that run,
// or once it has had no write for `idleMs`. Each reading is therefore rewritten about once.
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
    /// What the compactor knows of a series with small chunks.
    struct SeriesState: Equatable {
        /// The first ts from which small chunks may exist.
        var fromTs: Int64
        /// Readings in small chunks written since the last compaction, and the span they cover.
        var readings: Int64 = 0
        var firstTs: Int64
        var lastTs: Int64
        var lastWriteNs: UInt64
        /// True once waiting makes the run no bigger: full by count or span, or readings landed in the past.
        var isReady = false
    }

    /// A chunk's time range and count, without its blob.
    struct ChunkHeader: Equatable {
        var startTs: Int64
        var endTs: Int64
        var count: Int64

        var spanMs: Int64 { endTs &- startTs }
    }

    let policy: ChunkPolicy
    /// A series with no write for this long has its small chunks merged even if they cannot fill a chunk.
    let idleNs: UInt64
    /// Readings one step rewrites at most (unless `compactAll`).
    let maxReadingsPerStep = 20_000
    /// Time after which a step takes no further series (one series always completes; unless `compactAll`).
    let stepBudgetNs: UInt64 = 3_000_000
    private(set) var series: [Int64: SeriesState] = [:]
    private(set) var ready: [Int64] = []
    private var lastIdleScanNs: UInt64 = 0

    /// A compactor cutting by `policy` that merges an idle series' chunks after `idleMs` without writes.
    init(policy: ChunkPolicy = .standard, idleMs: Int64) {
        self.policy = policy
        self.idleNs = UInt64(max(0, idleMs)) * 1_000_000
    }

    /// Records a chunk the writer stored (after its transaction committed); `isInPast` when it was merged into or
    /// between older chunks.
    mutating func noteWrite(seriesID: Int64, startTs: Int64, endTs: Int64, count: Int64, isInPast: Bool, nowNs: UInt64)
    {
        guard !policy.isFull(count: count, spanMs: endTs &- startTs) || isInPast else { return }
        let known = series[seriesID]
        // In the past of what is known to be small: among compacted chunks (or anywhere, when nothing is known).
        let isBeforeRun = isInPast && known.map { startTs < $0.fromTs } ?? isInPast
        var state = known ?? SeriesState(fromTs: startTs, firstTs: startTs, lastTs: endTs, lastWriteNs: nowNs)
        state.fromTs = min(state.fromTs, startTs)
        state.firstTs = min(state.firstTs, startTs)
        state.lastTs = max(state.lastTs, endTs)
        state.readings += count
        state.lastWriteNs = nowNs
        if !state.isReady
            && (isBeforeRun || policy.isFull(count: state.readings, spanMs: state.lastTs &- state.firstTs))
        {
            state.isReady = true
            ready.append(seriesID)
        }
        series[seriesID] = state
    }

    /// Marks a series as possibly holding small chunks from `fromTs` on: after a restart, when the memory of what
    /// was written is gone (they are compacted once idle, or once they fill).
    mutating func noteUnknown(seriesID: Int64, fromTs: Int64, nowNs: UInt64) {
        guard series[seriesID] == nil else { return }
        series[seriesID] = SeriesState(fromTs: fromTs, firstTs: fromTs, lastTs: fromTs, lastWriteNs: nowNs)
    }

    /// True when a step would find work now.
    mutating func hasReadyWork(nowNs: UInt64) -> Bool {
        promoteIdle(nowNs: nowNs)
        return !ready.isEmpty
    }

    /// One step: BEGIN; for ready series (all noted series when `compactAll`): lock the series row, read the chunk
    /// headers, merge runs of ≥ 2 adjacent small chunks; COMMIT. Returns the chunks merged away and written. Does
    /// not touch the connection when nothing is ready. On error: ROLLBACK, the compactor's memory is restored, and
    /// the error is thrown (nothing acknowledged changes).
    mutating func step(
        on connection: PostgresConnection, nowNs: UInt64, compactAll: Bool
    ) throws(StoreError) -> (chunksMerged: UInt64, chunksWritten: UInt64) {
        if compactAll { makeEverythingReady() } else { promoteIdle(nowNs: nowNs) }
        guard !ready.isEmpty else { return (0, 0) }
        let saved = (series: series, ready: ready)
        let startNs = MonotonicClock.nowNs()
        var merged: UInt64 = 0
        var written: UInt64 = 0
        var readingsRewritten = 0
        var skipped: [Int64] = []
        var session = Session(connection: connection)
        do throws(StoreError) {
            while !ready.isEmpty
                && (compactAll
                    || (readingsRewritten < maxReadingsPerStep && MonotonicClock.nowNs() &- startNs < stepBudgetNs))
            {
                let id = ready.removeFirst()
                guard let state = series[id] else { continue }
                guard let headers = try session.lockAndReadHeaders(seriesID: id, from: state.fromTs) else {
                    skipped.append(id)  // another collector holds the series: a later step
                    continue
                }
                let isIdle = compactAll || nowNs &- state.lastWriteNs >= idleNs
                let outcome = try compact(seriesID: id, headers: headers, mergeTail: isIdle, &session)
                merged += UInt64(outcome.chunksRemoved)
                written += UInt64(outcome.chunksWritten)
                readingsRewritten += outcome.readingsRewritten
                if let remaining = outcome.remainingFromTs {
                    // More of the same series: it stays ready, behind the others.
                    series[id]?.fromTs = remaining
                    ready.append(id)
                } else if let remaining = outcome.tailFromTs {
                    // The tail's small chunks wait for more readings.
                    series[id] = SeriesState(
                        fromTs: remaining, readings: outcome.tailReadings, firstTs: remaining,
                        lastTs: state.lastTs, lastWriteNs: state.lastWriteNs)
                } else {
                    series[id] = nil
                }
            }
            try session.commit()
        } catch {
            session.rollBack()
            series = saved.series
            ready = saved.ready
            throw error
        }
        ready.append(contentsOf: skipped)
        return (merged, written)
    }

    /// Moves series with no write for `idleNs` to the ready list (at most once a second).
    private mutating func promoteIdle(nowNs: UInt64) {
        guard nowNs &- lastIdleScanNs >= 1_000_000_000 || idleNs == 0 else { return }
        lastIdleScanNs = nowNs
        for (id, state) in series where !state.isReady && nowNs &- state.lastWriteNs >= idleNs {
            series[id]?.isReady = true
            ready.append(id)
        }
    }

    /// Makes every known series ready.
    private mutating func makeEverythingReady() {
        for (id, state) in series where !state.isReady {
            series[id]?.isReady = true
            ready.append(id)
        }
    }

    /// The outcome of compacting one series.
    struct SeriesOutcome {
        var chunksRemoved = 0
        var chunksWritten = 0
        var readingsRewritten = 0
        /// Where the small chunks left for later begin (nil: none left).
        var tailFromTs: Int64?
        /// Where the work stopped after one pass (nil: all done): the first chunk of the run not read yet.
        var remainingFromTs: Int64?
        var tailReadings: Int64 = 0
    }

    /// Merges the complete runs of small chunks among `headers`. The last run is complete only when it can fill a
    /// chunk or `mergeTail` says so; a run with a full chunk after it is always complete.
    private func compact(
        seriesID: Int64, headers: [ChunkHeader], mergeTail: Bool, _ session: inout Session
    ) throws(StoreError) -> SeriesOutcome {
        var outcome = SeriesOutcome()
        var runStart = 0
        var index = 0
        while index <= headers.count {
            let isSmall =
                index < headers.count && !policy.isFull(count: headers[index].count, spanMs: headers[index].spanMs)
            if isSmall {
                index += 1
                continue
            }
            // headers[runStart..<index] is a run of small chunks, ended by a full chunk or by the series' end.
            let run = headers[runStart..<index]
            let isTail = index == headers.count
            let readings = run.reduce(0) { $0 + $1.count }
            let span = (run.last?.endTs ?? 0) &- (run.first?.startTs ?? 0)
            let isComplete = !isTail || mergeTail || policy.isFull(count: readings, spanMs: span)
            if run.count >= 2 && isComplete {
                // At most about one full chunk's worth at a time: the rest of a long run waits for the next pass.
                var prefixEnd = run.startIndex
                var prefixReadings: Int64 = 0
                while prefixEnd < run.endIndex && prefixReadings < Int64(policy.maxReadings) {
                    prefixReadings += run[prefixEnd].count
                    prefixEnd += 1
                }
                let part = run[run.startIndex..<prefixEnd]
                guard let newChunks = try session.rewrite(seriesID: seriesID, part, policy: policy) else {
                    // Already cut as the policy cuts it (chunks ended by the span bound count as small): nothing
                    // written, and nothing to wait for in this run.
                    if prefixEnd < run.endIndex {
                        outcome.remainingFromTs = run[prefixEnd].startTs
                        return outcome
                    }
                    index += 1
                    runStart = index
                    continue
                }
                outcome.chunksRemoved += part.count
                outcome.chunksWritten += newChunks.count
                outcome.readingsRewritten += Int(prefixReadings)
                if prefixEnd < run.endIndex {
                    // The next pass starts at the first chunk not read; the headers it reads begin one chunk
                    // earlier (the last one written here), so a small one is merged on. Each pass moves forward.
                    outcome.remainingFromTs = run[prefixEnd].startTs
                    return outcome
                }
                if isTail, let last = newChunks.last, !policy.isFull(count: last.count, spanMs: last.spanMs) {
                    outcome.tailFromTs = last.startTs
                    outcome.tailReadings = last.count
                }
            } else if isTail, let first = run.first, !(run.count == 1 && mergeTail) {
                outcome.tailFromTs = first.startTs
                outcome.tailReadings = readings
            }
            index += 1
            runStart = index
        }
        return outcome
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
            switch connection.transactionStatus {
            case .inTransaction, .inFailedTransaction: _ = try? connection.execute("ROLLBACK")
            case .idle, .active, .unknown: break
            }
        }
    }
}
