import Storage

// Device listings and latest values.

extension ReadConnection {
    private static let deviceColumns = "id, name, first_seen_ms, last_seen_ms, readings, batches, last_seq"

    /// Devices whose name starts with `prefix` and sorts after `after`, by name, at most `limit`.
    func devices(namePrefix prefix: String, limit: Int, after: String) throws(StoreError) -> [DeviceSummary] {
        try inReadTransaction { () throws(StoreError) -> [DeviceSummary] in
            // name >= prefix AND name < prefix + U+10FFFF selects exactly the names starting with prefix (device
            // names are ASCII) and lets SQLite walk the UNIQUE(name) index.
            let select = try statement(
                "SELECT \(Self.deviceColumns) FROM devices WHERE name >= ?1 AND name < ?2 AND name > ?3 "
                    + "ORDER BY name LIMIT ?4",
                operation: "list devices")
            try select.bind(prefix, at: 1)
            try select.bind(prefix + "\u{10FFFF}", at: 2)
            try select.bind(after, at: 3)
            select.bind(Int64(limit), at: 4)
            return try summaries(select)
        }
    }

    /// The device named `name`, or nil.
    func device(named name: String) throws(StoreError) -> DeviceSummary? {
        try inReadTransaction { () throws(StoreError) -> DeviceSummary? in
            let select = try statement(
                "SELECT \(Self.deviceColumns) FROM devices WHERE name = ?1", operation: "read device")
            try select.bind(name, at: 1)
            return try summaries(select).first
        }
    }

    /// The latest reading of each of the device's sensors, by sensor name.
    func latest(deviceID: String) throws(StoreError) -> [SensorLatest] {
        try inReadTransaction { () throws(StoreError) -> [SensorLatest] in
            guard let deviceRowID = try deviceRowID(deviceID) else { return [] }
            let select = try statement(
                "SELECT end_ts, value_last FROM chunks WHERE series_id = ?1 ORDER BY start_ts DESC LIMIT 1",
                operation: "read latest reading")
            var result: [SensorLatest] = []
            for series in try seriesOf(deviceRowID: deviceRowID) {
                select.bind(series.id, at: 1)
                try forEachRow(select) { row in
                    result.append(
                        SensorLatest(
                            sensor: series.sensor, exponent: series.exponent, ts: row.int64(at: 0),
                            value: row.double(at: 1), readings: series.readings))
                }
            }
            return result
        }
    }

    private func summaries(_ select: Statement) throws(StoreError) -> [DeviceSummary] {
        var rows: [(Int64, DeviceSummary)] = []
        try forEachRow(select) { row in
            let summary = DeviceSummary(
                name: row.text(at: 1), firstSeenMs: row.int64(at: 2), lastSeenMs: row.int64(at: 3),
                readings: row.int64(at: 4), batches: row.int64(at: 5),
                lastSeq: UInt64(bitPattern: row.int64(at: 6)), sensors: [])
            rows.append((row.int64(at: 0), summary))
        }
        var result: [DeviceSummary] = []
        result.reserveCapacity(rows.count)
        for (id, var summary) in rows {
            summary.sensors = try seriesOf(deviceRowID: id).map(\.sensor)
            result.append(summary)
        }
        return result
    }
}
