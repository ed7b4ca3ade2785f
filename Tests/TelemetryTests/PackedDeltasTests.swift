import SplitMix
import Testing
import Telemetry

/// `packed_deltas`: bit-packed deltas decode to the same series as varints, are smaller for small deltas, and a
/// run that breaks the layout is refused with a message naming the field.
@Suite struct PackedDeltasTests {
    @Test(arguments: [1, 2, 3])
    func packedBatchesDecodeToTheSameValues(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<500 {
            var batch = RandomBatches.batch(&rng)
            if Bool.random(using: &rng), !batch.series.isEmpty {
                // Extremes: full-width deltas and long runs of zeros.
                batch.series[0].mantissaDeltas = batch.series[0].mantissaDeltas.map { _ in 0 }
            }
            let packed = batch.protobufBytes(packingDeltas: true)
            #expect(packed.count == batch.protobufSize(packingDeltas: true))
            #expect(packed.count <= batch.protobufSize)
            #expect(try Batch(protobuf: packed) == batch)
        }
        let extreme = Batch(seq: 1, series: [Series(sensor: "x", exponent: 0, startMs: 1, intervalMs: 0,
                                                    mantissaDeltas: [.max, .min, 0, -1, 1, .min + 1],
                                                    timeDeltasMs: [1, 1, 1, 1, 1])])
        #expect(try Batch(protobuf: extreme.protobufBytes(packingDeltas: true)) == extreme)
    }

    @Test func smallDeltasTakeAFewBitsEach() throws {
        let deltas: [Int64] = [2150] + (1..<60).map { Int64($0 % 7) - 3 }
        let series = Series(sensor: "temperature", exponent: -2, startMs: 1_765_000_000_000, intervalMs: 1000,
                            mantissaDeltas: deltas)
        let batch = Batch(seq: 1, series: [series])
        let packed = batch.protobufBytes(packingDeltas: true)
        // 59 deltas of ±3 take 3 bits each (zigzag ≤ 6): 23 bytes instead of 59.
        #expect(batch.protobufSize - packed.count == 59 - 23 - 4)
        #expect(try Batch(protobuf: packed) == batch)
    }

    /// A series whose field 8 is `run`, after one varint delta 5.
    static func message(_ run: [UInt8]) -> [UInt8] {
        let series: [UInt8] = [0x0A, 1, 0x61, 0x18, 1, 0x20, 1, 0x2A, 1, 10, 0x42, UInt8(run.count)] + run
        return [0x08, 1, 0x12, UInt8(series.count)] + series
    }

    @Test func aHandPackedRunDecodesAsTheSpecSays() throws {
        // n = 3, w = 2: zigzag 1, 2, 3 (deltas -1, 1, -2) → bits 01 10 11 → 0b00_11_10_01.
        let batch = try Batch(protobuf: Self.message([3, 2, 0b0011_1001]))
        #expect(batch.series[0].mantissaDeltas == [5, -1, 1, -2])
        #expect(try Batch(protobuf: Self.message([4, 0])).series[0].mantissaDeltas == [5, 0, 0, 0, 0])
    }

    @Test(arguments: [
        ([3, 2], "3 deltas of 2 bits take 1 bytes, got 0"),
        ([3, 2, 0x39, 0], "3 deltas of 2 bits take 1 bytes, got 2"),
        ([1, 65, 0, 0, 0, 0, 0, 0, 0, 0, 0], "width 65 is over 64 bits"),
        ([3, 2, 0b0111_1001], "padding bits after the last delta are not 0"),
        ([3], "missing the width byte"),
    ] as [([UInt8], String)])
    func aBrokenRunIsRefusedNamingTheField(run: [UInt8], problem: String) {
        do {
            _ = try Batch(protobuf: Self.message(run))
            Issue.record("accepted \(run)")
        } catch {
            #expect(error.path == "series[0].packed_deltas")
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    /// A series whose field 8 occurs once per run in `runs`, in order, after one varint delta 5.
    static func message(runs: [[UInt8]]) -> [UInt8] {
        let fields: [UInt8] = runs.flatMap { run -> [UInt8] in [0x42, UInt8(run.count)] + run }
        let series: [UInt8] = [0x0A, 1, 0x61, 0x18, 1, 0x20, 1, 0x2A, 1, 10] + fields
        return [0x08, 1, 0x12, UInt8(series.count)] + series
    }

    /// Found by the protobuf fuzzer's reference decoder: a bytes field's last occurrence wins, so an earlier
    /// `packed_deltas` is replaced unread (it was decoded, and refused when malformed or over the limit), and an
    /// empty one is proto3's default, no packed deltas (it was refused as a truncated varint).
    @Test(arguments: [
        ([[3, 2], [2, 1, 0b01]], [5, -1, 0]),  // a malformed run, then a valid one
        ([[200, 1, 0x01], [2, 1, 0b01]], [5, -1, 0]),  // a run over the limit, then a valid one
        ([[3, 2, 0b0011_1001], [1, 0]], [5, 0]),  // two valid runs: only the second counts
        ([[3, 2, 0b0011_1001], []], [5]),  // a valid run, then an empty value: none
        ([[]], [5]),  // an empty value alone
        ([[0x80], []], [5]),  // a truncated n, then an empty value
    ] as [([[UInt8]], [Int64])])
    func theLastOccurrenceWinsAndEmptyMeansNone(runs: [[UInt8]], deltas: [Int64]) throws {
        let limits = DecodeLimits(maxReadingsPerSeries: 4)
        #expect(try Batch(protobuf: Self.message(runs: runs), limits: limits).series[0].mantissaDeltas == deltas)
    }

    /// Fuzz regression (Tests/Fuzz/regressions/protobuf/packed-deltas-empty-value-is-no-field): the reference
    /// decoder accepted this batch, whose only packed_deltas is empty, and the decoder refused it.
    @Test func theFuzzersEmptyPackedDeltasDecodesAsNoField() throws {
        let message: [UInt8] = [
            0x08, 0x08,  // seq 8
            0x12, 0x16,  // series, 22 bytes
            0x0A, 0x0B] + Array("temperature".utf8) + [  // sensor
            0x42, 0x00,  // packed_deltas, empty
            0x18, 0xBD, 0xD7, 0x93, 0xF4, 0x9F, 0x10,  // start_ms
        ]
        let expected = Series(sensor: "temperature", exponent: 0, startMs: 558_320_905_149, intervalMs: 0,
                              mantissaDeltas: [])
        #expect(try Batch(protobuf: message) == Batch(seq: 8, series: [expected]))
    }

    /// An error in the run's n varint gives its offset in the message, not in the run.
    @Test func aTruncatedCountReportsItsOffsetInTheMessage() {
        let message = Self.message([0x80])
        do {
            _ = try Batch(protobuf: message)
            Issue.record("accepted a truncated n")
        } catch {
            #expect(error.reason == .truncatedVarint)
            #expect(error.path == "series[0].packed_deltas")
            #expect(error.offset == message.count - 1, "\(error)")
        }
    }

    @Test func theReadingLimitCountsPackedDeltas() {
        let limits = DecodeLimits(maxReadingsPerSeries: 4)
        #expect(throws: DecodeError.self) { _ = try Batch(protobuf: Self.message([4, 0]), limits: limits) }
        #expect(throws: DecodeError.self) { _ = try Batch(protobuf: Self.message([200, 1, 0x01]), limits: limits) }
        #expect((try? Batch(protobuf: Self.message([3, 0]), limits: limits)) != nil)
    }
}
