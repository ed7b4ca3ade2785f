// The brute-force model every conformance test checks a backend against: what a storage holds after a sequence of
// batches, computed the obvious way, from the rules of TelemetryStorage.swift and BatchOutcome.swift:
// - `(device, seq)` is stored at most once: a second batch with a stored seq is a duplicate and stores nothing;
//   lastSeq is the highest stored seq;
// - first write wins per `(device, sensor, ts)`, in batch order (entry by entry, reading by reading): a stored
//   reading never changes, and `readingsStored` counts exactly the readings stored now;
// - the first exponent declared for a series is kept;
// - a batch that failed stores nothing (the test does not apply it).

import Storage
import Telemetry

/// What a storage holds, computed by brute force from the batches it stored.
struct StorageModel {
    /// device → sensor → ts → value (a sensor appears once it has a reading).
    var readings: [String: [String: [Int64: Double]]] = [:]
    /// device → sensor → the first exponent declared.
    var exponents: [String: [String: Int32]] = [:]
    /// device → the seqs stored.
    var seqs: [String: Set<UInt64>] = [:]

    /// Applies a batch that the storage accepted and returns the outcome the storage must report, with the
    /// readings it newly stored (what the commit feed carries), entry by entry in batch order.
    @discardableResult
    mutating func apply(deviceID: String, batch: ReadingBatch) -> (outcome: BatchOutcome, stored: [Reading]) {
        guard seqs[deviceID]?.contains(batch.seq) != true else {
            return (BatchOutcome(readingsStored: 0, isDuplicate: true, lastSeq: lastSeq(deviceID)), [])
        }
        seqs[deviceID, default: []].insert(batch.seq)
        var stored: [Reading] = []
        for entry in batch.sensors where entry.count > 0 {
            for (ts, value) in zip(entry.timestamps, entry.values)
            where readings[deviceID]?[entry.sensor]?[ts] == nil {
                readings[deviceID, default: [:]][entry.sensor, default: [:]][ts] = value
                stored.append(Reading(sensor: entry.sensor, ts: ts, value: value))
            }
            if let exponent = entry.exponent, exponents[deviceID]?[entry.sensor] == nil {
                exponents[deviceID, default: [:]][entry.sensor] = exponent
            }
        }
        let outcome = BatchOutcome(readingsStored: stored.count, isDuplicate: false, lastSeq: lastSeq(deviceID))
        return (outcome, stored)
    }

    /// The device's highest stored seq (0 when none).
    func lastSeq(_ deviceID: String) -> UInt64 { seqs[deviceID]?.max() ?? 0 }

    /// Devices that stored at least one batch, by name.
    var deviceNames: [String] { seqs.keys.sorted() }

    /// How many readings the device holds.
    func readingCount(_ deviceID: String) -> Int {
        (readings[deviceID] ?? [:]).values.reduce(0) { $0 + $1.count }
    }

    /// The device's readings in [fromMs, toMs), sorted by (ts, sensor).
    func sortedReadings(deviceID: String, sensor: String? = nil, fromMs: Int64? = nil, toMs: Int64? = nil)
        -> [Reading]
    {
        var rows: [Reading] = []
        for (name, series) in readings[deviceID] ?? [:] where sensor == nil || sensor == name {
            for (ts, value) in series where ts >= (fromMs ?? .min) && (toMs.map { ts < $0 } ?? true) {
                rows.append(Reading(sensor: name, ts: ts, value: value))
            }
        }
        return rows.sorted { ($0.ts, $0.sensor) < ($1.ts, $1.sensor) }
    }

    /// The device's summary fields the model knows (not the wall-clock times).
    func summary(_ deviceID: String) -> (readings: Int64, batches: Int64, lastSeq: UInt64, sensors: [String])? {
        guard let stored = seqs[deviceID] else { return nil }
        return (
            Int64(readingCount(deviceID)), Int64(stored.count), lastSeq(deviceID),
            (readings[deviceID] ?? [:]).keys.sorted()
        )
    }

    /// The latest reading of each of the device's sensors, by sensor name.
    func latest(_ deviceID: String) -> [SensorLatest] {
        (readings[deviceID] ?? [:]).sorted { $0.key < $1.key }.compactMap { sensor, series in
            series.max { $0.key < $1.key }.map { ts, value in
                SensorLatest(
                    sensor: sensor, exponent: exponents[deviceID]?[sensor], ts: ts, value: value,
                    readings: Int64(series.count))
            }
        }
    }

    /// The series buckets of a sensor: floor(ts / step) in exact integer arithmetic, aggregates in ts order.
    func buckets(
        deviceID: String, sensor: String, fromMs: Int64?, toMs: Int64?, stepMs: Int64, aggregate: SeriesAggregate
    ) -> [SeriesBucket] {
        var groups: [Int64: [(Int64, Double)]] = [:]
        for (ts, value) in readings[deviceID]?[sensor] ?? [:]
        where ts >= (fromMs ?? .min) && (toMs.map { ts < $0 } ?? true) {
            groups[floorToMultiple(ts, stepMs), default: []].append((ts, value))
        }
        return groups.keys.sorted().map { start in
            let rows = groups[start]!.sorted { $0.0 < $1.0 }
            let values = rows.map(\.1)
            let value: Double =
                switch aggregate {
                case .avg: values.reduce(0, +) / Double(values.count)
                case .min: values.min()!
                case .max: values.max()!
                case .sum: values.reduce(0, +)
                case .count: Double(values.count)
                case .last: rows.last!.1
                }
            return SeriesBucket(startMs: start, value: value, count: rows.count)
        }
    }
}

/// The largest multiple of `step` not above `value` (a true floor, also below zero); Int64.min when that multiple
/// is below Int64.min (a reading within one step of the first millisecond of time: its bucket is a little short).
func floorToMultiple(_ value: Int64, _ step: Int64) -> Int64 {
    let remainder = value % step
    guard remainder < 0 else { return value - remainder }
    let (start, overflow) = (value - remainder).subtractingReportingOverflow(step)
    return overflow ? .min : start
}

/// A batch from `(sensor, [(ts, value)])` pairs, every entry declaring `exponent`.
func makeBatch(seq: UInt64, exponent: Int32? = nil, _ sensors: [(String, [(Int64, Double)])]) -> ReadingBatch {
    ReadingBatch(
        seq: seq,
        sensors: sensors.map { name, readings in
            SensorReadings(sensor: name, exponent: exponent, timestamps: readings.map(\.0), values: readings.map(\.1))
        })
}
