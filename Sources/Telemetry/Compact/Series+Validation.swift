// The contract's rules for a Series, checked once so that expanding a valid series can never overflow or trap.

extension Series {
    /// The exponents a series may declare: −30…30 keeps every value a finite Double.
    public static let exponentRange: ClosedRange<Int32> = -30...30

    /// Throws the first broken rule: sensor name, exponent range, interval/time-delta consistency, the n−1
    /// time-delta count, mantissa sums and timestamps within Int64. `path` prefixes the field names in errors.
    public func validate(path: String = "series", offset: Int = 0) throws(DecodeError) {
        guard Identifiers.isValidSensorName(sensor) else {
            throw DecodeError(.invalidSensorName, path: "\(path).sensor", offset: offset)
        }
        guard Self.exponentRange.contains(exponent) else {
            throw DecodeError(.exponentOutOfRange, path: "\(path).exponent", offset: offset)
        }
        if intervalMs > 0 {
            guard timeDeltasMs.isEmpty else {
                throw DecodeError(.intervalWithTimeDeltas, path: "\(path).time_deltas_ms", offset: offset)
            }
        } else {
            let expected = Swift.max(count - 1, 0)
            guard timeDeltasMs.count == expected else {
                throw DecodeError(.timeDeltaCount(expected: expected, got: timeDeltasMs.count),
                                  path: "\(path).time_deltas_ms", offset: offset)
            }
        }
        var mantissa: Int64 = 0
        for delta in mantissaDeltas {
            let (sum, overflow) = mantissa.addingReportingOverflow(delta)
            guard !overflow else { throw DecodeError(.deltaOverflow, path: "\(path).mantissa_deltas", offset: offset) }
            mantissa = sum
        }
        guard count > 1 else { return }
        if intervalMs > 0 {
            let (span, spanOverflow) = Int64(count - 1).multipliedReportingOverflow(by: Int64(intervalMs))
            let (_, endOverflow) = startMs.addingReportingOverflow(span)
            guard !spanOverflow, !endOverflow else {
                throw DecodeError(.timestampOverflow, path: "\(path).interval_ms", offset: offset)
            }
        } else {
            var ts = startMs
            for gap in timeDeltasMs {
                let (next, overflow) = ts.addingReportingOverflow(Int64(gap))
                guard !overflow else {
                    throw DecodeError(.timestampOverflow, path: "\(path).time_deltas_ms", offset: offset)
                }
                ts = next
            }
        }
    }
}
