// A chunk encoded on the thread that submits a batch, and the rules for the runs a batch's readings form.

import Telemetry

/// A chunk encoded and summarized, ready to be written.
///
/// `prepare` runs on the thread that submits a batch: every series of the batch whose readings are in strictly
/// increasing ts order (the common case) is encoded there, so that the backend's writer thread, the limit of
/// ingest, only writes rows. The writer uses it when the chunk lands after the series' last one (the fast path);
/// otherwise it merges the readings themselves and the prepared chunk is dropped.
package struct PreparedChunk: Sendable {
    /// The chunk's aggregates.
    package let summary: ChunkSummary
    /// The encoded readings (ChunkCodec).
    package let blob: [UInt8]

    /// Encodes readings (sorted, distinct, not empty).
    package init(_ times: ArraySlice<Int64>, _ values: ArraySlice<Double>) {
        summary = ChunkSummary(timestamps: times, values: values)
        blob = ChunkCodec.encode(timestamps: Array(times), values: Array(values))
    }

    /// One entry per series of `batch`: its chunk when its readings are in order, hold no NaN and fit one chunk.
    package static func prepare(_ batch: ReadingBatch) -> [PreparedChunk?] {
        batch.sensors.map { entry in
            let count = min(entry.timestamps.count, entry.values.count)
            guard count > 0, count <= ChunkRuns.maxBatchChunkReadings,
                ChunkRuns.isStrictlyIncreasing(entry.timestamps.prefix(count)),
                !entry.values.prefix(count).contains(where: \.isNaN)
            else { return nil }
            return PreparedChunk(entry.timestamps.prefix(count), entry.values.prefix(count))
        }
    }
}

/// What both backends do with a series' readings as a batch sent them: check their order, sort them keeping the
/// first of each ts (first write wins inside a batch too), and the largest chunk a batch writes.
package enum ChunkRuns {
    /// Most readings a chunk gets when written by a batch; larger runs are cut into several chunks.
    package static let maxBatchChunkReadings = 3_600

    /// True when every ts is greater than the one before.
    package static func isStrictlyIncreasing(_ timestamps: ArraySlice<Int64>) -> Bool {
        var previous = Int64.min
        for (offset, ts) in timestamps.enumerated() {
            if offset > 0 && ts <= previous { return false }
            previous = ts
        }
        return true
    }

    /// The readings sorted by ts, keeping the first (in arrival order) of each ts.
    package static func sortedKeepingFirst(
        _ timestamps: ArraySlice<Int64>, _ values: ArraySlice<Double>
    ) -> ([Int64], [Double]) {
        let order = timestamps.indices.sorted { (timestamps[$0], $0) < (timestamps[$1], $1) }
        var times: [Int64] = []
        var kept: [Double] = []
        times.reserveCapacity(order.count)
        kept.reserveCapacity(order.count)
        for index in order where times.last != timestamps[index] {
            times.append(timestamps[index])
            kept.append(values[index])
        }
        return (times, kept)
    }
}
