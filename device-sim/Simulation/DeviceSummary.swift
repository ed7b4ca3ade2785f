// What the report needs of one device once the run is over (or at any moment, for a live view).

/// One device's figures for the report: who it is, what it counted, what it still held at the end.
public struct DeviceSummary: Equatable, Sendable {
    /// The device's name.
    public var deviceID: String
    /// Its protocol.
    public var deviceProtocol: DeviceProtocol
    /// Its counters.
    public var statistics: DeviceStatistics
    /// Batches still buffered (never acknowledged nor dropped).
    public var bufferedBatches: Int
    /// Readings in them.
    public var bufferedReadings: Int
    /// The authentication refusal that stopped the device, if one did.
    public var stoppedBy: DeviceFailure?

    /// A summary from its parts.
    public init(
        deviceID: String, deviceProtocol: DeviceProtocol, statistics: DeviceStatistics, bufferedBatches: Int = 0,
        bufferedReadings: Int = 0, stoppedBy: DeviceFailure? = nil
    ) {
        self.deviceID = deviceID
        self.deviceProtocol = deviceProtocol
        self.statistics = statistics
        self.bufferedBatches = bufferedBatches
        self.bufferedReadings = bufferedReadings
        self.stoppedBy = stoppedBy
    }
}
