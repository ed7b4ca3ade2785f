import Simulation
import Testing

/// Sensor names and resolutions, and the `--sensors` list.
@Suite struct SensorKindTests {
    @Test(arguments: [
        (SensorKind.temperature, Int32(-2)), (.humidity, -1), (.pressure, -1), (.battery, -3), (.co2, 0),
        (.vibration, -3),
    ])
    func eachSensorHasItsResolution(kind: SensorKind, exponent: Int32) {
        #expect(kind.exponent == exponent)
        #expect(SensorKind(name: kind.name) == kind)
    }

    @Test func parsesTheSensorsFlag() throws {
        #expect(
            try SensorKind.list(parsing: "temperature,humidity,pressure,battery").get()
                == [.temperature, .humidity, .pressure, .battery])
        #expect(try SensorKind.list(parsing: "co2,co2,vibration").get() == [.co2, .vibration])
        #expect(throws: SensorKind.UnknownSensor(name: "wind")) { try SensorKind.list(parsing: "co2,wind").get() }
        #expect(throws: SensorKind.UnknownSensor(name: "")) { try SensorKind.list(parsing: "").get() }
    }
}
