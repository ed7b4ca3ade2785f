import Storage

// Adding bandwidth counter deltas inside the writer's transaction, so all writes stay on one thread.

extension GroupCommitWriter {
    /// Adds each delta to its `bandwidth` row and its protocol's `bandwidth_history` bucket containing `atMs`.
    func writeCounters(_ deltas: [CounterDelta], atMs: Int64) throws(StoreError) {
        let bucketMs = floorToMultiple(atMs, of: historyBucketMs)
        let upsert = statements.upsertBandwidth
        let history = statements.upsertHistory
        for delta in deltas {
            try upsert.bind(delta.protocolName, at: 1)
            try upsert.bind(delta.device, at: 2)
            var index: Int32 = 3
            for amount in delta.amounts {
                upsert.bind(Int64(clamping: amount), at: index)
                index += 1
            }
            upsert.bind(atMs, at: index)
            try upsert.run()

            guard delta.bytesIn != 0 || delta.bytesOut != 0 || delta.readings != 0 else { continue }
            history.bind(bucketMs, at: 1)
            try history.bind(delta.protocolName, at: 2)
            history.bind(Int64(clamping: delta.bytesIn), at: 3)
            history.bind(Int64(clamping: delta.bytesOut), at: 4)
            history.bind(Int64(clamping: delta.readings), at: 5)
            try history.run()
        }
    }
}

/// The largest multiple of `step` not above `value` (a true floor, also for negative values).
func floorToMultiple(_ value: Int64, of step: Int64) -> Int64 {
    let remainder = value % step
    guard remainder < 0 else { return value - remainder }
    let (floor, overflow) = (value - remainder).subtractingReportingOverflow(step)
    return overflow ? .min : floor
}
