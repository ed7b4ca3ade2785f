// The sensors a simulated device can carry, each with the decimal resolution a real part of its kind reports.
//
// The resolution is the sensor's exponent in the compact gRPC encoding (`value = mantissa × 10^exponent`): models
// produce integer mantissas on that grid, so the gRPC and REST paths carry exactly the same values and the
// delta-encoded mantissas stay small.

/// A kind of sensor: its wire name, decimal resolution and unit.
public enum SensorKind: String, CaseIterable, Equatable, Hashable, Sendable {
    /// Air temperature in °C at 0.01 °C (exponent −2).
    case temperature
    /// Relative humidity in %RH at 0.1 % (exponent −1).
    case humidity
    /// Barometric pressure in hPa at 0.1 hPa (exponent −1).
    case pressure
    /// Battery voltage in V at 1 mV (exponent −3).
    case battery
    /// CO₂ concentration in ppm at 1 ppm (exponent 0).
    case co2
    /// Vibration RMS acceleration in g at 0.001 g (exponent −3).
    case vibration

    /// The sensor name on the wire (`Series.sensor`, the REST `sensor` field).
    public var name: String { rawValue }

    /// The decimal exponent of the sensor's resolution: readings are `mantissa × 10^exponent`.
    public var exponent: Int32 {
        switch self {
        case .temperature: -2
        case .humidity: -1
        case .pressure: -1
        case .battery: -3
        case .co2: 0
        case .vibration: -3
        }
    }

    /// The unit, for people.
    public var unit: String {
        switch self {
        case .temperature: "°C"
        case .humidity: "%RH"
        case .pressure: "hPa"
        case .battery: "V"
        case .co2: "ppm"
        case .vibration: "g"
        }
    }

    /// A fixed number per kind that seeds the kind's random stream (never reorder: it would change every reading).
    var streamNumber: UInt64 {
        switch self {
        case .temperature: 1
        case .humidity: 2
        case .pressure: 3
        case .battery: 4
        case .co2: 5
        case .vibration: 6
        }
    }

    /// The sensor named `name` (as on the wire), or nil.
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// The sensors of a comma-separated list such as `temperature,humidity,pressure,battery` (the `--sensors` flag):
    /// names in the order given, without duplicates. Fails with the first unknown name, or when the list is empty.
    public static func list(parsing text: String) -> Result<[SensorKind], UnknownSensor> {
        var kinds: [SensorKind] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(part)
            guard let kind = SensorKind(name: name) else { return .failure(UnknownSensor(name: name)) }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return .success(kinds)
    }

    /// A sensor name the simulator has no model for.
    public struct UnknownSensor: Error, Equatable, Sendable, CustomStringConvertible {
        /// The name as given.
        public var name: String

        /// The error for `name`.
        public init(name: String) {
            self.name = name
        }

        /// A sentence naming the problem and the known sensors.
        public var description: String {
            let known = SensorKind.allCases.map(\.name).joined(separator: ", ")
            return "unknown sensor '\(name)' (known: \(known))"
        }
    }
}
