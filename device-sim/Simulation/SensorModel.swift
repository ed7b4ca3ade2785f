// One sensor of one simulated device: a kind's model with its per-device parameters and its own random stream.
//
// Determinism: a model's stream is seeded with `mix(deviceSeed, kind number)`, and models are asked for readings in
// time order, one interval apart. So the readings of a sensor depend only on the run's seed, the device id, the
// sensor kind and the reading times (start, interval, and the device's phase, drawn within one batch period): not
// on the protocol, the other sensors, how readings are grouped into batches, or how the network behaved.
//
// Dispatch is a switch over an enum of small structs (no existential boxes, no heap): a model is at most 64 bytes
// inline, and a reading costs one or two 64-bit draws and at most one `cos`/`sin`.

import SplitMix

/// A sensor model of any kind.
enum SensorModel: Equatable, Sendable {
    /// A thermometer.
    case temperature(TemperatureModel)
    /// A hygrometer.
    case humidity(HumidityModel)
    /// A barometer.
    case pressure(PressureModel)
    /// The battery's voltage.
    case battery(BatteryModel)
    /// A CO₂ sensor.
    case co2(CO2Model)
    /// An accelerometer's RMS.
    case vibration(VibrationModel)

    /// The model of `kind` for the device seeded with `deviceSeed`, whose readings start at `originMs` and follow
    /// one another every `intervalMs`.
    init(kind: SensorKind, deviceSeed: UInt64, originMs: Int64, intervalMs: Int64) {
        let localTime = LocalTime(deviceSeed: deviceSeed)
        let seed = SplitMix64.mix(deviceSeed, kind.streamNumber)
        switch kind {
        case .temperature: self = .temperature(TemperatureModel(seed: seed, localTime: localTime))
        case .humidity: self = .humidity(HumidityModel(seed: seed, localTime: localTime))
        case .pressure: self = .pressure(PressureModel(seed: seed, intervalMs: intervalMs))
        case .battery: self = .battery(BatteryModel(seed: seed, originMs: originMs))
        case .co2: self = .co2(CO2Model(seed: seed, intervalMs: intervalMs, localTime: localTime))
        case .vibration: self = .vibration(VibrationModel(seed: seed, intervalMs: intervalMs, localTime: localTime))
        }
    }

    /// The kind of sensor this models.
    var kind: SensorKind {
        switch self {
        case .temperature: .temperature
        case .humidity: .humidity
        case .pressure: .pressure
        case .battery: .battery
        case .co2: .co2
        case .vibration: .vibration
        }
    }

    /// The next reading, taken at `ms`, as an integer mantissa on the kind's decimal grid.
    @inline(__always)
    mutating func nextMantissa(at ms: Int64) -> Int32 {
        switch self {
        case .temperature(var model):
            defer { self = .temperature(model) }
            return model.nextMantissa(at: ms)
        case .humidity(var model):
            defer { self = .humidity(model) }
            return model.nextMantissa(at: ms)
        case .pressure(var model):
            defer { self = .pressure(model) }
            return model.nextMantissa(at: ms)
        case .battery(var model):
            defer { self = .battery(model) }
            return model.nextMantissa(at: ms)
        case .co2(var model):
            defer { self = .co2(model) }
            return model.nextMantissa(at: ms)
        case .vibration(var model):
            defer { self = .vibration(model) }
            return model.nextMantissa(at: ms)
        }
    }
}
