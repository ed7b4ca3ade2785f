import Chunks
import Storage

// Retention: deleting whole chunks past the horizon, and keeping their per-step aggregates as rollups.
//
// Rule. With `retentionMs` set, a chunk whose last reading is older than now − retention is deleted; a chunk that
// straddles the horizon stays whole until its last reading passes it. Before a chunk is deleted its readings are
// added to the `rollups` bucket of every configured step (decoding it only when it spans a bucket edge), and
// the device's and series' reading counts drop by its count in the same transaction, so the read API's totals
// count exactly the readings still stored. Rollup buckets are deleted once they end before now − their own
// keep duration.
//
// Pace. A sweep walks the series in id order, `seriesPerStep` (16) per transaction, between group commits, once every
// `intervalMs`: deleting never holds the writer for long and never stalls ingest.

/// Deletes expired chunks and rollups in the background; owned by the writer thread.
final class RetentionSweeper {
    let retentionMs: Int64?
    let rollups: [StoreConfiguration.Rollup]
    let intervalNs: UInt64
    let seriesPerStep: Int
    /// The next series id a sweep in progress visits (nil: no sweep in progress).
    private var cursor: Int64?
    private var nextSweepNs: UInt64

    init(retentionMs: Int64?, rollups: [StoreConfiguration.Rollup], intervalMs: Int64, seriesPerStep: Int = 16, nowNs: UInt64) {
        self.retentionMs = retentionMs
        self.rollups = rollups
        self.intervalNs = UInt64(max(1, intervalMs)) * 1_000_000
        self.seriesPerStep = seriesPerStep
        // The first sweep soon after the start, so a collector started on an old file frees its space early.
        nextSweepNs = nowNs &+ min(intervalNs, 5_000_000_000)
    }

    /// True when configured at all.
    var isEnabled: Bool { retentionMs != nil || !rollups.isEmpty }

    /// True when a step has work now.
    func isDue(nowNs: UInt64) -> Bool {
        isEnabled && (cursor != nil || nowNs >= nextSweepNs)
    }

    /// When the next sweep starts, if none is in progress.
    var nextDueNs: UInt64? { isEnabled ? (cursor == nil ? nextSweepNs : 0) : nil }

    /// Starts the next sweep at once (tests and tools).
    func sweepNow() {
        if isEnabled && cursor == nil { cursor = 0 }
    }

    /// One step: the next `seriesPerStep` series, in one transaction.
    func step(_ database: Database, statements: RetentionStatements, nowMs: Int64, nowNs: UInt64) throws(StoreError)
        -> RetentionReport
    {
        if cursor == nil { cursor = 0 }
        var report = RetentionReport()
        try database.execute("BEGIN IMMEDIATE", operation: "begin retention")
        do throws(StoreError) {
            let ids = try statements.seriesIDs(after: cursor!, limit: seriesPerStep)
            for (seriesID, deviceID) in ids {
                if let retentionMs {
                    report.add(
                        try expireChunks(
                            seriesID: seriesID, deviceID: deviceID, horizon: nowMs &- retentionMs, statements))
                }
                for rollup in rollups {
                    report.rollupBucketsDeleted += try statements.deleteRollups(
                        seriesID: seriesID, stepMs: rollup.stepMs, before: nowMs &- rollup.keepMs &- rollup.stepMs)
                }
            }
            try database.execute("COMMIT", operation: "commit retention")
            if let last = ids.last, ids.count == seriesPerStep {
                cursor = last.seriesID
            } else {
                cursor = nil
                nextSweepNs = nowNs &+ intervalNs
                report.isSweepFinished = true
            }
        } catch {
            if database.isInTransaction { try? database.execute("ROLLBACK", operation: "roll back retention") }
            throw error
        }
        return report
    }

    private func expireChunks(
        seriesID: Int64, deviceID: Int64, horizon: Int64, _ statements: RetentionStatements
    ) throws(StoreError) -> RetentionReport {
        var report = RetentionReport()
        var accumulators = rollups.map { BucketAccumulator(stepMs: $0.stepMs) }
        try statements.forEachExpiredChunk(seriesID: seriesID, horizon: horizon) { (summary, blob) throws(StoreError) in
            // Decoded at most once, and only when some rollup's bucket edge cuts the chunk.
            var readings: (timestamps: [Int64], values: [Double])?
            for index in accumulators.indices {
                if accumulators[index].bucket(of: summary.startTs) == accumulators[index].bucket(of: summary.endTs) {
                    accumulators[index].add(summary)
                    continue
                }
                if readings == nil {
                    readings = try ChunkCodec.decode(
                        blob(), seriesID: seriesID, startTs: summary.startTs, operation: "roll up chunk")
                }
                let decoded = readings!
                for reading in decoded.timestamps.indices {
                    accumulators[index].add(ts: decoded.timestamps[reading], value: decoded.values[reading])
                }
            }
            report.chunksDeleted += 1
            report.readingsDeleted += summary.count
        }
        guard report.chunksDeleted > 0 else { return report }
        for (rollup, accumulator) in zip(rollups, accumulators) {
            for (bucketMs, bucket) in accumulator.buckets {
                try statements.addRollup(seriesID: seriesID, stepMs: rollup.stepMs, bucketMs: bucketMs, bucket)
            }
        }
        try statements.deleteExpired(seriesID: seriesID, deviceID: deviceID, horizon: horizon, readings: report.readingsDeleted)
        return report
    }
}

/// What retention did, for the metrics.
struct RetentionReport {
    var chunksDeleted = 0
    var readingsDeleted: Int64 = 0
    var rollupBucketsDeleted = 0
    var isSweepFinished = false

    mutating func add(_ other: RetentionReport) {
        chunksDeleted += other.chunksDeleted
        readingsDeleted += other.readingsDeleted
        rollupBucketsDeleted += other.rollupBucketsDeleted
    }
}
