// What the commit feed carries: one device's readings as one transaction stored them, and the filter a watcher
// applies to them.
//
// Rule. A committed batch holds exactly the readings its transaction newly stored: a duplicate batch (its
// `(device, seq)` already stored) is not in the feed at all, and of a batch whose readings were partly stored
// before (first write wins per `(sensor, ts)`), only the readings stored now are. Each entry's readings are in
// increasing ts order. `seq` is the batch's seq; a replayed batch (read back from the stored chunks, which keep no
// seq) has seq 0.

import Synchronization
import Telemetry

/// One device's newly stored readings from one committed batch (or one page of a replay): what a watcher sees.
public struct CommittedBatch: Equatable, Sendable {
    /// The device that sent the batch.
    public var deviceID: String
    /// The newly stored readings, entry by entry in the batch's order, each entry in ts order (see above).
    public var batch: ReadingBatch
    /// What consumers derive from this value once for all of them (every watcher that follows all its sensors
    /// sends the same message); a filtered copy gets a fresh one.
    public let shared = CommittedBatchMemo()
    /// Monotonic ns of the COMMIT that stored the readings (`MonotonicClock`); 0 for a replayed page.
    public var committedAtNs: UInt64 = 0

    /// Memberwise.
    public init(deviceID: String, batch: ReadingBatch) {
        self.deviceID = deviceID
        self.batch = batch
    }

    /// Equal device and readings (the memo is not part of the value).
    public static func == (lhs: CommittedBatch, rhs: CommittedBatch) -> Bool {
        lhs.deviceID == rhs.deviceID && lhs.batch == rhs.batch
    }
}

/// A value computed once from a `CommittedBatch` and shared by the consumers on every thread: the first to ask
/// computes it (outside the lock: a second consumer asking meanwhile computes it too, and the first stored wins).
public final class CommittedBatchMemo: Sendable {
    private let stored = Mutex<[UInt8]?>(nil)

    /// The bytes `make` computes, computed at most once per consumer and normally once in all.
    public func bytes(_ make: () -> [UInt8]) -> [UInt8] {
        if let known = stored.withLock({ $0 }) { return known }
        let made = make()
        return stored.withLock { value in
            if let value { return value }
            value = made
            return made
        }
    }
}

/// Which devices and sensors a watcher follows; an empty set means all. It exists so the writer thread hands each
/// watcher only what it asked for, and the replay reads only those series.
public struct CommitFilter: Equatable, Sendable {
    /// Devices to follow; empty: all.
    public var devices: Set<String>
    /// Sensors to follow; empty: all.
    public var sensors: Set<String>

    /// A filter; the defaults follow everything.
    public init(devices: Set<String> = [], sensors: Set<String> = []) {
        self.devices = devices
        self.sensors = sensors
    }

    /// True when the device is followed.
    public func follows(device: String) -> Bool { devices.isEmpty || devices.contains(device) }

    /// True when the sensor is followed.
    public func follows(sensor: String) -> Bool { sensors.isEmpty || sensors.contains(sensor) }

    /// The part of `committed` this filter follows, nil when nothing of it is followed.
    public func apply(_ committed: CommittedBatch) -> CommittedBatch? {
        guard follows(device: committed.deviceID) else { return nil }
        if sensors.isEmpty { return committed }
        let entries = committed.batch.sensors.filter { sensors.contains($0.sensor) }
        guard !entries.isEmpty else { return nil }
        return CommittedBatch(
            deviceID: committed.deviceID, batch: ReadingBatch(seq: committed.batch.seq, sensors: entries))
    }
}
