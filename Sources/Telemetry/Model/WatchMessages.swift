// The messages of the `Watch` RPC (schema/telemetry/v1/telemetry.proto): what a watcher asks for, and each
// device's committed readings as they stream back.

/// What a `Watch` call follows (protobuf message `WatchRequest`).
public struct WatchRequest: Equatable, Sendable {
    /// Devices to follow; empty: all devices.
    public var devices: [String]
    /// Sensors to follow; empty: all sensors.
    public var sensors: [String]
    /// 0: only what is committed from now on; otherwise first replay the stored readings from this time (Unix ms).
    public var sinceMs: Int64

    /// Memberwise; the defaults follow everything from now on.
    public init(devices: [String] = [], sensors: [String] = [], sinceMs: Int64 = 0) {
        self.devices = devices
        self.sensors = sensors
        self.sinceMs = sinceMs
    }
}

/// One device's committed readings in one `Watch` message (protobuf message `DeviceBatch`). The batch's seq is the
/// committed batch's; replayed readings (read back from storage, which keeps no seq) carry seq 0.
public struct DeviceBatch: Equatable, Sendable {
    /// The device the readings are from.
    public var device: String
    /// The readings in the compact form; no stream context (every series names its sensor).
    public var batch: Batch

    /// Memberwise.
    public init(device: String, batch: Batch) {
        self.device = device
        self.batch = batch
    }
}
