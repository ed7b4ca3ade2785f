// Which batches an acknowledgement releases, as one line each for `device-sim run --acked-log`: the record a crash
// test compares with the collector's database (every acknowledged batch must be stored, exactly once, with these
// readings).
//
// Line format (space-separated, one batch per line): device id, seq, readings (all sensors), first and last reading
// time (Unix ms, every sensor has readings at the same instants), and the sum of the batch's values as the
// collector must store them (the shortest round-trip decimal of each value's double, summed in sensor-major order;
// compare with a tolerance, the order of a sum changes its last bits).

import Telemetry

/// A batch the collector acknowledged, with what it must have stored for it.
public struct AcknowledgedBatch: Equatable, Sendable {
    /// The device's id.
    public var deviceID: String
    /// The batch's seq.
    public var seq: UInt64
    /// Readings in the batch, all sensors together.
    public var readingCount: Int
    /// Time of the first reading, Unix ms.
    public var firstMs: Int64
    /// Time of the last reading, Unix ms (every sensor has a reading at that instant).
    public var lastMs: Int64
    /// Sum of the batch's values.
    public var valueSum: Double

    /// The record of `batch` of device `deviceID` with readings every `intervalMs` of `sensors`.
    public init(deviceID: String, batch: PendingBatch, sensors: [SensorKind], intervalMs: Int64) {
        self.deviceID = deviceID
        seq = batch.seq
        readingCount = batch.readingCount
        firstMs = batch.startMs
        lastMs = batch.startMs + Int64(batch.count - 1) * intervalMs
        var sum = 0.0
        for (index, kind) in sensors.enumerated() {
            for mantissa in batch.mantissas(ofSensor: index) {
                sum += DecimalGrid.value(mantissa: Int64(mantissa), exponent: kind.exponent)
            }
        }
        valueSum = sum
    }

    /// The batch as one line of the acknowledgement log, with its newline.
    public var line: String {
        "\(deviceID) \(seq) \(readingCount) \(firstMs) \(lastMs) \(valueSum)\n"
    }
}

extension DeviceFleet {
    /// The batches that `event` acknowledges for the device at `slot`, before the event is handled: those of the
    /// call in flight that the answer covers (none for any other event, or when no call is in flight).
    public func batchesAcknowledged(by event: DeviceEvent, slot: Int) -> [AcknowledgedBatch] {
        let device = devices[slot]
        guard device.call != .idle else { return [] }
        let covered: [PendingBatch]
        switch event {
        case .acked(_, let seqs, _):
            covered = device.queue.batches.prefix(device.queue.inFlight).filter { seqs.contains($0.seq) }
        case .streamAcked(let ack, _):
            covered = Array(device.queue.batches.prefix(min(device.queue.inFlight, Int(clamping: ack.batches))))
        default:
            return []
        }
        return covered.map {
            AcknowledgedBatch(
                deviceID: device.deviceID, batch: $0, sensors: device.settings.sensors,
                intervalMs: device.settings.intervalMs)
        }
    }
}
