// The PostgreSQL store's read API: each query checks its arguments by the rules every backend shares
// (QueryArguments.swift in Storage), then runs on a pooled connection in one read-only transaction
// (PostgresReadPool, PostgresReader), beside the writer; it sees what any collector has committed. Ranges are
// [fromMs, toMs): from inclusive, to exclusive, nil meaning unbounded. An unknown device or sensor gives empty
// results (or nil), not an error. Counters are summed over every collector writing the database unless a
// collector is named.

import Storage

extension PostgresTelemetryStore {
    /// A page of a device's readings in [fromMs, toMs), ordered by (ts, sensor) or the reverse, continuing after
    /// `cursor`.
    /// - Throws: `.invalidArgument` when `limit` is not within 1...100,000 or the cursor was made for the other
    ///   order.
    public func readings(
        deviceID: String, sensor: String? = nil, fromMs: Int64? = nil, toMs: Int64? = nil, limit: Int,
        order: ReadingOrder = .ascending, after cursor: ReadingCursor? = nil
    ) throws(StoreError) -> ReadingPage {
        try QueryArguments.checkLimit(limit)
        try QueryArguments.checkCursor(cursor, order: order)
        let (low, high) = QueryArguments.inclusiveRange(fromMs, toMs)
        return try readPool.withReader { (reader) throws(StoreError) in
            try reader.readings(
                deviceID: deviceID, sensor: sensor, lowMs: low, highMs: high, limit: limit, order: order,
                after: cursor)
        }
    }

    /// A sensor's readings aggregated per `stepMs` step in [fromMs, toMs): only non-empty steps, oldest first.
    /// - Throws: `.invalidArgument` when `stepMs` is not positive.
    public func series(
        deviceID: String, sensor: String, fromMs: Int64? = nil, toMs: Int64? = nil, stepMs: Int64,
        aggregate: SeriesAggregate
    ) throws(StoreError) -> [SeriesBucket] {
        try QueryArguments.checkSeriesStep(stepMs)
        let (low, high) = QueryArguments.inclusiveRange(fromMs, toMs)
        return try readPool.withReader { (reader) throws(StoreError) in
            try reader.series(
                deviceID: deviceID, sensor: sensor, lowMs: low, highMs: high, stepMs: stepMs, aggregate: aggregate)
        }
    }

    /// The latest reading of each of the device's sensors, by sensor name.
    public func latest(deviceID: String) throws(StoreError) -> [SensorLatest] {
        try readPool.withReader { (reader) throws(StoreError) in try reader.latest(deviceID: deviceID) }
    }

    /// Devices by name, optionally with a name prefix, continuing after the name `after`.
    /// - Throws: `.invalidArgument` when `limit` is not within 1...100,000.
    public func devices(namePrefix: String? = nil, limit: Int, after: String? = nil) throws(StoreError)
        -> [DeviceSummary]
    {
        try QueryArguments.checkLimit(limit)
        return try readPool.withReader { (reader) throws(StoreError) in
            try reader.devices(namePrefix: namePrefix ?? "", limit: limit, after: after ?? "")
        }
    }

    /// The device named `id`, or nil when it has never stored a batch.
    public func device(_ id: String) throws(StoreError) -> DeviceSummary? {
        try readPool.withReader { (reader) throws(StoreError) in try reader.device(named: id) }
    }

    /// The persisted bandwidth counters of every collector, summed, by protocol then device.
    public func counters() throws(StoreError) -> [CounterRow] {
        try readPool.withReader { (reader) throws(StoreError) in try reader.counters(collector: nil) }
    }

    /// This collector's name in the shared database: the collector server keeps its own counters apart and reads
    /// the others' back (TelemetryStorage).
    public var sharedCollectorName: String? { collectorName }

    /// The persisted bandwidth counters of one collector, by protocol then device.
    public func counters(collector: String) throws(StoreError) -> [CounterRow] {
        try readPool.withReader { (reader) throws(StoreError) in try reader.counters(collector: collector) }
    }

    /// The collectors that have counter rows in the database.
    public func counterCollectors() throws(StoreError) -> [String] {
        try readPool.withReader { (reader) throws(StoreError) in try reader.counterCollectors() }
    }

    /// Bytes and readings per protocol per `stepMs` step, summed over collectors.
    /// - Throws: `.invalidArgument` unless `stepMs` is a positive multiple of `historyBucketMs`.
    public func counterHistory(stepMs: Int64, fromMs: Int64? = nil, toMs: Int64? = nil) throws(StoreError)
        -> [HistoryBucket]
    {
        try QueryArguments.checkHistoryStep(stepMs, bucketMs: configuration.historyBucketMs)
        let (low, high) = QueryArguments.inclusiveRange(fromMs, toMs)
        return try readPool.withReader { (reader) throws(StoreError) in
            try reader.counterHistory(stepMs: stepMs, lowMs: low, highMs: high)
        }
    }

    /// The deny list as committed now.
    public func revokedDevices() throws(StoreError) -> [RevokedDevice] {
        try readPool.withReader { (reader) throws(StoreError) in try reader.revokedDevices() }
    }

    /// The bytes the chunks take and the bytes the whole database takes.
    package func diskUsage() throws(StoreError) -> (chunkBytes: Int64, totalBytes: Int64) {
        try readPool.withReader { (reader) throws(StoreError) in try reader.diskUsage() }
    }
}
