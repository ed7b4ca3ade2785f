import Chunks
import Clocks
import Storage

// Compaction: merging a series' small chunks (one per batch, as the writer stores them) into chunks of up to
// `ChunkPolicy.standard` (an hour or 3,600 readings).
//
// When: `CompactionSchedule` (Chunks), the rule both backends keep. Which runs of one series are merged, and how
// a long run resumes: `ChunkCompaction` (Chunks).
//
// How. A step is one short transaction on the writer's connection, between group commits, taking ready series
// until it has spent `stepBudgetNs` (3 ms: a batch that arrives meanwhile waits about that) or rewritten
// `maxReadingsPerStep` readings; for each series, at most about one full chunk's worth: read the headers of the series'
// chunks from the first small one on (the blob is not read), find runs of two or more adjacent small chunks, and
// for each run that is complete decode it, cut it by the policy and replace its chunks by the new ones. Readings,
// values and the first-write-wins outcome are unchanged (chunks never overlap, so a run's readings are already
// sorted and distinct); a crash at any moment leaves either the old chunks or the new ones, never both.

/// Merges small chunks in the background; owned by the writer thread.
final class Compactor {
    /// Which series hold small chunks and which are ready (CompactionSchedule.swift).
    private var schedule: CompactionSchedule
    /// Readings one step rewrites at most.
    let maxReadingsPerStep: Int
    /// Time after which a step takes no further series (one series always completes).
    let stepBudgetNs: UInt64 = 3_000_000

    init(policy: ChunkPolicy = .standard, idleMs: Int64 = 60_000, maxReadingsPerStep: Int = 20_000) {
        schedule = CompactionSchedule(policy: policy, idleMs: idleMs)
        self.maxReadingsPerStep = maxReadingsPerStep
    }

    /// The cut compaction writes.
    var policy: ChunkPolicy { schedule.policy }

    /// Records a chunk the writer stored (after its transaction committed); `isInPast` when it was merged into or
    /// between older chunks.
    func noteWrite(seriesID: Int64, startTs: Int64, endTs: Int64, count: Int64, isInPast: Bool, nowNs: UInt64) {
        schedule.noteWrite(
            seriesID: seriesID, startTs: startTs, endTs: endTs, count: count, isInPast: isInPast, nowNs: nowNs)
    }

    /// Marks every series as possibly holding small chunks from `fromTs` on: after a restart, when the memory of
    /// what was written is gone (they are compacted once idle, or once they fill).
    func noteUnknown(seriesID: Int64, fromTs: Int64, nowNs: UInt64) {
        schedule.noteUnknown(seriesID: seriesID, fromTs: fromTs, nowNs: nowNs)
    }

    /// True when a step would find work now.
    func hasReadyWork(nowNs: UInt64) -> Bool {
        schedule.hasReadyWork(nowNs: nowNs)
    }

    /// Makes every known series ready (tests, tools, and `compactAll`).
    func makeEverythingReady() {
        schedule.makeEverythingReady()
    }

    /// Runs one step on `database`: one transaction compacting ready series until `stepBudgetNs` has passed or
    /// `maxReadingsPerStep` readings were rewritten. Many series share a transaction because their small chunks share
    /// pages (chunks are stored in commit order): compacting them together writes each page to the WAL once. A step
    /// that fails is rolled back whole and its series stay ready for a later step.
    func step(_ database: Database, statements: CompactorStatements, force: Bool = false) throws(StoreError) -> CompactionReport {
        var report = CompactionReport()
        let startNs = MonotonicClock.nowNs()
        var done: [(id: Int64, state: CompactionSchedule.SeriesState, outcome: CompactionOutcome)] = []
        try database.execute("BEGIN IMMEDIATE", operation: "begin compaction")
        do throws(StoreError) {
            while report.readingsRewritten < maxReadingsPerStep
                && (force || MonotonicClock.nowNs() &- startNs < stepBudgetNs),
                let (id, state) = schedule.takeReady()
            {
                let isIdle = force || schedule.isIdle(state, nowNs: MonotonicClock.nowNs())
                done.append((id, state, CompactionOutcome()))
                let headers = try statements.headers(seriesID: id, from: state.fromTs)
                let outcome = try ChunkCompaction.compact(headers: headers, policy: policy, mergeTail: isIdle) {
                    (part) throws(StoreError) -> [ChunkHeader]? in
                    try statements.rewrite(seriesID: id, part, policy: policy)
                }
                done[done.count - 1].outcome = outcome
                report.add(outcome)
            }
            try database.execute("COMMIT", operation: "commit compaction")
        } catch {
            if database.isInTransaction { try? database.execute("ROLLBACK", operation: "roll back compaction") }
            schedule.requeue(done.map(\.id))
            throw error
        }
        for (id, state, outcome) in done { schedule.record(outcome, of: id, takenAs: state) }
        return report
    }
}

/// What compaction did, for the metrics.
struct CompactionReport {
    var seriesCompacted = 0
    var chunksRemoved = 0
    var chunksWritten = 0
    var readingsRewritten = 0

    mutating func add(_ outcome: CompactionOutcome) {
        if outcome.chunksRemoved > 0 { seriesCompacted += 1 }
        chunksRemoved += outcome.chunksRemoved
        chunksWritten += outcome.chunksWritten
        readingsRewritten += outcome.readingsRewritten
    }
}
