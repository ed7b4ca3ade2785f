/// How `TelemetryStore.series` sums up the readings of one time step.
public enum SeriesAggregate: String, CaseIterable, Equatable, Sendable {
    /// Mean of the values.
    case avg
    /// Smallest value.
    case min
    /// Largest value.
    case max
    /// Sum of the values.
    case sum
    /// Number of readings (as the bucket's value too).
    case count
    /// Value of the reading with the latest ts in the step.
    case last
}

/// One non-empty time step of a sensor's series.
public struct SeriesBucket: Equatable, Sendable {
    /// Start of the step, Unix ms: a multiple of the step since the epoch (floored, also before 1970).
    public var startMs: Int64
    /// The aggregate of the step's readings.
    public var value: Double
    /// Number of readings in the step.
    public var count: Int

    /// A bucket with the given fields.
    public init(startMs: Int64, value: Double, count: Int) {
        self.startMs = startMs
        self.value = value
        self.count = count
    }
}
