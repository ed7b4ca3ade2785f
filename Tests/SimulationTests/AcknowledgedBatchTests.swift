import Telemetry
import Testing

@testable import Simulation

/// What `--acked-log` records: the batches an Ack releases, with their readings' count, time range and value sum.
@Suite struct AcknowledgedBatchTests {
    @Test func aBatchLineHasItsCountTimeRangeAndValueSum() {
        let batch = PendingBatch(seq: 7, startMs: 1_000, count: 3, mantissas: [2154, 2160, -5, 41, 42, 43])
        let record = AcknowledgedBatch(
            deviceID: "dev-00001", batch: batch, sensors: [.temperature, .humidity], intervalMs: 500)
        // temperature: two decimals (21.54 + 21.6 - 0.05); humidity: one decimal (4.1 + 4.2 + 4.3).
        let expected = 21.54 + 21.6 + -0.05 + 4.1 + 4.2 + 4.3
        #expect(record.readingCount == 6 && record.firstMs == 1_000 && record.lastMs == 2_000)
        #expect(abs(record.valueSum - expected) < 1e-9)
        #expect(record.line == "dev-00001 7 6 1000 2000 \(record.valueSum)\n")
    }

    @Test func onlyTheCoveredBatchesOfTheCallInFlightAreAcknowledged() {
        let settings = makeSettings(clock: .maxRate(start: testStartMs), streamBatches: 3)
        var fleet = DeviceFleet(devices: [makeDevice("s", protocol: .grpcStream, settings: settings)])
        _ = fleet.handle(.start, slot: 0, at: 0)
        // Nothing is in flight yet: an Ack acknowledges nothing.
        #expect(fleet.batchesAcknowledged(by: .acked(Ack(), covering: 1...3, latencyNs: 1), slot: 0).isEmpty)
        let actions = fleet.handle(.connected, slot: 0, at: 0)
        #expect(actions.compactMap(\.requestSeqs) == [1...3])
        // An Ack covering two of the three batches of the stream releases those two; other events release none.
        let acked = fleet.batchesAcknowledged(by: .acked(Ack(batches: 2), covering: 1...2, latencyNs: 1), slot: 0)
        #expect(acked.map(\.seq) == [1, 2] && acked.allSatisfy { $0.deviceID == "s" && $0.readingCount == 40 })
        #expect(fleet.batchesAcknowledged(by: .callFailed(.grpcStatus(14)), slot: 0).isEmpty)
        #expect(fleet.batchesAcknowledged(by: .tick, slot: 0).isEmpty)
    }
}
