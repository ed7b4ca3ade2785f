// Writing one series' readings of a batch as chunk rows, inside the writer's transaction, with the series' row
// locked (PostgresWriter+Batches.swift, step 3).
//
// Fast-path rule. `last_ts` (read under the series' lock) is the end of the series' last chunk: chunks never
// overlap, so it is the latest stored ts. Readings that arrive in ts order after it become one new chunk (the one
// the submitting thread encoded, PreparedChunk; several past ChunkRuns.maxBatchChunkReadings) without reading
// anything stored. Such readings wait in memory (`ChunkWriter`): the runs of one series from several batches of the
// transaction join into one chunk (up to ChunkRuns.maxBatchChunkReadings; a lone run keeps its prepared chunk), as
// the SQLite writer's PendingChunks do, and every waiting row is inserted by one statement just before COMMIT.
//
// Merge rule (late, out-of-order, repeated or overlapping readings), as the SQLite writer's: the readings are
// sorted keeping the first of each ts (first write wins inside the batch too). When some lie at or before
// last_ts, the waiting rows are inserted first (so the read sees them), the chunks overlapping the readings' range
// are read, and ChunkMerge decides: a chunk that receives readings is decoded, keeps every reading it holds (a
// stored reading never changes), takes the new ones, keeps its start and end, and is deleted and written again;
// readings in a gap become new chunks inside that gap. Exactly the readings not stored before are counted.

import Chunks
import Postgres
import Storage
import Telemetry

/// A series as the open transaction knows it, after its row was locked.
struct SeriesState {
    /// `series.id`.
    var id: Int64
    /// The exponent kept for the series (the first declared).
    var exponent: Int32?
    /// The end of the series' last chunk, including chunks written by this transaction (nil: no chunk yet).
    var lastTs: Int64?
    /// Readings this transaction stored for the series.
    var added: Int64 = 0
}

/// Chunk rows waiting to be inserted by one statement, the in-order runs waiting to become rows, and what was
/// written, for the compactor.
struct ChunkWriter {
    /// Readings of one series appended after everything stored, waiting to become one chunk.
    private struct Run {
        var times: [Int64] = []
        var values: [Double] = []
        /// The chunk the submitting thread encoded, while the run is that one piece alone.
        var prepared: PreparedChunk?
        var pieces = 0
    }

    private var runs: [Int64: Run] = [:]
    /// Series with a waiting run, in the order their runs started (an entry whose run was flushed is skipped).
    private var runOrder: [Int64] = []
    private var seriesIDs: [Int64] = []
    private var starts: [Int64] = []
    private var ends: [Int64] = []
    private var counts: [Int64] = []
    private var mins: [Double] = []
    private var maxes: [Double] = []
    private var sums: [Double] = []
    private var firsts: [Double] = []
    private var lasts: [Double] = []
    private var blobs: [[UInt8]] = []
    /// Every chunk row made, in order.
    private(set) var notes: [ChunkNote] = []
    /// Chunk rows made.
    var rowsWritten: UInt64 { UInt64(notes.count) }

    /// Appends in-order readings after everything stored or waiting for series `seriesID` to its waiting run
    /// (`prepared`: the same readings encoded, used when the run stays this one piece).
    mutating func append(
        seriesID: Int64, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>, prepared: PreparedChunk? = nil
    ) {
        let limit = ChunkRuns.maxBatchChunkReadings
        if let run = runs[seriesID], run.times.count + times.count > limit {
            flushRun(seriesID)
        }
        guard times.count <= limit else {
            add(seriesID: seriesID, times, values, isInPast: false)
            return
        }
        var run = runs[seriesID] ?? Run()
        if run.pieces == 0 { runOrder.append(seriesID) }
        run.prepared = run.pieces == 0 ? prepared : nil
        run.times += times
        run.values += values
        run.pieces += 1
        runs[seriesID] = run
    }

    /// Makes the waiting run of `seriesID` one chunk row.
    private mutating func flushRun(_ seriesID: Int64) {
        guard let run = runs.removeValue(forKey: seriesID), !run.times.isEmpty else { return }
        add(
            seriesID: seriesID, run.prepared ?? PreparedChunk(run.times[...], run.values[...]), isInPast: false)
    }

    /// Adds one chunk row of series `seriesID`.
    mutating func add(seriesID: Int64, _ chunk: PreparedChunk, isInPast: Bool) {
        let summary = chunk.summary
        seriesIDs.append(seriesID)
        starts.append(summary.startTs)
        ends.append(summary.endTs)
        counts.append(summary.count)
        mins.append(summary.min)
        maxes.append(summary.max)
        sums.append(summary.sum.value)
        firsts.append(summary.first)
        lasts.append(summary.last)
        blobs.append(chunk.blob)
        notes.append(
            ChunkNote(
                seriesID: seriesID, startTs: summary.startTs, endTs: summary.endTs, count: summary.count,
                isInPast: isInPast))
    }

    /// Adds readings (sorted, distinct) as chunk rows of at most `maxBatchChunkReadings`.
    mutating func add(
        seriesID: Int64, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>, isInPast: Bool
    ) {
        var start = times.startIndex
        while start < times.endIndex {
            let end = min(start + ChunkRuns.maxBatchChunkReadings, times.endIndex)
            let offset = values.startIndex - times.startIndex
            add(
                seriesID: seriesID, PreparedChunk(times[start..<end], values[(start + offset)..<(end + offset)]),
                isInPast: isInPast)
            start = end
        }
    }

    /// The INSERT of every waiting row and run (nil when nothing waits); nothing waits afterwards.
    mutating func takeInsert() -> PostgresStatement? {
        let order = runOrder
        runOrder.removeAll()
        for seriesID in order { flushRun(seriesID) }
        guard !seriesIDs.isEmpty else { return nil }
        let statement = PostgresStatement(
            """
            INSERT INTO chunks (series_id, start_ts, end_ts, count, value_min, value_max, value_sum, value_first,
                value_last, data)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::integer[], $5::float8[],
                $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::bytea[])
            """,
            parameters: [
                PostgresArrayText.integers(seriesIDs), PostgresArrayText.integers(starts),
                PostgresArrayText.integers(ends), PostgresArrayText.integers(counts), PostgresArrayText.doubles(mins),
                PostgresArrayText.doubles(maxes), PostgresArrayText.doubles(sums), PostgresArrayText.doubles(firsts),
                PostgresArrayText.doubles(lasts), PostgresArrayText.byteas(blobs),
            ])
        seriesIDs.removeAll()
        starts.removeAll()
        ends.removeAll()
        counts.removeAll()
        mins.removeAll()
        maxes.removeAll()
        sums.removeAll()
        firsts.removeAll()
        lasts.removeAll()
        blobs.removeAll()
        return statement
    }
}

extension PostgresWriter {
    /// Stores one series entry of a new batch (see the file header); returns how many readings were newly stored
    /// and advances the series' state. `capture`, when not nil, collects the stored readings for the feed.
    func store(
        _ entry: SensorReadings, prepared: PreparedChunk?, into state: inout SeriesState, chunks: inout ChunkWriter,
        capture: inout [SensorReadings]?, written: inout WrittenTransaction
    ) throws(WriteFailure) -> Int64 {
        let count = min(entry.timestamps.count, entry.values.count)
        guard count > 0 else { return 0 }
        let times = entry.timestamps[0..<count]
        let values = entry.values[0..<count]
        func record(_ stored: Int64, _ storedTimes: ArraySlice<Int64>, _ storedValues: ArraySlice<Double>) {
            state.added += stored
            guard capture != nil, !storedTimes.isEmpty else { return }
            capture?.append(
                SensorReadings(
                    sensor: entry.sensor, exponent: state.exponent, timestamps: Array(storedTimes),
                    values: Array(storedValues)))
        }
        if let prepared, state.lastTs.map({ prepared.summary.startTs > $0 }) ?? true {
            written.fastPathSeries += 1
            chunks.append(seriesID: state.id, times, values, prepared: prepared)
            state.lastTs = prepared.summary.endTs
            record(prepared.summary.count, times, values)
            return prepared.summary.count
        }
        if ChunkRuns.isStrictlyIncreasing(times), state.lastTs.map({ times[0] > $0 }) ?? true {
            written.fastPathSeries += 1
            chunks.append(seriesID: state.id, times, values)
            state.lastTs = times[count - 1]
            record(Int64(count), times, values)
            return Int64(count)
        }
        let (sortedTimes, sortedValues) = ChunkRuns.sortedKeepingFirst(times, values)
        let low = sortedTimes[0]
        let high = sortedTimes[sortedTimes.count - 1]
        defer { state.lastTs = max(state.lastTs ?? high, high) }
        guard let lastTs = state.lastTs, low <= lastTs else {
            written.fastPathSeries += 1
            chunks.append(seriesID: state.id, sortedTimes[...], sortedValues[...])
            record(Int64(sortedTimes.count), sortedTimes[...], sortedValues[...])
            return Int64(sortedTimes.count)
        }
        written.mergedSeries += 1
        // The merge reads stored chunks: what waits is written first.
        if let insert = chunks.takeInsert() { try execute(insert.sql, insert.parameters, operation: "write chunks") }
        let added = try merge(
            seriesID: state.id, sortedTimes, sortedValues, low: low, high: high, chunks: &chunks)
        record(Int64(added.times.count), added.times[...], added.values[...])
        return Int64(added.times.count)
    }

    /// Merges sorted, distinct readings into the chunks overlapping `[low, high]` and the gaps between them
    /// (ChunkMerge.swift); returns the readings newly stored, in ts order.
    private func merge(
        seriesID: Int64, _ times: [Int64], _ values: [Double], low: Int64, high: Int64, chunks: inout ChunkWriter
    ) throws(WriteFailure) -> (times: [Int64], values: [Double]) {
        let operation = "merge into chunks"
        let result = try execute(
            """
            SELECT start_ts, end_ts, data FROM chunks
            WHERE series_id = $1 AND end_ts >= $2 AND start_ts <= $3 ORDER BY start_ts
            """, [.int(seriesID), .int(low), .int(high)], operation: operation)
        var stored: [StoredChunk] = []
        for row in result.rows {
            let chunk = try decode(operation) { () throws(PostgresError) in
                StoredChunk(
                    startTs: try row.int(at: 0) ?? 0, endTs: try row.int(at: 1) ?? 0, data: try row.bytes(at: 2) ?? [])
            }
            stored.append(chunk)
        }
        var added: (times: [Int64], values: [Double]) = ([], [])
        for piece in ChunkMerge.pieces(of: times, over: stored) {
            switch piece {
            case .intoChunk(let index, let range):
                let chunk = stored[index]
                let decoded: (timestamps: [Int64], values: [Double])
                do throws(ChunkDecodeError) {
                    decoded = try ChunkCodec.decode(chunk.data)
                } catch {
                    throw .store(
                        .postgres(
                            sqlState: "XX001", operation: operation,
                            message: "series \(seriesID) chunk at \(chunk.startTs): \(error.description)"))
                }
                let merged = ChunkMerge.merge(stored: decoded, times[range], values[range])
                guard !merged.added.times.isEmpty else { continue }
                try execute(
                    "DELETE FROM chunks WHERE series_id = $1 AND start_ts = $2", [.int(seriesID), .int(chunk.startTs)],
                    operation: operation)
                chunks.add(seriesID: seriesID, PreparedChunk(merged.times[...], merged.values[...]), isInPast: true)
                added.times += merged.added.times
                added.values += merged.added.values
            case .gap(let range):
                chunks.add(seriesID: seriesID, times[range], values[range], isInPast: true)
                added.times += times[range]
                added.values += values[range]
            }
        }
        return added
    }
}
