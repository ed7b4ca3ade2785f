import Testing

@testable import Simulation

/// Settings a run cannot use are refused with a sentence the CLI can print.
@Suite struct DeviceSettingsTests {
    @Test func explainsWhatCannotRun() {
        func problem(sensors: [SensorKind] = [.co2], interval: Int64 = 1_000, batch: Int64 = 10_000) -> String? {
            DeviceSettings(sensors: sensors, intervalMs: interval, batchMs: batch, clock: .maxRate(start: 0)).problem
        }
        #expect(problem() == nil)
        #expect(problem(sensors: []) == "at least one sensor is needed")
        #expect(problem(interval: 0) == "the interval must be 1 ms to 49 days")
        #expect(problem(batch: 999) == "the batch period must be at least one interval")
        #expect(problem(interval: 1, batch: 50_000) == nil)
        #expect(
            problem(interval: 1, batch: 50_001)
                == "a batch may hold at most 50,000 readings (sensors × batch / interval)")
        #expect(problem(sensors: [.co2, .battery], interval: 1, batch: 25_001) != nil)
        #expect(
            DeviceSettings(sensors: [.co2], intervalMs: 1, batchMs: 1, clock: .maxRate(start: 0), streamBatches: 0)
                .problem == "a stream carries at least one batch")
    }

    @Test func aDeviceWhoseRunEndsBeforeItsFirstReadingFinishesAtOnce() {
        let settings = makeSettings(durationMs: 0)
        var harness = DeviceHarness(makeDevice(settings: settings))
        #expect(harness.send(.start) == [.finished])
        #expect(harness.device.statistics.batchesGenerated == 0)
    }
}
