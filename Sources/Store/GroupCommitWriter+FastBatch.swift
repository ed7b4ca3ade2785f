// The common batch in one statement (see GroupCommitWriter.swift for the rules it keeps).
//
// Rule. A batch whose device and series the writer already knows, each series' readings in order, encoded by the
// submitting thread and after everything stored or waiting for that series, with no exponent to record, writes
// exactly one row: its `batches` row (the exactly-once check). Its readings join the transaction's pending chunks
// (PendingChunks.swift) and are written before COMMIT. One statement is atomic by itself, so such a batch needs no
// SAVEPOINT: if the INSERT fails, SQLite undoes that statement alone and the batch fails alone, as under a
// savepoint; if SQLite abandons the transaction, every batch of it fails, as always. Any other batch takes the
// general path (`writeBatch` inside a savepoint).

import Chunks
import Storage
import Telemetry

extension GroupCommitWriter {
    /// Stores `batch` in one statement when it qualifies (see above); nil when it does not, and nothing was done.
    /// Throws only when the whole transaction is lost.
    func writeFastBatch(
        deviceID name: String, batch: ReadingBatch, prepared: [PreparedChunk?], nowMs: Int64, totals: inout BatchTotals
    ) throws(StoreError) -> Result<BatchOutcome, StoreError>? {
        guard var device = devices.value(for: name), prepared.count == batch.sensors.count else { return nil }
        var plan: [(series: SeriesEntry, key: SeriesKey, chunk: PreparedChunk, entry: SensorReadings)] = []
        plan.reserveCapacity(batch.sensors.count)
        for (index, entry) in batch.sensors.enumerated() where entry.count > 0 {
            let key = SeriesKey(deviceID: device.id, sensor: entry.sensor)
            guard let chunk = prepared[index], let known = series.value(for: key),
                entry.exponent == nil || entry.exponent == known.exponent,
                known.lastEndTs.map({ chunk.summary.startTs > $0 }) ?? true,
                pending.count(of: known.id) + chunk.summary.count <= Int64(Self.maxChunkReadings),
                !plan.contains(where: { $0.key == key })
            else { return nil }
            plan.append((known, key, chunk, entry))
        }
        totals.deviceID = device.id
        let offered = plan.reduce(Int64(0)) { $0 + $1.chunk.summary.count }
        let insertBatch = statements.insertBatch
        insertBatch.bind(device.id, at: 1)
        insertBatch.bind(Int64(bitPattern: batch.seq), at: 2)
        insertBatch.bind(nowMs, at: 3)
        insertBatch.bind(offered, at: 4)
        do throws(StoreError) {
            try insertBatch.run()
        } catch {
            guard database.isInTransaction else { throw error }
            return .failure(error)
        }
        if database.changes == 0 {
            return .success(BatchOutcome(readingsStored: 0, isDuplicate: true, lastSeq: device.lastSeq))
        }
        for (known, key, chunk, entry) in plan {
            var current = known
            current.lastEndTs = chunk.summary.endTs
            series.set(current, for: key)
            // The plan checked the series' pending count: this only queues the readings, it writes nothing.
            try append(
                seriesID: current.id,
                PendingChunks.Piece(
                    times: entry.timestamps[0..<Int(chunk.summary.count)],
                    values: entry.values[0..<Int(chunk.summary.count)], prepared: chunk))
            totals.seriesReadings.append((current.id, chunk.summary.count))
            captureStored(
                sensor: entry.sensor, exponent: current.exponent,
                entry.timestamps[0..<Int(chunk.summary.count)], entry.values[0..<Int(chunk.summary.count)])
        }
        device.lastSeq = max(device.lastSeq, batch.seq)
        devices.set(device, for: name)
        devices.releaseBatch()
        series.releaseBatch()
        pending.releaseBatch()
        return .success(BatchOutcome(readingsStored: Int(offered), isDuplicate: false, lastSeq: device.lastSeq))
    }
}
