/// One reading in its plain form: what a REST client sends and what a query returns.
public struct Reading: Equatable, Sendable {
    /// Sensor name, matching `[a-z0-9_.-]{1,64}`.
    public var sensor: String
    /// Unix milliseconds.
    public var ts: Int64
    /// The reading's value.
    public var value: Double

    /// Memberwise; the sensor name and the value are not checked here.
    public init(sensor: String, ts: Int64, value: Double) {
        self.sensor = sensor
        self.ts = ts
        self.value = value
    }
}

/// One sensor's readings in plain columnar form: parallel arrays of timestamps and values.
///
/// This is the shape both ingest paths converge on before storage: the gRPC path expands a `Series` into it,
/// the REST path groups its JSON readings by sensor into it.
public struct SensorReadings: Equatable, Sendable {
    /// Sensor name, matching `[a-z0-9_.-]{1,64}`.
    public var sensor: String
    /// The decimal exponent the device declared (gRPC), or nil when unknown (REST sends plain numbers).
    public var exponent: Int32?
    /// Unix milliseconds, one per reading, in the order the device sent them.
    public var timestamps: [Int64]
    /// Values, parallel to `timestamps`; always finite (both decoders guarantee it, and the store refuses a batch
    /// that breaks it).
    public var values: [Double]

    /// Memberwise; traps unless `timestamps` and `values` have the same count.
    public init(sensor: String, exponent: Int32?, timestamps: [Int64], values: [Double]) {
        precondition(timestamps.count == values.count, "timestamps and values must be parallel")
        self.sensor = sensor
        self.exponent = exponent
        self.timestamps = timestamps
        self.values = values
    }

    /// Number of readings.
    public var count: Int { timestamps.count }
}

/// A validated batch in plain columnar form: what the store ingests, whichever protocol it came by.
public struct ReadingBatch: Equatable, Sendable {
    /// Per-device batch number, starting at 1.
    public var seq: UInt64
    /// Readings grouped by sensor entry, in the order they arrived.
    public var sensors: [SensorReadings]

    /// A batch from its parts; decoders validate, values built in code are the caller's responsibility.
    public init(seq: UInt64, sensors: [SensorReadings]) {
        self.seq = seq
        self.sensors = sensors
    }

    /// Number of readings in the batch.
    public var readingCount: Int { sensors.reduce(0) { $0 + $1.count } }

    /// The readings one by one, sensor entry by sensor entry.
    public var readings: [Reading] {
        var out: [Reading] = []
        out.reserveCapacity(readingCount)
        for entry in sensors {
            for i in 0..<entry.count {
                out.append(Reading(sensor: entry.sensor, ts: entry.timestamps[i], value: entry.values[i]))
            }
        }
        return out
    }
}
