// How a series' sorted readings are cut into chunks when the store chooses the cut: by compaction and by the
// schema upgrade that moves row-per-reading files into chunks. (A batch written by a device keeps its own cut:
// one chunk per series per batch, see GroupCommitWriter+Chunks.swift.)
//
// Rule: a chunk holds at most `maxReadings` readings and spans at most `maxSpanMs` (first to last ts); a run is
// cut greedily from its start, so every chunk but the last of a run is full by one of the two bounds.

/// The size bounds of chunks the store cuts itself.
package struct ChunkPolicy: Equatable, Sendable {
    /// Most readings in one chunk.
    package var maxReadings: Int
    /// Most time between a chunk's first and last reading, ms.
    package var maxSpanMs: Int64

    /// A policy with the given bounds.
    package init(maxReadings: Int, maxSpanMs: Int64) {
        self.maxReadings = maxReadings
        self.maxSpanMs = maxSpanMs
    }

    /// An hour or 3,600 readings, whichever comes first: 1 Hz data fills chunks of 3,600 readings (about 1 B each
    /// on the reference workload), and a query at a 1-hour or coarser step reads most chunks by their aggregates.
    package static let standard = ChunkPolicy(maxReadings: 3_600, maxSpanMs: 3_600_000)

    /// True when a chunk of `count` readings spanning `spanMs` cannot take another reading.
    package func isFull(count: Int64, spanMs: Int64) -> Bool {
        count >= Int64(maxReadings) || spanMs >= maxSpanMs
    }

    /// The index ranges of `timestamps` (sorted) that make the chunks.
    package func cut(_ timestamps: ArraySlice<Int64>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = timestamps.startIndex
        while start < timestamps.endIndex {
            var end = start + 1
            let limit = min(timestamps.endIndex, start + maxReadings)
            while end < limit && timestamps[end] &- timestamps[start] <= maxSpanMs { end += 1 }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }
}
