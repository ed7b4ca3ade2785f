import Telemetry
import Testing

@testable import Simulation

/// Buffered batches → wire forms: every value on its grid, and both wire forms lossless and equal to each other.
@Suite struct PendingBatchTests {
    @Test func buildsDeltaEncodedSeriesWithAnInterval() {
        // Two sensors, three readings each, sensor-major.
        let batch = PendingBatch(seq: 9, startMs: 1_000, count: 3, mantissas: [2154, 2155, 2153, 451, 451, 450])
        let compact = batch.makeBatch(sensors: [.temperature, .humidity], intervalMs: 1_000)
        #expect(compact.seq == 9)
        #expect(
            compact.series == [
                Series(
                    sensor: "temperature", exponent: -2, startMs: 1_000, intervalMs: 1_000,
                    mantissaDeltas: [2154, 1, -2]),
                Series(
                    sensor: "humidity", exponent: -1, startMs: 1_000, intervalMs: 1_000, mantissaDeltas: [451, 0, -1]),
            ])
        let plain = batch.makeReadingBatch(sensors: [.temperature, .humidity], intervalMs: 1_000)
        #expect(plain.sensors[0].timestamps == [1_000, 2_000, 3_000])
        #expect(plain.sensors[0].values == [21.54, 21.55, 21.53])
        #expect(plain.sensors[1].values == [45.1, 45.1, 45.0])
    }

    @Test func aSingleReadingCarriesNoInterval() throws {
        let batch = PendingBatch(seq: 1, startMs: 77, count: 1, mantissas: [3917])
        let compact = batch.makeBatch(sensors: [.battery], intervalMs: 1_000)
        let canonical = try Series(sensor: "battery", exponent: -3, timestamps: [77], values: [3.917])
        #expect(compact.series == [canonical])
    }

    @Test(arguments: DeviceProtocol.allCases)
    func everyGeneratedBatchRoundTripsLosslessly(deviceProtocol: DeviceProtocol) throws {
        let settings = makeSettings(sensors: SensorKind.allCases)
        for index in 1...5 {
            var device = makeDevice("dev-\(index)", protocol: deviceProtocol, settings: settings)
            for pending in produceBatches(&device, count: 20) {
                let compact = pending.makeBatch(sensors: settings.sensors, intervalMs: settings.intervalMs)
                let plain = pending.makeReadingBatch(sensors: settings.sensors, intervalMs: settings.intervalMs)
                // Every value is on its sensor's grid: re-encoding the plain values refuses anything off it.
                for (entry, series) in zip(plain.sensors, compact.series) {
                    let reencoded = try Series(
                        sensor: entry.sensor, exponent: series.exponent,
                        timestamps: entry.timestamps, values: entry.values)
                    #expect(reencoded == series)
                    #expect(series.intervalMs == UInt32(settings.intervalMs) && series.timeDeltasMs.isEmpty)
                }
                // Protobuf both ways.
                let decoded = try Batch(protobuf: compact.protobufBytes())
                #expect(decoded == compact)
                #expect(ReadingBatch(decoded).sensors.map(\.values) == plain.sensors.map(\.values))
                // JSON both ways: the same Doubles come back from the text.
                let fromJSON = try ReadingBatch(json: plain.jsonBytes())
                #expect(fromJSON.seq == plain.seq)
                #expect(fromJSON.sensors.map(\.values) == plain.sensors.map(\.values))
                #expect(fromJSON.sensors.map(\.timestamps) == plain.sensors.map(\.timestamps))
            }
        }
    }
}
