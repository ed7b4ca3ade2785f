// One attempt at writing a transaction's batches and counters (see PostgresWriter.swift for the batching,
// durability and retry rules; schema/postgresql.sql for the rules every collector keeps together).
//
// The plan, in lock order (batches, then series, then devices, each sorted by key, so two collectors never wait
// for each other in a cycle; a deadlock is retried all the same):
//   1. One pipeline: BEGIN, and one INSERT of all the transaction's `batches` rows, ON CONFLICT DO NOTHING
//      RETURNING device, seq: the returned batches are new, the others duplicates (of any collector; a second
//      collector inserting the same key waits for the first to commit, then sees the conflict). A batch repeated
//      inside the transaction is a duplicate of its first occurrence. A batch holding a NaN value was refused
//      before (it fails alone, as with SQLite) and is not inserted.
//   2. One upsert of the new batches' series, which takes their row locks and returns id, exponent and last_ts:
//      exponent is the first one declared (coalesce), so an entry declaring another one is a conflict (counted).
//   3. The readings, series by series in arrival order (PostgresWriter+Chunks.swift): chunk rows wait in memory;
//      late readings read and rewrite the stored chunks they fall into.
//   4. One pipeline: the waiting chunk rows, the series' counts and last_ts, the batches' stored counts, the
//      devices rows (read first for each batch's lastSeq, then upserted), the counters, COMMIT.
// Nothing here changes the writer's state: an attempt that fails is rolled back and may simply run again.

import Chunks
import Postgres
import Storage
import Telemetry

/// Why an attempt failed: a server or connection error (with what was being done), or a store error of ours.
enum WriteFailure: Error {
    /// The server or libpq failed while the writer did `operation`.
    case postgres(PostgresError, operation: String)
    /// Something of ours failed (a damaged chunk).
    case store(StoreError)

    /// A deadlock, a serialization failure, a unique violation from a race or a lock timeout: worth running the
    /// whole transaction again.
    var isRetryable: Bool {
        guard case .postgres(let error, _) = self, !error.isConnectionBad else { return false }
        return error.isTransactionRollback || error.isUniqueViolation || error.sqlState == "55P03"
    }

    /// The connection is gone: the writer must reconnect.
    var isConnectionLost: Bool {
        if case .postgres(let error, _) = self { return error.isConnectionBad }
        return false
    }

    /// The error the transaction's requests fail with.
    var storeError: StoreError {
        switch self {
        case .postgres(let error, let operation): StoreError(error, operation: operation)
        case .store(let error): error
        }
    }
}

/// What a committed attempt did: one result per batch, in order, and what the metrics, the compactor and the feed
/// learn after COMMIT.
struct WrittenTransaction {
    /// Each batch's outcome (or its own failure), in the order taken.
    var results: [Result<BatchOutcome, StoreError>]
    /// Batches stored (duplicates excluded).
    var storedBatches: UInt64 = 0
    /// Batches found stored already.
    var duplicateBatches: UInt64 = 0
    /// Readings newly stored.
    var storedReadings: UInt64 = 0
    /// Entries whose exponent differed from the series' kept one.
    var exponentConflicts: UInt64 = 0
    /// Chunk rows written.
    var chunksWritten: UInt64 = 0
    /// Series entries merged into or between stored chunks.
    var mergedSeries: UInt64 = 0
    /// Series entries appended after their series' last chunk.
    var fastPathSeries: UInt64 = 0
    /// Every chunk row written, for the compactor.
    var chunkNotes: [ChunkNote] = []
    /// The stored batches' newly stored readings, when the feed had subscribers.
    var captured: [CommittedBatch] = []
}

/// A chunk written, as the compactor is told of it.
struct ChunkNote {
    /// `series.id`.
    var seriesID: Int64
    /// The chunk's first ts.
    var startTs: Int64
    /// The chunk's last ts.
    var endTs: Int64
    /// Its readings.
    var count: Int64
    /// True when it landed before the series' last chunk (a merge or a gap).
    var isInPast: Bool
}

/// A `(device, seq)` key of `batches`.
struct BatchKey: Hashable {
    /// The device's name.
    var device: String
    /// The seq's bit pattern, as stored.
    var seq: Int64
}

/// A `(device, sensor)` key of `series`.
struct SeriesKey: Hashable {
    /// The device's name.
    var device: String
    /// The sensor's name.
    var sensor: String

    /// The order locks are taken in: by bytes, as every collector sorts them.
    static func precedes(_ lhs: SeriesKey, _ rhs: SeriesKey) -> Bool {
        if lhs.device != rhs.device { return lhs.device.utf8.lexicographicallyPrecedes(rhs.device.utf8) }
        return lhs.sensor.utf8.lexicographicallyPrecedes(rhs.sensor.utf8)
    }
}

extension PostgresWriter {
    /// Writes and commits `batches` and `counters` in one transaction (the plan above); throws when nothing of
    /// it is committed.
    func write(
        _ batches: [PostgresBatchRequest], counters: [CounterFlush], nowMs: Int64, isCollecting: Bool
    ) throws(WriteFailure) -> WrittenTransaction {
        var written = WrittenTransaction(results: [])
        var results: [Result<BatchOutcome, StoreError>?] = Array(repeating: nil, count: batches.count)

        // Refused alone before anything is written; repeats inside the transaction are duplicates.
        var firstIndex: [BatchKey: Int] = [:]
        var candidates: [Int] = []
        for (index, request) in batches.enumerated() {
            if let error = Self.invalidReadings(request.batch) {
                results[index] = .failure(error)
                continue
            }
            let key = BatchKey(device: request.deviceID, seq: Int64(bitPattern: request.batch.seq))
            if firstIndex[key] != nil { continue }  // a repeat: a duplicate of its first occurrence
            firstIndex[key] = index
            candidates.append(index)
        }
        candidates.sort { Self.batchKeyPrecedes(batches[$0], batches[$1]) }

        // 1. BEGIN and the batches rows.
        var first = [PostgresStatement("BEGIN")]
        if !candidates.isEmpty {
            first.append(
                PostgresStatement(
                    """
                    INSERT INTO batches (device, seq, committed_ms, readings, collector)
                    SELECT d, s, $3::bigint, r, $4::text FROM unnest($1::text[], $2::bigint[], $5::integer[])
                        WITH ORDINALITY AS v(d, s, r, n)
                    ORDER BY n
                    ON CONFLICT DO NOTHING
                    RETURNING device, seq
                    """,
                    parameters: [
                        PostgresArrayText.texts(candidates.map { batches[$0].deviceID }),
                        PostgresArrayText.integers(candidates.map { Int64(bitPattern: batches[$0].batch.seq) }),
                        .int(nowMs), .text(configuration.collectorName),
                        PostgresArrayText.integers(candidates.map { Int64(Self.offered(batches[$0].batch)) }),
                    ]))
        }
        let begun = try run(first, operation: "insert batches")
        var isNew = Array(repeating: false, count: batches.count)
        if !candidates.isEmpty {
            var inserted: Set<BatchKey> = []
            for row in begun[1].rows {
                let seq = try decode("insert batches") { () throws(PostgresError) in try row.int(at: 1) }
                inserted.insert(BatchKey(device: row[0] ?? "", seq: seq ?? 0))
            }
            for index in candidates {
                let request = batches[index]
                isNew[index] = inserted.contains(
                    BatchKey(device: request.deviceID, seq: Int64(bitPattern: request.batch.seq)))
            }
        }

        // 2. The new batches' series, locked.
        var series = try lockSeries(of: batches, where: isNew)

        // 3. The readings.
        var chunks = ChunkWriter()
        var storedPerBatch = Array(repeating: Int64(0), count: batches.count)
        for index in batches.indices where isNew[index] {
            let request = batches[index]
            var capture: [SensorReadings]? = isCollecting ? [] : nil
            for (position, entry) in request.batch.sensors.enumerated() where entry.count > 0 {
                let key = SeriesKey(device: request.deviceID, sensor: entry.sensor)
                guard var state = series[key] else { continue }
                if let exponent = entry.exponent, state.exponent != exponent { written.exponentConflicts += 1 }
                let prepared = position < request.prepared.count ? request.prepared[position] : nil
                let stored = try store(
                    entry, prepared: prepared, into: &state, chunks: &chunks, capture: &capture, written: &written)
                series[key] = state
                storedPerBatch[index] += stored
            }
            if let capture, !capture.isEmpty {
                written.captured.append(
                    CommittedBatch(
                        deviceID: request.deviceID, batch: ReadingBatch(seq: request.batch.seq, sensors: capture)))
            }
        }

        // 4. Chunks, counts, devices, counters, COMMIT.
        var last: [PostgresStatement] = []
        if let insert = chunks.takeInsert() { last.append(insert) }
        last += seriesUpdate(series)
        last += batchesUpdate(batches, isNew: isNew, stored: storedPerBatch)
        let devices = Set(batches.indices.filter { results[$0] == nil }.map { batches[$0].deviceID })
        let selectIndex = last.count
        last.append(
            PostgresStatement(
                "SELECT name, last_seq FROM devices WHERE name = ANY($1::text[])",
                parameters: [PostgresArrayText.texts(devices.sorted())]))
        last += devicesUpsert(batches, isNew: isNew, stored: storedPerBatch, nowMs: nowMs)
        last += countersStatements(counters)
        last.append(PostgresStatement("COMMIT"))
        let finished = try run(last, operation: "commit batches")

        // Outcomes: each batch's lastSeq as of its place in the transaction.
        var lastSeq: [String: UInt64] = [:]
        for row in finished[selectIndex].rows {
            let seq = try decode("read devices") { () throws(PostgresError) in try row.int(at: 1) }
            lastSeq[row[0] ?? ""] = UInt64(bitPattern: seq ?? 0)
        }
        for (index, request) in batches.enumerated() where results[index] == nil {
            var seq = lastSeq[request.deviceID] ?? 0
            if isNew[index] {
                seq = max(seq, request.batch.seq)
                lastSeq[request.deviceID] = seq
                written.storedBatches += 1
                written.storedReadings += UInt64(storedPerBatch[index])
                results[index] = .success(
                    BatchOutcome(readingsStored: Int(storedPerBatch[index]), isDuplicate: false, lastSeq: seq))
            } else {
                written.duplicateBatches += 1
                results[index] = .success(BatchOutcome(readingsStored: 0, isDuplicate: true, lastSeq: seq))
            }
        }
        written.results = results.map { $0 ?? .failure(.closed) }
        written.chunksWritten += chunks.rowsWritten
        written.chunkNotes += chunks.notes
        return written
    }

    /// Runs `statements` as one pipeline; throws the first failure (the statements after it were not run).
    func run(_ statements: [PostgresStatement], operation: String) throws(WriteFailure) -> [PostgresResult] {
        let outcomes: [Result<PostgresResult, PostgresError>]
        do throws(PostgresError) {
            outcomes = try connection.executePipeline(statements)
        } catch {
            throw .postgres(error, operation: operation)
        }
        var results: [PostgresResult] = []
        results.reserveCapacity(outcomes.count)
        for outcome in outcomes {
            switch outcome {
            case .success(let result): results.append(result)
            case .failure(let error): throw .postgres(error, operation: operation)
            }
        }
        return results
    }

    /// Runs one statement; a failure is the attempt's.
    @discardableResult
    func execute(_ sql: String, _ parameters: [PostgresValue?], operation: String) throws(WriteFailure)
        -> PostgresResult
    {
        do throws(PostgresError) {
            return try connection.execute(sql, parameters: parameters)
        } catch {
            throw .postgres(error, operation: operation)
        }
    }

    /// Reads a value from a row; a malformed one fails the attempt.
    func decode<T>(_ operation: String, _ body: () throws(PostgresError) -> T) throws(WriteFailure) -> T {
        do throws(PostgresError) {
            return try body()
        } catch {
            throw .postgres(error, operation: operation)
        }
    }

    /// The upsert of the series the new batches write (one row per series, with the first exponent declared in
    /// the transaction), sorted by key; returns each series' id, kept exponent and last_ts.
    private func lockSeries(
        of batches: [PostgresBatchRequest], where isNew: [Bool]
    ) throws(WriteFailure) -> [SeriesKey: SeriesState] {
        var declared: [SeriesKey: Int32?] = [:]
        for (index, request) in batches.enumerated() where isNew[index] {
            for entry in request.batch.sensors where entry.count > 0 {
                let key = SeriesKey(device: request.deviceID, sensor: entry.sensor)
                if let known = declared[key] {
                    if known == nil, let exponent = entry.exponent { declared[key] = exponent }
                } else {
                    declared[key] = .some(entry.exponent)
                }
            }
        }
        guard !declared.isEmpty else { return [:] }
        let keys = declared.keys.sorted(by: SeriesKey.precedes)
        let result = try execute(
            """
            INSERT INTO series (device, sensor, exponent)
            SELECT d, s, e FROM unnest($1::text[], $2::text[], $3::integer[]) WITH ORDINALITY AS v(d, s, e, n)
            ORDER BY n
            ON CONFLICT (device, sensor) DO UPDATE SET exponent = coalesce(series.exponent, EXCLUDED.exponent)
            RETURNING id, device, sensor, exponent, last_ts
            """,
            [
                PostgresArrayText.texts(keys.map(\.device)), PostgresArrayText.texts(keys.map(\.sensor)),
                PostgresArrayText.integers(keys.map { declared[$0]!.map { Int64($0) } }),
            ], operation: "lock series")
        var series: [SeriesKey: SeriesState] = [:]
        for row in result.rows {
            let values = try decode("lock series") { () throws(PostgresError) in
                (try row.int(at: 0), try row.int(at: 3), try row.int(at: 4))
            }
            let key = SeriesKey(device: row[1] ?? "", sensor: row[2] ?? "")
            series[key] = SeriesState(
                id: values.0 ?? 0, exponent: values.1.map { Int32(truncatingIfNeeded: $0) }, lastTs: values.2)
        }
        return series
    }

    /// The NaN refusal of a batch, as the SQLite writer words it; nil when every value can be stored.
    static func invalidReadings(_ batch: ReadingBatch) -> StoreError? {
        for entry in batch.sensors {
            let count = min(entry.timestamps.count, entry.values.count)
            if let index = entry.values.prefix(count).firstIndex(where: \.isNaN) {
                return .invalidArgument(
                    "sensor \(entry.sensor): the value at ts \(entry.timestamps[index]) is NaN, which cannot be stored")
            }
        }
        return nil
    }

    /// The readings a batch offers (each series' timestamps and values paired).
    static func offered(_ batch: ReadingBatch) -> Int {
        batch.sensors.reduce(0) { $0 + min($1.timestamps.count, $1.values.count) }
    }

    /// The order batches rows are inserted in: by device bytes, then seq.
    static func batchKeyPrecedes(_ lhs: PostgresBatchRequest, _ rhs: PostgresBatchRequest) -> Bool {
        if lhs.deviceID != rhs.deviceID { return lhs.deviceID.utf8.lexicographicallyPrecedes(rhs.deviceID.utf8) }
        return Int64(bitPattern: lhs.batch.seq) < Int64(bitPattern: rhs.batch.seq)
    }
}
