// Merging late, repeated or overlapping readings into stored chunks: the rule both backends keep, computed here
// without a database (each backend reads the chunks, and writes what this returns).
//
// Rule. The new readings are sorted and distinct (`ChunkRuns.sortedKeepingFirst`). Each falls either inside a
// stored chunk's [start_ts, end_ts] or in a gap between chunks. A chunk that receives readings keeps every reading
// it holds (first write wins: a stored reading never changes) and takes the new ones whose ts it does not hold; it
// keeps its start_ts and end_ts, so it still overlaps no other. Readings in one gap become new chunks lying wholly
// inside that gap. So chunks never overlap, and exactly the readings not stored before count as stored.

/// A stored chunk as a merge reads it: its time range and its blob.
package struct StoredChunk: Sendable {
    package var startTs: Int64
    package var endTs: Int64
    package var data: [UInt8]

    /// Memberwise.
    package init(startTs: Int64, endTs: Int64, data: [UInt8]) {
        self.startTs = startTs
        self.endTs = endTs
        self.data = data
    }
}

/// The pure steps of a merge (see the file header).
package enum ChunkMerge {
    /// Where a run of the new readings lands.
    package enum Piece: Equatable {
        /// Readings `range` lie inside the stored chunk `chunk` (an index into the chunks given).
        case intoChunk(chunk: Int, range: Range<Int>)
        /// Readings `range` lie in a gap: before the next chunk, or after the last one.
        case gap(range: Range<Int>)
    }

    /// How `times` (sorted, distinct) fall onto `chunks` (sorted by start, not overlapping), in ts order.
    package static func pieces(of times: [Int64], over chunks: [StoredChunk]) -> [Piece] {
        var pieces: [Piece] = []
        var index = 0
        var chunkIndex = 0
        while index < times.count {
            // Skip chunks that end before this reading.
            while chunkIndex < chunks.count && chunks[chunkIndex].endTs < times[index] { chunkIndex += 1 }
            var end = index
            if chunkIndex < chunks.count && chunks[chunkIndex].startTs <= times[index] {
                while end < times.count && times[end] <= chunks[chunkIndex].endTs { end += 1 }
                pieces.append(.intoChunk(chunk: chunkIndex, range: index..<end))
                chunkIndex += 1
            } else {
                let gapEnd = chunkIndex < chunks.count ? chunks[chunkIndex].startTs : Int64.max
                while end < times.count && times[end] < gapEnd { end += 1 }
                pieces.append(.gap(range: index..<end))
            }
            index = end
        }
        return pieces
    }

    /// The stored readings with the new ones whose ts they do not hold merged in, in ts order, and the new
    /// readings that were taken (in ts order). Both inputs are sorted and distinct.
    package static func merge(
        stored: (timestamps: [Int64], values: [Double]), _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>
    ) -> (times: [Int64], values: [Double], added: (times: [Int64], values: [Double])) {
        var mergedTimes: [Int64] = []
        var mergedValues: [Double] = []
        var addedTimes: [Int64] = []
        var addedValues: [Double] = []
        mergedTimes.reserveCapacity(stored.timestamps.count + times.count)
        mergedValues.reserveCapacity(stored.timestamps.count + times.count)
        var old = 0
        var new = times.startIndex
        while old < stored.timestamps.count || new < times.endIndex {
            if new == times.endIndex || (old < stored.timestamps.count && stored.timestamps[old] <= times[new]) {
                if new < times.endIndex && stored.timestamps[old] == times[new] { new += 1 }  // stored wins
                mergedTimes.append(stored.timestamps[old])
                mergedValues.append(stored.values[old])
                old += 1
            } else {
                mergedTimes.append(times[new])
                mergedValues.append(values[values.startIndex + (new - times.startIndex)])
                addedTimes.append(times[new])
                addedValues.append(values[values.startIndex + (new - times.startIndex)])
                new += 1
            }
        }
        return (mergedTimes, mergedValues, (addedTimes, addedValues))
    }
}
