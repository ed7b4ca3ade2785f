// Producing batches: which readings a batch holds, when it closes, and how its readings are taken. The rules are in
// SimulatedDevice.swift; this file implements them.

extension SimulatedDevice {
    /// Simulated ms at which the next batch closes; nil once production is over.
    var nextCloseMs: Int64? {
        guard !isProductionOver else { return nil }
        let close = originMs + Int64(batchesClosed + 1) * settings.batchMs
        if let endMs = settings.endMs { return min(close, endMs) }
        return close
    }

    /// Paced: produces every batch whose closing time has passed on the simulated clock at real time `now`.
    mutating func produceDueBatches(at now: UInt64) {
        guard !settings.clock.isMaxRate else { return }
        let simulatedNow = settings.clock.simulatedMs(atReal: now)
        while let close = nextCloseMs, close <= simulatedNow {
            produceNextBatch()
        }
    }

    /// Takes the readings of the next batch, buffers it, and counts what the full buffer pushed out.
    mutating func produceNextBatch() {
        guard !isProductionOver else { return }
        let seq = batchesClosed + 1
        let interval = settings.intervalMs
        let first = nextReadingIndex
        // Readings with k × interval < seq × batch belong to batches up to seq: k < ⌈seq × batch / interval⌉.
        var end = (Int64(seq) * settings.batchMs + interval - 1) / interval
        if let endMs = settings.endMs {
            // And only readings taken before the end of the run: originMs + k × interval < endMs.
            end = min(end, max(first, (endMs - originMs + interval - 1) / interval))
        }
        let count = Int(end - first)
        batchesClosed = seq
        nextReadingIndex = end
        if let endMs = settings.endMs, originMs + end * interval >= endMs { isProductionOver = true }
        guard count > 0 else { return }

        var mantissas: [Int32] = []
        mantissas.reserveCapacity(count * models.count)
        for sensor in models.indices {
            for k in first..<end {
                mantissas.append(models[sensor].nextMantissa(at: originMs + k * interval))
            }
        }
        let batch = PendingBatch(seq: settings.seqBase + seq, startMs: originMs + first * interval, count: count,
                                 mantissas: mantissas)
        statistics.batchesGenerated += 1
        statistics.readingsGenerated += Int64(batch.readingCount)
        for dropped in queue.append(batch) {
            statistics.batchesDroppedFull += 1
            statistics.readingsDropped += Int64(dropped.readingCount)
        }
    }

    /// Max-rate: produces a batch when the device is ready to send one and none waits.
    mutating func produceOnDemand() {
        if settings.clock.isMaxRate && !queue.hasWaiting { produceNextBatch() }
    }
}
