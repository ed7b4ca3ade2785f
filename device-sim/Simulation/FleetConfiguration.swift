// A run's fleet: how many devices, their names, their protocols, and the seed their readings come from.
//
// Device i (0-based) is named `prefix` + i + 1 zero-padded to five digits (`dev-00001` … `dev-10000`), uses
// `protocolMode.protocolForDevice(at: i)`, and is seeded with `mix(seed, hash(name))`: its readings depend on the
// run's seed and its name only, so the same device reads the same in a fleet of 10 or of 10,000.

/// The fleet of a run; see above.
public struct FleetConfiguration: Equatable, Sendable {
    /// The run's seed (`--seed`).
    public var seed: UInt64
    /// How many devices (`--devices`).
    public var deviceCount: Int
    /// Which protocols they use (`--protocol`).
    public var protocolMode: ProtocolMode
    /// What every device measures and how it sends.
    public var settings: DeviceSettings
    /// The start of every device name.
    public var deviceIDPrefix: String

    /// A fleet of `deviceCount` devices named `dev-00001`… by default.
    public init(
        seed: UInt64, deviceCount: Int, protocolMode: ProtocolMode, settings: DeviceSettings,
        deviceIDPrefix: String = "dev-"
    ) {
        self.seed = seed
        self.deviceCount = deviceCount
        self.protocolMode = protocolMode
        self.settings = settings
        self.deviceIDPrefix = deviceIDPrefix
    }

    /// The name of device `index` (0-based).
    public func deviceID(at index: Int) -> String {
        let number = String(index + 1)
        return deviceIDPrefix + String(repeating: "0", count: max(0, 5 - number.count)) + number
    }

    /// Device `index` (0-based), ready for `.start`.
    public func makeDevice(at index: Int) -> SimulatedDevice {
        SimulatedDevice(
            deviceID: deviceID(at: index), deviceProtocol: protocolMode.protocolForDevice(at: index), seed: seed,
            settings: settings)
    }

    /// How many devices use each protocol.
    public var protocolCounts: [DeviceProtocol: Int] {
        var counts: [DeviceProtocol: Int] = [:]
        for index in 0..<deviceCount { counts[protocolMode.protocolForDevice(at: index), default: 0] += 1 }
        return counts
    }
}
