import Telemetry
import Testing

@testable import Simulation

/// Sensor models: deterministic per (seed, device), different across devices, plausible over a simulated week.
@Suite struct SensorModelTests {
    static let allSensors = SensorKind.allCases

    @Test func sameSeedAndDeviceGiveIdenticalReadings() {
        let settings = makeSettings(sensors: Self.allSensors)
        var first = makeDevice("dev-00007", seed: 42, settings: settings)
        var second = makeDevice("dev-00007", seed: 42, settings: settings)
        let a = produceBatches(&first, count: 30)
        let b = produceBatches(&second, count: 30)
        #expect(a.count == 30)
        #expect(a == b)
        #expect(first.originMs == second.originMs)
    }

    @Test func differentDevicesAndSeedsGiveDifferentReadings() {
        let settings = makeSettings(sensors: Self.allSensors)
        var base = makeDevice("dev-00001", seed: 42, settings: settings)
        var otherDevice = makeDevice("dev-00002", seed: 42, settings: settings)
        var otherSeed = makeDevice("dev-00001", seed: 43, settings: settings)
        let reference = produceBatches(&base, count: 5).flatMap(\.mantissas)
        let byDevice = produceBatches(&otherDevice, count: 5).flatMap(\.mantissas)
        let bySeed = produceBatches(&otherSeed, count: 5).flatMap(\.mantissas)
        #expect(reference != byDevice)
        #expect(reference != bySeed)
        // Not just shifted: most individual readings differ.
        let same = zip(reference, byDevice).filter { $0 == $1 }.count
        #expect(same < reference.count / 2)
    }

    @Test func aSensorReadsTheSameWhateverElseTheDeviceCarriesAndHowItSends() {
        let small = makeSettings(sensors: [.temperature, .pressure])
        let large = makeSettings(sensors: [.co2, .pressure, .vibration, .temperature, .battery])
        var a = makeDevice("dev-00003", protocol: .grpcStream, settings: small)
        var b = makeDevice("dev-00003", protocol: .rest, settings: large)
        let batchesA = produceBatches(&a, count: 20)
        let batchesB = produceBatches(&b, count: 20)
        for sensor in [SensorKind.temperature, .pressure] {
            let ra = readings(of: sensor, in: batchesA, settings: small)
            let rb = readings(of: sensor, in: batchesB, settings: large)
            #expect(ra.map(\.ts) == rb.map(\.ts))
            #expect(ra.map(\.value) == rb.map(\.value))
        }
    }

    @Test func timestampsLieOnTheIntervalGridFromAPerDevicePhase() {
        let settings = makeSettings(intervalMs: 1_000, batchMs: 10_000)
        var phases: Set<Int64> = []
        for index in 0..<50 {
            var device = makeDevice("dev-\(index)", settings: settings)
            let phase = device.originMs - testStartMs
            #expect(phase >= 0 && phase < settings.batchMs)
            phases.insert(phase)
            let batches = produceBatches(&device, count: 4)
            var expectedStart = device.originMs
            for (n, batch) in batches.enumerated() {
                #expect(batch.seq == UInt64(n + 1))
                #expect(batch.startMs == expectedStart)  // contiguous: no reading lost or repeated between batches
                #expect((batch.startMs - device.originMs) % settings.intervalMs == 0)
                #expect(batch.count == 10)
                expectedStart += Int64(batch.count) * settings.intervalMs
            }
        }
        #expect(phases.count > 40)  // devices are spread over the batch period
    }

    @Test(arguments: [(1_000, 10_000), (1_000, 2_500), (700, 3_000), (60_000, 3_600_000)] as [(Int64, Int64)])
    func batchesPartitionTheReadingGrid(intervalMs: Int64, batchMs: Int64) {
        // When the batch period is not a multiple of the interval, batch sizes differ by one but the grid is kept.
        let settings = makeSettings(intervalMs: intervalMs, batchMs: batchMs)
        var device = makeDevice(settings: settings)
        let batches = produceBatches(&device, count: 12)
        var k: Int64 = 0
        for (n, batch) in batches.enumerated() {
            #expect(batch.startMs == device.originMs + k * intervalMs)
            k += Int64(batch.count)
            // Every reading of batch n+1 was taken before the batch closed.
            #expect(k * intervalMs >= Int64(n + 1) * batchMs)
            #expect((k - 1) * intervalMs < Int64(n + 1) * batchMs)
        }
    }

    @Test func valuesStayPlausibleOverASimulatedWeek() {
        // One reading a minute for seven days, ten devices, every sensor.
        let settings = makeSettings(
            sensors: Self.allSensors, intervalMs: 60_000, batchMs: 3_600_000,
            bufferCapacity: 1_000)
        let ranges: [SensorKind: ClosedRange<Double>] = [
            .temperature: 15...28, .humidity: 20...70, .pressure: 985...1041, .battery: 3.695...4.105,
            .co2: 350...1_300, .vibration: 0...0.8,
        ]
        for index in 1...10 {
            var device = makeDevice("dev-\(index)", seed: 7, settings: settings)
            let batches = produceBatches(&device, count: 7 * 24)
            for sensor in Self.allSensors {
                let values = readings(of: sensor, in: batches, settings: settings).map(\.value)
                #expect(values.count == 7 * 24 * 60)
                let range = ranges[sensor]!
                #expect(values.allSatisfy(range.contains), "\(sensor) left \(range): \(values.min()!)…\(values.max()!)")
                #expect(Set(values).count > 20, "\(sensor) barely changes")
            }
        }
    }

    @Test func temperatureFollowsTheReferenceWorkload() {
        // Around 21 °C ± 1.5 with a daily sine and noise of about 2 LSB.
        let settings = makeSettings(
            sensors: [.temperature], intervalMs: 1_000, batchMs: 60_000,
            bufferCapacity: 10_000)
        var device = makeDevice(settings: settings)
        let values = readings(of: .temperature, in: produceBatches(&device, count: 24 * 60), settings: settings)
            .map(\.value)
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(abs(mean - 21) < 0.6)
        let swing = values.max()! - values.min()!
        #expect(swing > 2.3 && swing < 3.3)
        // Second differences remove the slow cycle; what is left is noise: sd(Δ²) = √6 × sd(noise) for white noise.
        var squares = 0.0
        for i in 2..<values.count {
            let d2 = values[i] - 2 * values[i - 1] + values[i - 2]
            squares += d2 * d2
        }
        let noise = (squares / Double(values.count - 2)).squareRoot() / 6.0.squareRoot()
        #expect(noise > 0.015 && noise < 0.025, "noise sd \(noise)")
    }

    @Test func batteryFallsAtItsRateAndRecharges() {
        let settings = makeSettings(sensors: [.battery], intervalMs: 60_000, batchMs: 3_600_000, bufferCapacity: 1_000)
        var rates: [Double] = []
        for index in 1...20 {
            var device = makeDevice("dev-\(index)", settings: settings)
            let volts = readings(of: .battery, in: produceBatches(&device, count: 24), settings: settings).map(\.value)
            // Fall per minute over the steepest-free stretch: the median of per-minute changes, in mV.
            let changes = zip(volts.dropFirst(), volts).map { ($0 - $1) * 1000 }.sorted()
            rates.append(-changes[changes.count / 2])
            #expect(volts.contains { $0 > 4.0 } || volts.contains { $0 < 3.8 })
        }
        #expect(rates.allSatisfy { $0 > 0.2 && $0 < 2.6 }, "\(rates)")
    }
}
