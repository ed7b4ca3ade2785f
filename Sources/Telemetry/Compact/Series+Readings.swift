// Plain readings ⇄ the compact Series form.
//
// Encoding takes one sensor's readings with its decimal exponent, turns each value into an integer mantissa on
// that grid (refusing values off the grid rather than rounding them silently), stores the first mantissa and then
// differences, and chooses `interval_ms` when the readings are evenly spaced (then no time deltas travel),
// otherwise the n−1 gaps. Expansion reverses it exactly.

extension Series {
    /// Encodes one sensor's readings compactly. Timestamps must not decrease and every value must lie on the
    /// decimal grid of `exponent`.
    public init(sensor: String, exponent: Int32, timestamps: [Int64], values: [Double]) throws(DecodeError) {
        precondition(timestamps.count == values.count, "timestamps and values must be parallel")
        guard Identifiers.isValidSensorName(sensor) else { throw DecodeError(.invalidSensorName, path: sensor) }
        guard Self.exponentRange.contains(exponent) else { throw DecodeError(.exponentOutOfRange, path: sensor) }
        var deltas: [Int64] = []
        deltas.reserveCapacity(values.count)
        var previous: Int64 = 0
        for (i, value) in values.enumerated() {
            guard let mantissa = DecimalGrid.mantissa(of: value, exponent: exponent) else {
                throw DecodeError(.valueOffGrid, path: "\(sensor)[\(i)]")
            }
            let (delta, overflow) = mantissa.subtractingReportingOverflow(previous)
            guard !overflow else { throw DecodeError(.deltaOverflow, path: "\(sensor)[\(i)]") }
            deltas.append(delta)
            previous = mantissa
        }
        let (intervalMs, gaps) = try Self.timeEncoding(timestamps, sensor: sensor)
        self.init(sensor: sensor, exponent: exponent, startMs: timestamps.first ?? 0, intervalMs: intervalMs,
                  mantissaDeltas: deltas, timeDeltasMs: gaps)
    }

    /// `interval_ms` when every gap is the same positive value, otherwise 0 and the gaps.
    private static func timeEncoding(_ timestamps: [Int64], sensor: String) throws(DecodeError)
        -> (UInt32, [UInt32])
    {
        guard timestamps.count > 1 else { return (0, []) }
        var gaps: [UInt32] = []
        gaps.reserveCapacity(timestamps.count - 1)
        var isRegular = true
        for i in 1..<timestamps.count {
            let (gap, overflow) = timestamps[i].subtractingReportingOverflow(timestamps[i - 1])
            guard !overflow, gap >= 0 else {
                throw DecodeError(.timestampsNotAscending, path: "\(sensor)[\(i)]")
            }
            guard gap <= Int64(UInt32.max) else { throw DecodeError(.valueOutOfRange, path: "\(sensor)[\(i)]") }
            if i > 1 && UInt32(gap) != gaps[0] { isRegular = false }
            gaps.append(UInt32(gap))
        }
        if isRegular && gaps[0] > 0 { return (gaps[0], []) }
        return (0, gaps)
    }

    /// The readings' timestamps in Unix ms (the series must be valid).
    public func timestamps() -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(count)
        guard count > 0 else { return out }
        var ts = startMs
        out.append(ts)
        for i in 1..<count {
            ts = intervalMs > 0 ? ts &+ Int64(intervalMs) : ts &+ Int64(timeDeltasMs[i - 1])
            out.append(ts)
        }
        return out
    }

    /// The readings' values (the series must be valid).
    public func values() -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count)
        var mantissa: Int64 = 0
        for delta in mantissaDeltas {
            mantissa &+= delta
            out.append(DecimalGrid.value(mantissa: mantissa, exponent: exponent))
        }
        return out
    }
}

extension SensorReadings {
    /// Expands a valid compact series into plain readings, keeping its exponent.
    public init(_ series: Series) {
        self.init(sensor: series.sensor, exponent: series.exponent, timestamps: series.timestamps(),
                  values: series.values())
    }
}

extension ReadingBatch {
    /// Expands a valid Batch (as every decoded Batch is) into plain columnar readings.
    public init(_ batch: Batch) {
        self.init(seq: batch.seq, sensors: batch.series.map(SensorReadings.init))
    }
}

extension Batch {
    /// Encodes plain readings compactly. Every sensor entry needs its exponent; `defaultExponent` stands in
    /// for entries that have none.
    public init(_ readings: ReadingBatch, defaultExponent: Int32? = nil) throws(DecodeError) {
        var series: [Series] = []
        series.reserveCapacity(readings.sensors.count)
        for entry in readings.sensors {
            guard let exponent = entry.exponent ?? defaultExponent else {
                throw DecodeError(.exponentOutOfRange, path: "\(entry.sensor).exponent")
            }
            series.append(try Series(sensor: entry.sensor, exponent: exponent, timestamps: entry.timestamps,
                                     values: entry.values))
        }
        self.init(seq: readings.seq, series: series)
    }
}
