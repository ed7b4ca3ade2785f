/// What the store knows about one device.
public struct DeviceSummary: Equatable, Sendable {
    /// Device id.
    public var name: String
    /// Wall-clock time the device's first batch was stored, Unix ms.
    public var firstSeenMs: Int64
    /// Wall-clock time the device's latest batch was stored, Unix ms.
    public var lastSeenMs: Int64
    /// Readings stored for the device.
    public var readings: Int64
    /// Distinct batches stored for the device.
    public var batches: Int64
    /// Highest seq stored.
    public var lastSeq: UInt64
    /// The device's sensor names, sorted.
    public var sensors: [String]

    /// A summary with the given fields.
    public init(
        name: String, firstSeenMs: Int64, lastSeenMs: Int64, readings: Int64, batches: Int64, lastSeq: UInt64,
        sensors: [String]
    ) {
        self.name = name
        self.firstSeenMs = firstSeenMs
        self.lastSeenMs = lastSeenMs
        self.readings = readings
        self.batches = batches
        self.lastSeq = lastSeq
        self.sensors = sensors
    }
}

/// The latest reading of one sensor, for dashboards.
public struct SensorLatest: Equatable, Sendable {
    /// Sensor name.
    public var sensor: String
    /// The decimal exponent the device declared, nil when none was declared.
    public var exponent: Int32?
    /// Time of the latest reading (greatest ts), Unix ms.
    public var ts: Int64
    /// Its value.
    public var value: Double
    /// Readings stored for the sensor.
    public var readings: Int64

    /// A latest reading with the given fields.
    public init(sensor: String, exponent: Int32?, ts: Int64, value: Double, readings: Int64) {
        self.sensor = sensor
        self.exponent = exponent
        self.ts = ts
        self.value = value
        self.readings = readings
    }
}
