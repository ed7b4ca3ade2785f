// Writing one batch inside the writer's transaction (see GroupCommitWriter.swift for the rules).
import Chunks
import Storage
import Telemetry

/// What one stored batch adds to the transaction's counter sums.
struct BatchTotals {
    /// The batch's device row id.
    var deviceID: Int64 = 0
    /// Readings newly stored per series.
    var seriesReadings: [(seriesID: Int64, count: Int64)] = []
    /// Entries whose exponent differed from the series' stored one.
    var exponentConflicts: UInt64 = 0
}

extension GroupCommitWriter {
    /// Writes `batch` for device `name`: dedup on (device, seq) first, then series and readings (first write
    /// wins). Runs inside the batch savepoint; cache entries it creates stay in the caches' batch layer.
    func writeBatch(
        deviceID name: String, batch: ReadingBatch, prepared: [PreparedChunk?], nowMs: Int64, totals: inout BatchTotals
    ) throws(StoreError) -> BatchOutcome {
        let (resolved, isNewDevice) = try resolveDevice(name, nowMs: nowMs)
        var device = resolved
        totals.deviceID = device.id

        let insertBatch = statements.insertBatch
        insertBatch.bind(device.id, at: 1)
        insertBatch.bind(Int64(bitPattern: batch.seq), at: 2)
        insertBatch.bind(nowMs, at: 3)
        // Written with every reading counted as new, which the fast path makes the common case; corrected below
        // when some were already stored.
        let offered = Int64(batch.sensors.reduce(0) { $0 + $1.count })
        insertBatch.bind(offered, at: 4)
        try insertBatch.run()
        if database.changes == 0 {
            return BatchOutcome(readingsStored: 0, isDuplicate: true, lastSeq: device.lastSeq)
        }

        var stored: Int64 = 0
        for (index, entry) in batch.sensors.enumerated() where entry.count > 0 {
            var current = try resolveSeries(
                deviceID: device.id, entry: entry, isNewDevice: isNewDevice, totals: &totals)
            let count = try storeReadings(
                series: &current, sensor: entry.sensor, timestamps: entry.timestamps, values: entry.values,
                prepared: index < prepared.count ? prepared[index] : nil)
            series.set(current, for: SeriesKey(deviceID: device.id, sensor: entry.sensor))
            if count > 0 {
                totals.seriesReadings.append((current.id, count))
                stored += count
            }
        }
        if stored != offered {
            statements.setBatchReadings.bind(device.id, at: 1)
            statements.setBatchReadings.bind(Int64(bitPattern: batch.seq), at: 2)
            statements.setBatchReadings.bind(stored, at: 3)
            try statements.setBatchReadings.run()
        }
        device.lastSeq = max(device.lastSeq, batch.seq)
        devices.set(device, for: name)
        return BatchOutcome(readingsStored: Int(stored), isDuplicate: false, lastSeq: device.lastSeq)
    }

    /// The device's id and last seq, from the cache, the table, or a new row.
    private func resolveDevice(_ name: String, nowMs: Int64) throws(StoreError) -> (DeviceEntry, isNew: Bool) {
        if let entry = devices.value(for: name) { return (entry, false) }
        let select = statements.selectDevice
        try select.bind(name, at: 1)
        if try select.step() {
            let entry = DeviceEntry(id: select.int64(at: 0), lastSeq: UInt64(bitPattern: select.int64(at: 1)))
            select.reset()
            devices.set(entry, for: name)
            return (entry, false)
        }
        select.reset()
        try statements.insertDevice.bind(name, at: 1)
        statements.insertDevice.bind(nowMs, at: 2)
        try statements.insertDevice.run()
        let entry = DeviceEntry(id: database.lastInsertRowID, lastSeq: 0)
        devices.set(entry, for: name)
        return (entry, true)
    }

    /// The series for the entry's sensor, creating it when new. Records the entry's exponent when the series has
    /// none yet; a different exponent than the stored one is counted and ignored (first wins).
    private func resolveSeries(
        deviceID: Int64, entry: SensorReadings, isNewDevice: Bool, totals: inout BatchTotals
    ) throws(StoreError) -> SeriesEntry {
        let key = SeriesKey(deviceID: deviceID, sensor: entry.sensor)
        var known = series.value(for: key)
        if known == nil && !isNewDevice {
            let select = statements.selectSeries
            select.bind(deviceID, at: 1)
            try select.bind(entry.sensor, at: 2)
            if try select.step() {
                known = SeriesEntry(
                    id: select.int64(at: 0), exponent: select.optionalInt64(at: 1).map { Int32(truncatingIfNeeded: $0) },
                    lastEndTs: select.optionalInt64(at: 2))
            }
            select.reset()
            if let known { series.set(known, for: key) }
        }
        guard var current = known else {
            let insert = statements.insertSeries
            insert.bind(deviceID, at: 1)
            try insert.bind(entry.sensor, at: 2)
            insert.bind(entry.exponent.map { Int64($0) }, at: 3)
            try insert.run()
            let created = SeriesEntry(id: database.lastInsertRowID, exponent: entry.exponent, lastEndTs: nil)
            series.set(created, for: key)
            return created
        }
        if let exponent = entry.exponent {
            if current.exponent == nil {
                statements.setSeriesExponent.bind(current.id, at: 1)
                statements.setSeriesExponent.bind(Int64(exponent), at: 2)
                try statements.setSeriesExponent.run()
                current.exponent = exponent
                series.set(current, for: key)
            } else if current.exponent != exponent {
                totals.exponentConflicts += 1
            }
        }
        return current
    }
}
