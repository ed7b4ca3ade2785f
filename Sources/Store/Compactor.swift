import Chunks
import Clocks
import Storage

// Compaction: merging a series' small chunks (one per batch, as the writer stores them) into chunks of up to
// `ChunkPolicy.standard` (an hour or 3,600 readings).
//
// When. The writer tells the compactor about every chunk it writes (`noteWrite`). A series becomes ready once
// its run of small chunks could fill a whole chunk (by count or by span), once readings landed before that run
// (among chunks already compacted), or once it has had no write for `idleMs` (a device that stopped). Readings
// that land inside the run (a device's pipelined batches arriving out of order) wait for the run. Each reading is
// therefore rewritten about once: the run is merged when it is complete, not every time it grows.
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
    /// What the compactor knows of a series with small chunks.
    struct SeriesState {
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

    let policy: ChunkPolicy
    /// A series with no write for this long has its small chunks merged even if they cannot fill a chunk.
    let idleNs: UInt64
    /// Readings one step rewrites at most.
    let maxReadingsPerStep: Int
    /// Time after which a step takes no further series (one series always completes).
    let stepBudgetNs: UInt64 = 3_000_000
    private(set) var series: [Int64: SeriesState] = [:]
    private var ready: [Int64] = []
    private var lastIdleScanNs: UInt64 = 0

    init(policy: ChunkPolicy = .standard, idleMs: Int64 = 60_000, maxReadingsPerStep: Int = 20_000) {
        self.policy = policy
        self.idleNs = UInt64(max(0, idleMs)) * 1_000_000
        self.maxReadingsPerStep = maxReadingsPerStep
    }

    /// Records a chunk the writer stored (after its transaction committed); `isInPast` when it was merged into or
    /// between older chunks.
    func noteWrite(seriesID: Int64, startTs: Int64, endTs: Int64, count: Int64, isInPast: Bool, nowNs: UInt64) {
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
        if !state.isReady && (isBeforeRun || policy.isFull(count: state.readings, spanMs: state.lastTs &- state.firstTs)) {
            state.isReady = true
            ready.append(seriesID)
        }
        series[seriesID] = state
    }

    /// Marks every series as possibly holding small chunks from `fromTs` on: after a restart, when the memory of
    /// what was written is gone (they are compacted once idle, or once they fill).
    func noteUnknown(seriesID: Int64, fromTs: Int64, nowNs: UInt64) {
        guard series[seriesID] == nil else { return }
        series[seriesID] = SeriesState(fromTs: fromTs, firstTs: fromTs, lastTs: fromTs, lastWriteNs: nowNs)
    }

    /// True when a step would find work now.
    func hasReadyWork(nowNs: UInt64) -> Bool {
        promoteIdle(nowNs: nowNs)
        return !ready.isEmpty
    }

    /// Moves series with no write for `idleNs` to the ready list (at most once a second).
    private func promoteIdle(nowNs: UInt64) {
        guard nowNs &- lastIdleScanNs >= 1_000_000_000 || idleNs == 0 else { return }
        lastIdleScanNs = nowNs
        for (id, state) in series where !state.isReady && nowNs &- state.lastWriteNs >= idleNs {
            series[id]?.isReady = true
            ready.append(id)
        }
    }

    /// Makes every known series ready (tests, tools, and `compactAll`).
    func makeEverythingReady() {
        for (id, state) in series where !state.isReady {
            series[id]?.isReady = true
            ready.append(id)
        }
    }

    /// Runs one step on `database`: one transaction compacting ready series until `stepBudgetNs` has passed or
    /// `maxReadingsPerStep` readings were rewritten. Many series share a transaction because their small chunks share
    /// pages (chunks are stored in commit order): compacting them together writes each page to the WAL once. A step
    /// that fails is rolled back whole and its series stay ready for a later step.
    func step(_ database: Database, statements: CompactorStatements, force: Bool = false) throws(StoreError) -> CompactionReport {
        var report = CompactionReport()
        let startNs = MonotonicClock.nowNs()
        var done: [(id: Int64, state: SeriesState, outcome: SeriesOutcome)] = []
        try database.execute("BEGIN IMMEDIATE", operation: "begin compaction")
        do throws(StoreError) {
            while !ready.isEmpty && report.readingsRewritten < maxReadingsPerStep
                && (force || MonotonicClock.nowNs() &- startNs < stepBudgetNs)
            {
                let id = ready.removeFirst()
                guard let state = series[id] else { continue }
                let isIdle = force || MonotonicClock.nowNs() &- state.lastWriteNs >= idleNs
                done.append((id, state, SeriesOutcome()))
                let outcome = try compact(seriesID: id, from: state.fromTs, mergeTail: isIdle, statements)
                done[done.count - 1].outcome = outcome
                report.add(outcome)
            }
            try database.execute("COMMIT", operation: "commit compaction")
        } catch {
            if database.isInTransaction { try? database.execute("ROLLBACK", operation: "roll back compaction") }
            ready.append(contentsOf: done.map(\.id))
            throw error
        }
        for (id, state, outcome) in done {
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
        return report
    }

    /// The outcome of compacting one series.
    struct SeriesOutcome {
        var chunksRemoved = 0
        var chunksWritten = 0
        var readingsRewritten = 0
        /// Where the small chunks left for later begin (nil: none left).
        var tailFromTs: Int64?
        /// Where the work stopped because the transaction had done enough (nil: all done): the first chunk of the
        /// run not read yet.
        var remainingFromTs: Int64?
        var tailReadings: Int64 = 0
    }

    /// Merges the complete runs of small chunks of one series from `from` on. The last run is complete only when
    /// it can fill a chunk or `mergeTail` says so; a run with a full chunk after it is always complete.
    private func compact(
        seriesID: Int64, from: Int64, mergeTail: Bool, _ statements: CompactorStatements
    ) throws(StoreError) -> SeriesOutcome {
        let headers = try statements.headers(seriesID: seriesID, from: from)
        var outcome = SeriesOutcome()
        var runStart = 0
        var index = 0
        while index <= headers.count {
            let isSmall = index < headers.count && !policy.isFull(count: headers[index].count, spanMs: headers[index].spanMs)
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
                // At most about one full chunk's worth per transaction, so a backlog never holds the writer long:
                // the rest of a long run waits for the next step.
                var prefixEnd = run.startIndex
                var prefixReadings: Int64 = 0
                while prefixEnd < run.endIndex && prefixReadings < Int64(policy.maxReadings) {
                    prefixReadings += run[prefixEnd].count
                    prefixEnd += 1
                }
                let part = run[run.startIndex..<prefixEnd]
                let written = try statements.rewrite(seriesID: seriesID, part, policy: policy)
                outcome.chunksRemoved += part.count
                outcome.chunksWritten += written.count
                outcome.readingsRewritten += Int(prefixReadings)
                if prefixEnd < run.endIndex {
                    // The next pass starts at the first chunk not read (its headers begin one chunk earlier, the
                    // last one written here, so a small one is merged on): each pass moves forward. Resuming at
                    // the last chunk written could read the same chunks forever when the cut reproduces them.
                    outcome.remainingFromTs = run[prefixEnd].startTs
                    return outcome
                }
                if isTail, let last = written.last, !policy.isFull(count: last.count, spanMs: last.spanMs) {
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

/// What compaction did, for the metrics.
struct CompactionReport {
    var seriesCompacted = 0
    var chunksRemoved = 0
    var chunksWritten = 0
    var readingsRewritten = 0

    mutating func add(_ outcome: Compactor.SeriesOutcome) {
        if outcome.chunksRemoved > 0 { seriesCompacted += 1 }
        chunksRemoved += outcome.chunksRemoved
        chunksWritten += outcome.chunksWritten
        readingsRewritten += outcome.readingsRewritten
    }
}
