// How one series' small chunks are merged, given the headers of its chunks from the first possibly small one on:
// the rule both backends keep, with no database (each backend reads the headers and rewrites the runs it is given).
//
// Rule. Runs of two or more adjacent small chunks (not full by count or span) are merged, each into the chunks the
// policy cuts. A run ended by a full chunk is complete; the series' last run only when it can fill a chunk or the
// series is idle (`mergeTail`). At most about one full chunk's worth of a run is rewritten at a time: the rest of a
// long run waits for the next pass, which resumes at the first chunk not read (the backend's header query starts
// one chunk before it, the last one written, so a small one is merged on): each pass moves forward. Chunks never
// overlap, so a run's readings are already sorted and distinct and every reading keeps its value.

import Storage

/// A chunk's time range and count, without its blob.
package struct ChunkHeader: Equatable, Sendable {
    package var startTs: Int64
    package var endTs: Int64
    package var count: Int64

    /// Memberwise.
    package init(startTs: Int64, endTs: Int64, count: Int64) {
        self.startTs = startTs
        self.endTs = endTs
        self.count = count
    }

    /// Last ts minus first.
    package var spanMs: Int64 { endTs &- startTs }
}

/// What compacting one series did, and what is left of it.
package struct CompactionOutcome: Equatable {
    package var chunksRemoved = 0
    package var chunksWritten = 0
    package var readingsRewritten = 0
    /// Where the small chunks left for later begin (nil: none left).
    package var tailFromTs: Int64?
    package var tailReadings: Int64 = 0
    /// Where the work stopped after one pass (nil: all done): the first chunk of the run not read yet.
    package var remainingFromTs: Int64?

    /// Nothing done yet.
    package init() {}
}

/// Merges the runs of one series (see the file header).
package enum ChunkCompaction {
    /// Merges the complete runs of small chunks among `headers` (in ts order). `rewrite(part)` replaces the chunks
    /// `part` by the policy's cut and returns the new chunks' headers, or nil when it wrote nothing because the part
    /// is already cut as the policy cuts it.
    package static func compact(
        headers: [ChunkHeader], policy: ChunkPolicy, mergeTail: Bool,
        rewrite: (ArraySlice<ChunkHeader>) throws(StoreError) -> [ChunkHeader]?
    ) throws(StoreError) -> CompactionOutcome {
        var outcome = CompactionOutcome()
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
                var prefixEnd = run.startIndex
                var prefixReadings: Int64 = 0
                while prefixEnd < run.endIndex && prefixReadings < Int64(policy.maxReadings) {
                    prefixReadings += run[prefixEnd].count
                    prefixEnd += 1
                }
                let part = run[run.startIndex..<prefixEnd]
                let written = try rewrite(part)
                if let written {
                    outcome.chunksRemoved += part.count
                    outcome.chunksWritten += written.count
                    outcome.readingsRewritten += Int(prefixReadings)
                }
                if prefixEnd < run.endIndex {
                    outcome.remainingFromTs = run[prefixEnd].startTs
                    return outcome
                }
                if isTail, let last = written?.last, !policy.isFull(count: last.count, spanMs: last.spanMs) {
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
