// Stored readings (Doubles) back into the compact Series form, for the Watch stream.
//
// Rule. Each entry is encoded on its declared exponent when every value lies on that grid (the common case: the
// device sent them so). Otherwise (a REST batch has no exponent; a series may have kept another exponent than the
// batch declared) each value's coarsest grid is found (the largest exponent in `exponentRange` holding it exactly)
// and the entry is encoded on the finest of them; when that cannot work (mantissas or their deltas overflow, a gap
// passes 2^32 ms) the entry is split in halves until each part encodes. Values are reproduced exactly; a value on
// no grid of the range (beyond 10^±30 precision) is left out. Timestamps must not decrease (stored readings are
// in ts order).

extension Series {
    /// One or more series holding exactly `entry`'s readings (see the rule above); empty for no readings.
    public static func packing(_ entry: SensorReadings) -> [Series] {
        guard entry.count > 0 else { return [] }
        if let exponent = entry.exponent,
            let series = try? Series(
                sensor: entry.sensor, exponent: exponent, timestamps: entry.timestamps, values: entry.values)
        {
            return [series]
        }
        var times: [Int64] = []
        var values: [Double] = []
        var exponents: [Int32] = []
        for index in 0..<entry.count {
            guard let exponent = coarsestExponent(of: entry.values[index]) else { continue }
            times.append(entry.timestamps[index])
            values.append(entry.values[index])
            exponents.append(exponent)
        }
        var out: [Series] = []
        pack(entry.sensor, times[...], values[...], exponents[...], into: &out)
        return out
    }

    /// The largest exponent whose grid holds `value` exactly; nil when none in the range does.
    static func coarsestExponent(of value: Double) -> Int32? {
        var exponent = exponentRange.upperBound
        while exponent >= exponentRange.lowerBound {
            if DecimalGrid.mantissa(of: value, exponent: exponent) != nil { return exponent }
            exponent -= 1
        }
        return nil
    }

    private static func pack(
        _ sensor: String, _ times: ArraySlice<Int64>, _ values: ArraySlice<Double>, _ exponents: ArraySlice<Int32>,
        into out: inout [Series]
    ) {
        guard let exponent = exponents.min() else { return }
        if let series = try? Series(
            sensor: sensor, exponent: exponent, timestamps: Array(times), values: Array(values))
        {
            out.append(series)
            return
        }
        guard times.count > 1 else { return }  // a single value always fits its own grid; unreachable
        let middle = times.startIndex + times.count / 2
        pack(sensor, times[..<middle], values[..<middle], exponents[..<middle], into: &out)
        pack(sensor, times[middle...], values[middle...], exponents[middle...], into: &out)
    }
}

extension DeviceBatch {
    /// The message for one device's plain readings (committed or replayed), packed with `Series.packing`.
    public init(device: String, readings: ReadingBatch) {
        self.init(device: device, batch: Batch(seq: readings.seq, series: readings.sensors.flatMap(Series.packing)))
    }
}
