import Testing

@testable import Simulation

/// Per-device memory: a 10,000-device run must fit easily, so a device stays well under 2 KB besides its readings.
@Suite struct MemoryTests {
    @Test func aDeviceIsWellUnderTwoKilobytesBesidesItsReadings() {
        let settings = makeSettings(sensors: SensorKind.allCases, clock: .maxRate(start: testStartMs))
        var harness = DeviceHarness(makeDevice(protocol: .grpcStream, settings: settings))
        harness.send(.start)
        harness.send(.connected)  // a full window of six batches in flight
        let device = harness.device
        #expect(MemoryLayout<SimulatedDevice>.size <= 640, "inline \(MemoryLayout<SimulatedDevice>.size) B")
        #expect(MemoryLayout<SensorModel>.stride <= 72)
        #expect(device.queue.count == 6)
        #expect(device.stateBytes < 1_536, "state \(device.stateBytes) B")
        // Six batches of 10 readings × 6 sensors: 4 bytes per reading plus a header per batch (malloc may round each
        // array up by a few elements).
        #expect(device.bufferedBytes >= 6 * (32 + 60 * 4) && device.bufferedBytes <= 6 * (32 + 64 * 4))
    }

    @Test func theEstimateCountsWhatTheDeviceOwns() {
        let small = makeDevice(settings: makeSettings(sensors: [.co2]))
        let large = makeDevice(settings: makeSettings(sensors: SensorKind.allCases))
        #expect(large.stateBytes - small.stateBytes == 5 * MemoryLayout<SensorModel>.stride)
        let name = "a-device-name-longer-than-fifteen-bytes"
        let longName = makeDevice(name, settings: makeSettings(sensors: [.co2]))
        #expect(longName.stateBytes == small.stateBytes + 32 + name.utf8.count)
    }
}
