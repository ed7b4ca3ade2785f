import Storage

// The store's read API. Every query runs on a pooled read-only connection, in one read transaction, beside the
// writer; it sees what has been committed. Ranges are [fromMs, toMs): from inclusive, to exclusive, nil meaning
// unbounded. An unknown device or sensor gives empty results (or nil), not an error; a bad argument throws
// `.invalidArgument`, by the rules every backend shares (QueryArguments.swift in Storage).

extension TelemetryStore {
    /// Largest `limit` a readings page accepts.
    public static let maxPageLimit = QueryArguments.maxPageLimit

    /// A page of a device's readings, ordered by (ts, sensor) — or the reverse — optionally for one sensor, with
    /// the cursor of the next page when more rows exist.
    ///
    /// Pass the previous page's `nextCursor` as `cursor` (with the same order and filters) to continue: keyset
    /// pagination, so readings arriving meanwhile never make a page skip or repeat a row that already existed.
    /// - Throws: `.invalidArgument` when `limit` is not within 1...`maxPageLimit`, or the cursor was made for the
    ///   other order.
    public func readings(
        deviceID: String, sensor: String? = nil, fromMs: Int64? = nil, toMs: Int64? = nil, limit: Int,
        order: ReadingOrder = .ascending, after cursor: ReadingCursor? = nil
    ) throws(StoreError) -> ReadingPage {
        try QueryArguments.checkLimit(limit)
        try QueryArguments.checkCursor(cursor, order: order)
        let (low, high) = QueryArguments.inclusiveRange(fromMs, toMs)
        return try readPool.withConnection { (connection) throws(StoreError) in
            try connection.readings(
                deviceID: deviceID, sensor: sensor, lowMs: low, highMs: high, limit: limit, order: order,
                after: cursor)
        }
    }

    /// A sensor's readings summed up per `stepMs` step, computed in SQL: only non-empty steps, oldest first.
    ///
    /// Steps start at multiples of `stepMs` since the Unix epoch (floored, also before 1970); a reading exactly
    /// on a step's start belongs to that step.
    /// - Throws: `.invalidArgument` when `stepMs` is not positive.
    public func series(
        deviceID: String, sensor: String, fromMs: Int64? = nil, toMs: Int64? = nil, stepMs: Int64,
        aggregate: SeriesAggregate
    ) throws(StoreError) -> [SeriesBucket] {
        try QueryArguments.checkSeriesStep(stepMs)
        let (low, high) = QueryArguments.inclusiveRange(fromMs, toMs)
        return try readPool.withConnection { (connection) throws(StoreError) in
            try connection.series(
                deviceID: deviceID, sensor: sensor, lowMs: low, highMs: high, stepMs: stepMs, aggregate: aggregate)
        }
    }

    /// The latest reading (greatest ts) of each of the device's sensors, by sensor name.
    public func latest(deviceID: String) throws(StoreError) -> [SensorLatest] {
        try readPool.withConnection { (connection) throws(StoreError) in try connection.latest(deviceID: deviceID) }
    }

    /// Devices by name, optionally only those whose name starts with `namePrefix`, continuing after the name
    /// `after` (the last name of the previous page).
    /// - Throws: `.invalidArgument` when `limit` is not within 1...`maxPageLimit`.
    public func devices(namePrefix: String? = nil, limit: Int, after: String? = nil) throws(StoreError)
        -> [DeviceSummary]
    {
        try QueryArguments.checkLimit(limit)
        return try readPool.withConnection { (connection) throws(StoreError) in
            try connection.devices(namePrefix: namePrefix ?? "", limit: limit, after: after ?? "")
        }
    }

    /// The device named `id`, or nil when it has never stored a batch.
    public func device(_ id: String) throws(StoreError) -> DeviceSummary? {
        try readPool.withConnection { (connection) throws(StoreError) in try connection.device(named: id) }
    }

    /// The persisted bandwidth counters, by protocol then device.
    public func counters() throws(StoreError) -> [CounterRow] {
        try readPool.withConnection { (connection) throws(StoreError) in try connection.counters() }
    }

    /// Bytes and readings per protocol per `stepMs` step, summing the base history buckets whose start lies in
    /// `[fromMs, toMs)`.
    /// - Throws: `.invalidArgument` unless `stepMs` is a positive multiple of the base bucket
    ///   (`configuration.historyBucketMs`), since a base bucket cannot be split.
    public func counterHistory(stepMs: Int64, fromMs: Int64? = nil, toMs: Int64? = nil) throws(StoreError)
        -> [HistoryBucket]
    {
        try QueryArguments.checkHistoryStep(stepMs, bucketMs: configuration.historyBucketMs)
        let (low, high) = QueryArguments.inclusiveRange(fromMs, toMs)
        return try readPool.withConnection { (connection) throws(StoreError) in
            try connection.counterHistory(stepMs: stepMs, lowMs: low, highMs: high)
        }
    }
}

extension TelemetryStore {
    /// The file's size and the part of it holding data (pages not on SQLite's free list), in bytes: after
    /// compaction or retention the freed pages stay in the file and are reused by later writes.
    package func diskUsage() throws(StoreError) -> (fileBytes: Int64, liveBytes: Int64) {
        try readPool.withConnection { (connection) throws(StoreError) in
            let pageSize = try connection.database.pragmaInteger("page_size")
            let pages = try connection.database.pragmaInteger("page_count")
            let free = try connection.database.pragmaInteger("freelist_count")
            return (pages * pageSize, (pages - free) * pageSize)
        }
    }
}
