import Telemetry

@testable import Simulation

/// 2024-11-21T12:00:00Z: a fixed start so every test run sees the same simulated days.
let testStartMs: Int64 = 1_732_190_400_000

/// Settings for tests: four sensors, 1 s readings in 10 s batches, paced at real time unless told otherwise.
func makeSettings(
    sensors: [SensorKind] = [.temperature, .humidity, .pressure, .battery], intervalMs: Int64 = 1_000,
    batchMs: Int64 = 10_000, clock: SimulatedClock = SimulatedClock(start: testStartMs, speedup: 1),
    durationMs: Int64? = nil, streamBatches: Int = 6, bufferCapacity: Int = 64,
    backoff: BackoffPolicy = BackoffPolicy()
) -> DeviceSettings {
    DeviceSettings(
        sensors: sensors, intervalMs: intervalMs, batchMs: batchMs, clock: clock, durationMs: durationMs,
        streamBatches: streamBatches, bufferCapacity: bufferCapacity, backoff: backoff)
}

/// A device of the run seeded with `seed`.
func makeDevice(
    _ id: String = "dev-00001", protocol deviceProtocol: DeviceProtocol = .grpcStream, seed: UInt64 = 42,
    settings: DeviceSettings = makeSettings()
) -> SimulatedDevice {
    SimulatedDevice(deviceID: id, deviceProtocol: deviceProtocol, seed: seed, settings: settings)
}

/// The first `count` batches a device produces, taken straight from its production (no network involved).
func produceBatches(_ device: inout SimulatedDevice, count: Int) -> [PendingBatch] {
    var batches: [PendingBatch] = []
    for _ in 0..<count {
        device.produceNextBatch()
        while let batch = device.queue.sendNext() { batches.append(batch) }
        _ = device.queue.dropInFlight()
    }
    return batches.map { PendingBatch(seq: $0.seq, startMs: $0.startMs, count: $0.count, mantissas: $0.mantissas) }
}

/// One sensor's readings from a list of batches, as (timestamp, value) pairs in time order.
func readings(of sensor: SensorKind, in batches: [PendingBatch], settings: DeviceSettings) -> [(
    ts: Int64, value: Double
)] {
    let index = settings.sensors.firstIndex(of: sensor)!
    var out: [(ts: Int64, value: Double)] = []
    for batch in batches {
        for (i, mantissa) in batch.mantissas(ofSensor: index).enumerated() {
            out.append(
                (
                    batch.startMs + Int64(i) * settings.intervalMs,
                    DecimalGrid.value(mantissa: Int64(mantissa), exponent: sensor.exponent)
                ))
        }
    }
    return out
}

/// A real monotonic time in ns from seconds, for readable tests.
func seconds(_ value: Double) -> UInt64 { UInt64(value * 1e9) }
