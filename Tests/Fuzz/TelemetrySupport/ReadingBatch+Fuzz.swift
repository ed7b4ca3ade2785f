// Comparisons the protobuf and JSON harnesses share (compiled into the Telemetry module with them).

extension ReadingBatch {
    /// Whether both hold the same seq, sensors, exponents, timestamps and values, comparing values by their bits
    /// (so `-0.0` and `0.0` differ, which `==` on Double would hide).
    func isIdentical(to other: ReadingBatch) -> Bool {
        guard seq == other.seq, sensors.count == other.sensors.count else { return false }
        for (mine, theirs) in zip(sensors, other.sensors) {
            guard mine.sensor == theirs.sensor, mine.exponent == theirs.exponent, mine.timestamps == theirs.timestamps,
                mine.values.map(\.bitPattern) == theirs.values.map(\.bitPattern)
            else { return false }
        }
        return true
    }

    /// The readings grouped as the JSON decoder groups them: one entry per sensor in order of first appearance,
    /// each with its readings in arrival order, no exponent, and no entry for a sensor without readings.
    func groupedBySensor() -> ReadingBatch {
        var order: [String] = []
        var timestamps: [String: [Int64]] = [:]
        var values: [String: [Double]] = [:]
        for entry in sensors where entry.count > 0 {
            if timestamps[entry.sensor] == nil { order.append(entry.sensor) }
            timestamps[entry.sensor, default: []] += entry.timestamps
            values[entry.sensor, default: []] += entry.values
        }
        return ReadingBatch(
            seq: seq,
            sensors: order.map {
                SensorReadings(sensor: $0, exponent: nil, timestamps: timestamps[$0]!, values: values[$0]!)
            })
    }
}

extension DecodeError.Reason {
    /// Whether this is a refusal for size (a limit), as opposed to malformed or invalid content.
    var isLimit: Bool {
        switch self {
        case .tooManySeries, .tooManyReadings, .messageTooLarge, .tooManyStreamEntries: true
        default: false
        }
    }
}

/// A decode's outcome as one comparable value.
typealias DecodeOutcome<Value: Equatable> = Result<Value, DecodeError>

/// Runs a throwing decode and captures its outcome.
func outcome<Value>(_ body: () throws(DecodeError) -> Value) -> DecodeOutcome<Value> {
    do { return .success(try body()) } catch { return .failure(error) }
}

/// A copy of `bytes` that starts at a non-zero index of its array, to catch offsets computed from the wrong base.
func offsetSlice(_ bytes: UnsafeRawBufferPointer) -> ArraySlice<UInt8> {
    ([0xEE, 0xEE, 0xEE] + Array(bytes))[3...]
}
