import Clocks
import Storage

// Background work on the writer's connection, between group commits: compaction (Compactor.swift) and retention
// (RetentionSweeper.swift).
//
// Scheduling rule. Maintenance runs in steps of a few short transactions of its own. While the write queue is
// empty a due step runs at once (WriterThread.nextRequest); a request that arrives waits for at most the step in
// progress. Under sustained load the queue never empties, so after a group commit a step also runs when the last
// one is `overdueNs` old: ingest keeps at least 95 % of the writer, and compaction keeps up with it.

extension GroupCommitWriter {
    /// Least time between two maintenance steps taken while batches are waiting.
    static let overdueNs: UInt64 = 25_000_000
    /// Longest sleep of an idle writer, so idle series and retention sweeps are noticed.
    static let idleWakeNs: UInt64 = 1_000_000_000

    /// True when a compaction or retention step has work now.
    func isMaintenanceDue(nowNs: UInt64) -> Bool {
        compactor.hasReadyWork(nowNs: nowNs) || retention.isDue(nowNs: nowNs)
    }

    /// How long an idle writer may sleep before maintenance may be due.
    func maintenanceWaitNs(nowNs: UInt64) -> UInt64 {
        var wait = Self.idleWakeNs
        if let due = retention.nextDueNs { wait = min(wait, due > nowNs ? due - nowNs : 0) }
        return max(1_000_000, wait)
    }

    /// Runs a step after a transaction when batches kept the queue busy past `overdueNs`.
    func runMaintenanceIfOverdue() {
        let nowNs = MonotonicClock.nowNs()
        guard nowNs &- lastMaintenanceNs >= Self.overdueNs, isMaintenanceDue(nowNs: nowNs) else { return }
        runMaintenanceStep()
    }

    /// One step: retention first when a sweep is due (it may delete chunks compaction would otherwise merge),
    /// else compaction. A failure is counted and the work retried in a later step.
    func runMaintenanceStep() {
        let nowNs = MonotonicClock.nowNs()
        lastMaintenanceNs = nowNs
        var compaction = CompactionReport()
        var sweep = RetentionReport()
        var failed = false
        do throws(StoreError) {
            if retention.isDue(nowNs: nowNs) {
                sweep = try retention.step(
                    database, statements: retentionStatements, nowMs: WallClock.nowMs(), nowNs: nowNs)
            } else {
                compaction = try compactor.step(database, statements: compactorStatements)
            }
        } catch {
            failed = true
        }
        metrics.recordMaintenance(compaction: compaction, retention: sweep, failed: failed)
        if !failed { checkpointer?.noteCommit() }
    }

    /// Compacts every series with small chunks (idle or not) and runs a whole retention sweep: for tests, the
    /// benchmark and tools that want the settled layout now.
    func runMaintenanceFully() -> Result<Void, StoreError> {
        compactor.makeEverythingReady()
        retention.sweepNow()
        do throws(StoreError) {
            while retention.isDue(nowNs: 0) {
                let sweep = try retention.step(
                    database, statements: retentionStatements, nowMs: WallClock.nowMs(), nowNs: MonotonicClock.nowNs())
                metrics.recordMaintenance(compaction: CompactionReport(), retention: sweep, failed: false)
                if sweep.isSweepFinished { break }
            }
            while compactor.hasReadyWork(nowNs: 0) {
                let compaction = try compactor.step(database, statements: compactorStatements, force: true)
                metrics.recordMaintenance(compaction: compaction, retention: RetentionReport(), failed: false)
            }
            checkpointer?.noteCommit()
            return .success(())
        } catch {
            metrics.recordMaintenance(compaction: CompactionReport(), retention: RetentionReport(), failed: true)
            return .failure(error)
        }
    }

    /// After a restart the compactor's memory is gone: every series may hold small chunks, anywhere. They are
    /// looked at once idle (or once they fill), reading only chunk headers.
    func noteSeriesAfterRestart() throws(StoreError) {
        let select = try database.prepare(
            "SELECT DISTINCT series_id FROM chunks WHERE count < ?1", operation: "find series with small chunks")
        select.bind(Int64(compactor.policy.maxReadings), at: 1)
        defer { select.reset() }
        let nowNs = MonotonicClock.nowNs()
        while try select.step() {
            compactor.noteUnknown(seriesID: select.int64(at: 0), fromTs: .min, nowNs: nowNs)
        }
    }
}

extension MetricsRecorder {
    /// Adds what a maintenance step of the SQLite store did (or that it failed).
    func recordMaintenance(compaction: CompactionReport, retention: RetentionReport, failed: Bool) {
        recordMaintenance(
            chunksCompacted: UInt64(compaction.chunksRemoved), chunksFromCompaction: UInt64(compaction.chunksWritten),
            readingsExpired: UInt64(retention.readingsDeleted), chunksExpired: UInt64(retention.chunksDeleted),
            failed: failed)
    }
}
