import SplitMix
import Testing
import Telemetry

/// Seeded random Batches and Acks survive encode → decode unchanged, and sizes are exact.
@Suite struct ProtobufRoundTripTests {
    @Test(arguments: [1, 2, 3, 4])
    func randomBatchesRoundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let batch = RandomBatches.batch(&rng)
            let bytes = batch.protobufBytes()
            #expect(bytes.count == batch.protobufSize)
            #expect(try Batch(protobuf: bytes) == batch)
            #expect(try Batch(protobuf: bytes[...]) == batch)
        }
    }

    @Test func extremeValuesRoundTrip() throws {
        let series = Series(sensor: String(repeating: "z", count: 64), exponent: -30, startMs: .min,
                            intervalMs: 0, mantissaDeltas: [.max, .min + 1, 0], timeDeltasMs: [0, .max])
        let batch = Batch(seq: Batch.maxSeq, series: [series])
        #expect(try Batch(protobuf: batch.protobufBytes()) == batch)
        let ack = Ack(batches: .max, readings: 1, duplicateBatches: .max - 1, lastSeq: 1 << 63)
        #expect(try Ack(protobuf: ack.protobufBytes()) == ack)
    }
}
