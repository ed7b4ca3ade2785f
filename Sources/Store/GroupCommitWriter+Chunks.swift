// Writing one series' readings of a batch as chunks, inside the batch's savepoint (see GroupCommitWriter.swift).
//
// Fast-path rule. The writer knows the end of each series' last chunk (`SeriesEntry.lastEndTs`: chunks never
// overlap, so it is the latest stored ts). Readings that arrive in ts order after it are stored as one new chunk
// (several past `maxChunkReadings`) without reading or decoding anything stored.
//
// Merge rule (late, out-of-order, repeated or overlapping readings). The readings are sorted by ts, keeping the
// first of each ts (first write wins inside the batch too). Each reading then falls either inside a stored chunk's
// [start_ts, end_ts] or in a gap between chunks. A chunk that receives readings is decoded, the readings whose ts
// it already holds are dropped (first write wins: a stored reading never changes), and the rest are merged in; the
// chunk keeps its start_ts and end_ts, so it still overlaps no other. Readings in one gap become new chunks that
// lie wholly inside that gap. So chunks never overlap, and exactly the readings that were not stored before are
// counted as stored.

import Chunks
import Clocks
import Storage

extension GroupCommitWriter {
    /// Most readings a chunk gets when written by a batch; larger runs are cut into several chunks.
    static let maxChunkReadings = ChunkRuns.maxBatchChunkReadings

    /// Stores the readings of one series; returns how many were newly stored, and advances `series.lastEndTs`.
    /// `prepared`: the readings already encoded as one chunk by the submitting thread, used on the fast path.
    func storeReadings(
        series: inout SeriesEntry, sensor: String, timestamps: [Int64], values: [Double], prepared: PreparedChunk? = nil
    ) throws(StoreError) -> Int64 {
        let count = min(timestamps.count, values.count)
        guard count > 0 else { return 0 }
        if let prepared, series.lastEndTs.map({ prepared.summary.startTs > $0 }) ?? true {
            try append(
                seriesID: series.id,
                PendingChunks.Piece(times: timestamps[0..<count], values: values[0..<count], prepared: prepared))
            series.lastEndTs = prepared.summary.endTs
            captureStored(sensor: sensor, exponent: series.exponent, timestamps[0..<count], values[0..<count])
            return prepared.summary.count
        }
        if let index = values.prefix(count).firstIndex(where: \.isNaN) {
            throw .invalidArgument("sensor \(sensor): the value at ts \(timestamps[index]) is NaN, which cannot be stored")
        }
        if ChunkRuns.isStrictlyIncreasing(timestamps.prefix(count)), series.lastEndTs.map({ timestamps[0] > $0 }) ?? true {
            try append(seriesID: series.id, PendingChunks.Piece(times: timestamps[0..<count], values: values[0..<count]))
            series.lastEndTs = timestamps[count - 1]
            captureStored(sensor: sensor, exponent: series.exponent, timestamps[0..<count], values[0..<count])
            return Int64(count)
        }
        let (sortedTimes, sortedValues) = ChunkRuns.sortedKeepingFirst(timestamps.prefix(count), values.prefix(count))
        let low = sortedTimes[0]
        let high = sortedTimes[sortedTimes.count - 1]
        defer { series.lastEndTs = max(series.lastEndTs ?? high, high) }
        if let lastEnd = series.lastEndTs, low <= lastEnd {
            report.mergedSeries += 1
            // The merge reads stored chunks: what waits for this series is written first.
            try writePending(seriesID: series.id)
            var added = batchCapture == nil ? nil : StoredRun()
            let stored = try merge(seriesID: series.id, sortedTimes, sortedValues, low: low, high: high, added: &added)
            if let added {
                captureStored(sensor: sensor, exponent: series.exponent, added.times[...], added.values[...])
            }
            return stored
        }
        try append(seriesID: series.id, PendingChunks.Piece(times: sortedTimes[...], values: sortedValues[...]))
        captureStored(sensor: sensor, exponent: series.exponent, sortedTimes[...], sortedValues[...])
        return Int64(sortedTimes.count)
    }

    /// Fast path: readings after everything stored and waiting wait for the end of the transaction
    /// (PendingChunks.swift), unless the series' run would pass `maxChunkReadings`.
    func append(seriesID: Int64, _ piece: PendingChunks.Piece) throws(StoreError) {
        report.fastPathSeries += 1
        if pending.count(of: seriesID) + piece.count > Int64(Self.maxChunkReadings) {
            try writePending(seriesID: seriesID)
            if piece.count > Int64(Self.maxChunkReadings) {
                try insertChunks(seriesID: seriesID, piece.times, piece.values, isInPast: false)
                return
            }
        }
        pending.add(seriesID: seriesID, piece)
    }

    /// Writes what waits for one series as one chunk.
    func writePending(seriesID: Int64) throws(StoreError) {
        guard let run = pending.take(seriesID) else { return }
        try write(run, seriesID: seriesID)
    }

    /// Writes everything waiting, just before COMMIT.
    func writeAllPending() throws(StoreError) {
        for (seriesID, run) in pending.takeAll() { try write(run, seriesID: seriesID) }
    }

    private func write(_ run: PendingChunks.Run, seriesID: Int64) throws(StoreError) {
        if run.pieces.count == 1, let prepared = run.pieces[0].prepared {
            try insert(prepared, seriesID: seriesID)
            return
        }
        var times: [Int64] = []
        var values: [Double] = []
        times.reserveCapacity(Int(run.count))
        values.reserveCapacity(Int(run.count))
        for piece in run.pieces {
            times += piece.times
            values += piece.values
        }
        try insertChunk(seriesID: seriesID, times[...], values[...], isInPast: false)
    }

    /// Merges sorted, distinct readings into the chunks overlapping `[low, high]` and the gaps between them
    /// (ChunkMerge.swift). `added`, when not nil, collects the readings newly stored, in ts order (for the feed).
    private func merge(
        seriesID: Int64, _ times: [Int64], _ values: [Double], low: Int64, high: Int64, added: inout StoredRun?
    ) throws(StoreError) -> Int64 {
        let chunks = try overlappingChunks(seriesID: seriesID, low: low, high: high)
        var stored: Int64 = 0
        for piece in ChunkMerge.pieces(of: times, over: chunks) {
            switch piece {
            case .intoChunk(let index, let range):
                let chunk = chunks[index]
                let decoded = try ChunkCodec.decode(
                    chunk.data, seriesID: seriesID, startTs: chunk.startTs, operation: "merge into chunk")
                let merged = ChunkMerge.merge(stored: decoded, times[range], values[range])
                guard !merged.added.times.isEmpty else { continue }
                try replaceChunk(seriesID: seriesID, oldStartTs: chunk.startTs, merged.times[...], merged.values[...])
                added?.times += merged.added.times
                added?.values += merged.added.values
                stored += Int64(merged.added.times.count)
            case .gap(let range):
                try insertChunks(seriesID: seriesID, times[range], values[range], isInPast: true)
                added?.times += times[range]
                added?.values += values[range]
                stored += Int64(range.count)
            }
        }
        return stored
    }

    /// Writes readings (sorted, distinct, in a range no stored chunk overlaps) as new chunks of at most
    /// `maxChunkReadings`.
    /// `isInPast`: the readings landed before the series' last chunk (the compactor looks there soon).
    func insertChunks(
        seriesID: Int64, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>, isInPast: Bool
    ) throws(StoreError) {
        var start = times.startIndex
        while start < times.endIndex {
            let end = min(start + Self.maxChunkReadings, times.endIndex)
            try insertChunk(seriesID: seriesID, times[start..<end], values[start..<end], isInPast: isInPast)
            start = end
        }
    }

    /// Writes one chunk row and tells the compactor.
    func insertChunk(
        seriesID: Int64, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>, isInPast: Bool
    ) throws(StoreError) {
        try ChunkRow.bind(statements.insertChunk, seriesID: seriesID, times, values)
        try statements.insertChunk.run()
        report.chunksWritten += 1
        compactor.noteWrite(
            seriesID: seriesID, startTs: times.first!, endTs: times.last!, count: Int64(times.count),
            isInPast: isInPast, nowNs: MonotonicClock.nowNs())
    }

    /// Writes a chunk the submitting thread encoded, and tells the compactor.
    private func insert(_ prepared: PreparedChunk, seriesID: Int64) throws(StoreError) {
        try ChunkRow.bind(statements.insertChunk, seriesID: seriesID, prepared)
        try statements.insertChunk.run()
        report.chunksWritten += 1
        compactor.noteWrite(
            seriesID: seriesID, startTs: prepared.summary.startTs, endTs: prepared.summary.endTs,
            count: prepared.summary.count, isInPast: false, nowNs: MonotonicClock.nowNs())
    }

    /// Replaces the chunk starting at `oldStartTs` by one holding `times`/`values`.
    func replaceChunk(
        seriesID: Int64, oldStartTs: Int64, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>
    ) throws(StoreError) {
        try deleteChunk(seriesID: seriesID, startTs: oldStartTs)
        try insertChunk(seriesID: seriesID, times, values, isInPast: true)
    }

    /// Deletes one chunk row.
    func deleteChunk(seriesID: Int64, startTs: Int64) throws(StoreError) {
        statements.deleteChunk.bind(seriesID, at: 1)
        statements.deleteChunk.bind(startTs, at: 2)
        try statements.deleteChunk.run()
    }

    /// The chunks of a series overlapping `[low, high]`, in ts order: the one starting before `low` when it reaches
    /// into the range, then those starting inside it.
    private func overlappingChunks(seriesID: Int64, low: Int64, high: Int64) throws(StoreError) -> [StoredChunk] {
        var chunks: [StoredChunk] = []
        let before = statements.selectChunkBefore
        before.bind(seriesID, at: 1)
        before.bind(low, at: 2)
        defer { before.reset() }
        if try before.step(), before.int64(at: 1) >= low {
            chunks.append(StoredChunk(startTs: before.int64(at: 0), endTs: before.int64(at: 1), data: before.blob(at: 2)))
        }
        let inside = statements.selectChunksBetween
        inside.bind(seriesID, at: 1)
        inside.bind(low, at: 2)
        inside.bind(high, at: 3)
        defer { inside.reset() }
        while try inside.step() {
            chunks.append(StoredChunk(startTs: inside.int64(at: 0), endTs: inside.int64(at: 1), data: inside.blob(at: 2)))
        }
        return chunks
    }
}
