// When a backend's compactor merges a series' small chunks (one per batch, as writers store them) into chunks of
// up to the policy: the rule both backends keep, with no database.
//
// Rule. The writer notes every chunk it writes (`noteWrite`). A series becomes ready once its run of small chunks
// could fill a whole chunk (by count or by span), once readings landed before that run (among chunks already
// compacted), or once it has had no write for `idleNs` (a device that stopped). Readings that land inside the run (a
// device's pipelined batches arriving out of order) wait for the run. Each reading is therefore rewritten about
// once: the run is merged when it is complete, not every time it grows. After a series is compacted its state
// follows the outcome (`record`): more of the same run → ready again, behind the others; small chunks left at the
// tail → they wait for more readings; nothing left → forgotten.

/// The compactor's memory of which series hold small chunks, and which are ready; owned by the writer thread.
package struct CompactionSchedule {
    /// What the compactor knows of a series with small chunks.
    package struct SeriesState: Equatable {
        /// The first ts from which small chunks may exist.
        package var fromTs: Int64
        /// Readings in small chunks written since the last compaction, and the span they cover.
        package var readings: Int64 = 0
        package var firstTs: Int64
        package var lastTs: Int64
        package var lastWriteNs: UInt64
        /// True once waiting makes the run no bigger: full by count or span, or readings landed in the past.
        package var isReady = false
    }

    /// The cut compaction writes, and the test of a small chunk.
    package let policy: ChunkPolicy
    /// A series with no write for this long has its small chunks merged even if they cannot fill a chunk.
    package let idleNs: UInt64
    /// The series that may hold small chunks.
    package private(set) var series: [Int64: SeriesState] = [:]
    /// The ready series, in the order they became ready.
    package private(set) var ready: [Int64] = []
    private var lastIdleScanNs: UInt64 = 0

    /// A schedule for chunks cut by `policy`, merging an idle series' chunks after `idleMs` without writes.
    package init(policy: ChunkPolicy, idleMs: Int64) {
        self.policy = policy
        self.idleNs = UInt64(max(0, idleMs)) * 1_000_000
    }

    /// Records a chunk the writer stored; `isInPast` when it was merged into or between older chunks.
    package mutating func noteWrite(
        seriesID: Int64, startTs: Int64, endTs: Int64, count: Int64, isInPast: Bool, nowNs: UInt64
    ) {
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
    package mutating func noteUnknown(seriesID: Int64, fromTs: Int64, nowNs: UInt64) {
        guard series[seriesID] == nil else { return }
        series[seriesID] = SeriesState(fromTs: fromTs, firstTs: fromTs, lastTs: fromTs, lastWriteNs: nowNs)
    }

    /// True when a step would find work now.
    package mutating func hasReadyWork(nowNs: UInt64) -> Bool {
        promoteIdle(nowNs: nowNs)
        return !ready.isEmpty
    }

    /// Moves series with no write for `idleNs` to the ready list (at most once a second).
    package mutating func promoteIdle(nowNs: UInt64) {
        guard nowNs &- lastIdleScanNs >= 1_000_000_000 || idleNs == 0 else { return }
        lastIdleScanNs = nowNs
        for (id, state) in series where !state.isReady && nowNs &- state.lastWriteNs >= idleNs {
            series[id]?.isReady = true
            ready.append(id)
        }
    }

    /// Makes every known series ready (tests, tools, and compacting everything now).
    package mutating func makeEverythingReady() {
        for (id, state) in series where !state.isReady {
            series[id]?.isReady = true
            ready.append(id)
        }
    }

    /// Takes the next ready series and what is known of it; nil when none is ready. A series taken and forgotten
    /// meanwhile is skipped.
    package mutating func takeReady() -> (id: Int64, state: SeriesState)? {
        while !ready.isEmpty {
            let id = ready.removeFirst()
            if let state = series[id] { return (id, state) }
        }
        return nil
    }

    /// Puts series back at the end of the ready list (work that failed or was left for a later step).
    package mutating func requeue(_ ids: [Int64]) {
        ready.append(contentsOf: ids)
    }

    /// Follows a compacted series' outcome (see the file header). `state`: the series as it was taken.
    package mutating func record(_ outcome: CompactionOutcome, of id: Int64, takenAs state: SeriesState) {
        if let remaining = outcome.remainingFromTs {
            series[id]?.fromTs = remaining
            ready.append(id)
        } else if let remaining = outcome.tailFromTs {
            series[id] = SeriesState(
                fromTs: remaining, readings: outcome.tailReadings, firstTs: remaining, lastTs: state.lastTs,
                lastWriteNs: state.lastWriteNs)
        } else {
            series[id] = nil
        }
    }

    /// Whether a series is idle (its tail may be merged even if it cannot fill a chunk).
    package func isIdle(_ state: SeriesState, nowNs: UInt64) -> Bool {
        nowNs &- state.lastWriteNs >= idleNs
    }
}
