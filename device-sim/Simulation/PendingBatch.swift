// A batch waiting in a device's buffer, kept in its smallest useful form until it is sent.
//
// Readings of a batch are taken at the same instants for every sensor (`startMs + i × interval`), so a batch needs
// one start time, one count and the mantissas, sensor-major: `mantissas[s × count + i]` is sensor s's reading i.
// That is 4 bytes per reading, about half of a `Batch` (8-byte deltas plus per-series headers) and a fifth of a
// `ReadingBatch` (8-byte timestamps and values). Both wire forms are built from it only when the batch is sent:
//
// - `makeBatch`: one `Series` per sensor with the mantissas delta-encoded and `interval_ms` set (no time deltas),
//   exactly what `Series(sensor:exponent:timestamps:values:)` produces for the same readings;
// - `makeReadingBatch`: timestamps and values, each value `DecimalGrid.value(mantissa:exponent:)`, so the JSON text
//   is the shortest decimal on the grid (`21.54`) and the collector stores the same Double by either path.

import Telemetry

/// A buffered batch: its seq, when its readings were taken, and their mantissas.
public struct PendingBatch: Equatable, Sendable {
    /// The batch's seq (the device's batch number, from 1).
    public let seq: UInt64
    /// Time of the first reading, Unix ms.
    public let startMs: Int64
    /// Readings per sensor.
    public let count: Int
    /// Mantissas, sensor-major: sensor s's reading i is at `s × count + i`.
    public let mantissas: [Int32]
    /// How many times the batch has been sent (0 until its first send).
    public internal(set) var transmissions: Int = 0

    /// A batch of `count` readings per sensor starting at `startMs`.
    public init(seq: UInt64, startMs: Int64, count: Int, mantissas: [Int32]) {
        precondition(count > 0 && mantissas.count % count == 0, "mantissas must hold count readings per sensor")
        self.seq = seq
        self.startMs = startMs
        self.count = count
        self.mantissas = mantissas
    }

    /// Readings in the batch, all sensors together.
    public var readingCount: Int { mantissas.count }

    /// Sensor s's mantissas.
    public func mantissas(ofSensor sensor: Int) -> ArraySlice<Int32> {
        mantissas[sensor * count..<(sensor + 1) * count]
    }

    /// The batch in the compact gRPC form, one series per sensor in `sensors`' order.
    public func makeBatch(sensors: [SensorKind], intervalMs: Int64) -> Batch {
        precondition(sensors.count * count == mantissas.count, "one row of mantissas per sensor")
        var series: [Series] = []
        series.reserveCapacity(sensors.count)
        for (index, kind) in sensors.enumerated() {
            var deltas: [Int64] = []
            deltas.reserveCapacity(count)
            var previous: Int64 = 0
            for mantissa in mantissas(ofSensor: index) {
                deltas.append(Int64(mantissa) - previous)
                previous = Int64(mantissa)
            }
            // One reading has no spacing: like `Series(sensor:exponent:timestamps:values:)`, say nothing about it.
            series.append(
                Series(
                    sensor: kind.name, exponent: kind.exponent, startMs: startMs,
                    intervalMs: count > 1 ? UInt32(intervalMs) : 0, mantissaDeltas: deltas))
        }
        return Batch(seq: seq, series: series)
    }

    /// The batch in the plain REST form, one sensor entry per sensor in `sensors`' order.
    public func makeReadingBatch(sensors: [SensorKind], intervalMs: Int64) -> ReadingBatch {
        precondition(sensors.count * count == mantissas.count, "one row of mantissas per sensor")
        var timestamps: [Int64] = []
        timestamps.reserveCapacity(count)
        for i in 0..<count { timestamps.append(startMs + Int64(i) * intervalMs) }
        var entries: [SensorReadings] = []
        entries.reserveCapacity(sensors.count)
        for (index, kind) in sensors.enumerated() {
            let values = mantissas(ofSensor: index).map {
                DecimalGrid.value(mantissa: Int64($0), exponent: kind.exponent)
            }
            entries.append(
                SensorReadings(
                    sensor: kind.name, exponent: kind.exponent, timestamps: timestamps,
                    values: values))
        }
        return ReadingBatch(seq: seq, sensors: entries)
    }
}
