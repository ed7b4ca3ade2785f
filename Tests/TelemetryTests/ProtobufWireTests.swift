import SplitMix
import Testing
import Telemetry

/// The Batch and Ack wire format, byte by byte, and every malformed input the decoder must refuse.
@Suite struct ProtobufWireTests {
    @Test func encodesBatchFieldByField() throws {
        let batch = Batch(seq: 17, series: [
            Series(sensor: "t", exponent: -2, startMs: 1000, intervalMs: 1000, mantissaDeltas: [2154, 1, -1]),
        ])
        let expected: [UInt8] = [
            0x08, 17,  // field 1 (seq), varint 17
            0x12, 17,  // field 2 (series), length 17
            0x0A, 1, 0x74,  // series.sensor = "t"
            0x10, 3,  // series.exponent = zigzag(-2) = 3
            0x18, 0xE8, 0x07,  // series.start_ms = 1000
            0x20, 0xE8, 0x07,  // series.interval_ms = 1000
            0x2A, 4, 0xD4, 0x21, 0x02, 0x01,  // mantissa_deltas packed: zigzag 4308, 2, 1
        ]
        #expect(batch.protobufBytes() == expected)
        #expect(batch.protobufSize == expected.count)
        #expect(try Batch(protobuf: expected) == batch)
    }

    @Test func omitsDefaultsAndWritesTimeDeltas() throws {
        let series = Series(sensor: "h", exponent: 0, startMs: 0, intervalMs: 0, mantissaDeltas: [0, 5],
                            timeDeltasMs: [300])
        let bytes = Batch(seq: 1, series: [series]).protobufBytes()
        let expected: [UInt8] = [
            0x08, 1,
            0x12, 11,
            0x0A, 1, 0x68,  // sensor "h"; exponent, start_ms and interval_ms are 0 and omitted
            0x2A, 2, 0x00, 0x0A,  // mantissa_deltas packed: 0, zigzag(5) = 10
            0x32, 2, 0xAC, 0x02,  // time_deltas_ms packed: 300
        ]
        #expect(bytes == expected)
        #expect(try Batch(protobuf: bytes).series == [series])
    }

    @Test func ackRoundTripsAndOmitsZeros() throws {
        let ack = Ack(batches: 3, readings: 120, duplicateBatches: 0, lastSeq: 300)
        #expect(ack.protobufBytes() == [0x08, 3, 0x10, 120, 0x20, 0xAC, 0x02])
        #expect(try Ack(protobuf: ack.protobufBytes()) == ack)
        #expect(try Ack(protobuf: [UInt8]()) == Ack())
    }

    @Test func acceptsUnpackedRepeatedFieldsAndConcatenatesPackedRuns() throws {
        let series: [UInt8] = Wire.field(1, bytes: Array("p".utf8))
            + Wire.field(5, varint: Wire.zigzag(10))  // unpacked element
            + Wire.field(5, bytes: Wire.packed([Wire.zigzag(1), Wire.zigzag(-3)]))  // then a packed run
            + Wire.field(6, varint: 1000) + Wire.field(6, bytes: Wire.packed([2000]))
        let batch = try Batch(protobuf: Wire.field(1, varint: 9) + Wire.field(2, bytes: series))
        #expect(batch.series[0].mantissaDeltas == [10, 1, -3])
        #expect(batch.series[0].timeDeltasMs == [1000, 2000])
        #expect(batch.series[0].values() == [10, 11, 8])
        #expect(batch.series[0].timestamps() == [0, 1000, 3000])
    }

    @Test func skipsUnknownFieldsOfEveryWireType() throws {
        let unknown: [UInt8] =
            Wire.field(20, varint: 300)  // varint
            + Wire.tag(21, 1) + [1, 2, 3, 4, 5, 6, 7, 8]  // fixed64
            + Wire.field(22, bytes: [9, 9, 9])  // length-delimited
            + Wire.tag(23, 3) + Wire.field(1, varint: 5) + Wire.tag(24, 3) + Wire.tag(24, 4) + Wire.tag(23, 4)  // groups
            + Wire.tag(25, 5) + [1, 2, 3, 4]  // fixed32
        let series = unknown + Wire.field(1, bytes: Array("t".utf8)) + unknown
            + Wire.field(5, bytes: Wire.packed([Wire.zigzag(7)]))
        let bytes = unknown + Wire.field(1, varint: 4) + unknown + Wire.field(2, bytes: series) + unknown
        let batch = try Batch(protobuf: bytes)
        #expect(batch == Batch(seq: 4, series: [Series(sensor: "t", exponent: 0, startMs: 0, intervalMs: 0,
                                                        mantissaDeltas: [7])]))
    }

    @Test func lastValueWinsForScalarFields() throws {
        let bytes = Wire.field(1, varint: 4) + Wire.field(1, varint: 5)
        #expect(try Batch(protobuf: bytes).seq == 5)
    }

    /// A malformed input, the reason the decoder must give, and the field it must name.
    struct Malformed: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let reason: DecodeError.Reason
        let path: String
        var testDescription: String { name }
    }

    static let seq1 = Wire.field(1, varint: 1)
    static func series(_ fields: [UInt8]) -> [UInt8] { seq1 + Wire.field(2, bytes: fields) }
    static let sensorT = Wire.field(1, bytes: Array("t".utf8))

    static let malformed: [Malformed] = [
        Malformed(name: "truncated varint", bytes: [0x08, 0x80], reason: .truncatedVarint, path: "seq"),
        Malformed(name: "varint of 11 bytes", bytes: [0x08] + Array(repeating: 0x80, count: 10) + [0x01],
                  reason: .overlongVarint, path: "seq"),
        Malformed(name: "10th varint byte overflows 64 bits", bytes: [0x08] + Array(repeating: 0xFF, count: 9) + [0x02],
                  reason: .overlongVarint, path: "seq"),
        Malformed(name: "truncated tag", bytes: seq1 + [0x80], reason: .truncatedVarint, path: ""),
        Malformed(name: "length past the end", bytes: seq1 + [0x12, 0x05, 0x0A], reason: .lengthPastEnd,
                  path: "series[0]"),
        Malformed(name: "fixed64 past the end", bytes: seq1 + Wire.tag(9, 1) + [1, 2], reason: .lengthPastEnd,
                  path: ""),
        Malformed(name: "seq as length-delimited", bytes: [0x0A, 0x00],
                  reason: .wrongWireType(expected: "varint", got: 2), path: "seq"),
        Malformed(name: "series as varint", bytes: seq1 + [0x10, 0x01],
                  reason: .wrongWireType(expected: "length-delimited", got: 0), path: "series[0]"),
        Malformed(name: "sensor as fixed32", bytes: series(Wire.tag(1, 5) + [0, 0, 0, 0]),
                  reason: .wrongWireType(expected: "length-delimited", got: 5), path: "series[0].sensor"),
        Malformed(name: "mantissa deltas as fixed64", bytes: series(sensorT + Wire.tag(5, 1) + [0, 0, 0, 0, 0, 0, 0, 0]),
                  reason: .wrongWireType(expected: "varint or packed", got: 1), path: "series[0].mantissa_deltas"),
        Malformed(name: "field number 0", bytes: [0x00, 0x01], reason: .invalidTag, path: ""),
        Malformed(name: "wire type 6", bytes: [0x0E], reason: .invalidTag, path: ""),
        Malformed(name: "unmatched group end", bytes: Wire.tag(7, 4), reason: .invalidTag, path: ""),
        Malformed(name: "group closed by another field's end", bytes: Wire.tag(7, 3) + Wire.tag(8, 4),
                  reason: .invalidTag, path: ""),
        Malformed(name: "unterminated group", bytes: Wire.tag(7, 3) + Wire.field(1, varint: 2),
                  reason: .lengthPastEnd, path: ""),
        Malformed(name: "groups nested too deep",
                  bytes: (0..<40).flatMap { _ in Wire.tag(7, 3) }, reason: .nestingTooDeep, path: ""),
        Malformed(name: "seq missing", bytes: Wire.field(2, bytes: sensorT), reason: .seqMustBePositive, path: "seq"),
        Malformed(name: "seq zero", bytes: Wire.field(1, varint: 0), reason: .seqMustBePositive, path: "seq"),
        Malformed(name: "seq beyond 2^63-1", bytes: Wire.field(1, varint: 1 << 63), reason: .valueOutOfRange,
                  path: "seq"),
        Malformed(name: "sensor missing", bytes: series(Wire.field(5, bytes: [0])), reason: .invalidSensorName,
                  path: "series[0].sensor"),
        Malformed(name: "sensor with upper case", bytes: series(Wire.field(1, bytes: Array("Temp".utf8))),
                  reason: .invalidSensorName, path: "series[0].sensor"),
        Malformed(name: "sensor with a space", bytes: series(Wire.field(1, bytes: Array("a b".utf8))),
                  reason: .invalidSensorName, path: "series[0].sensor"),
        Malformed(name: "sensor of 65 bytes", bytes: series(Wire.field(1, bytes: Array(repeating: 0x61, count: 65))),
                  reason: .invalidSensorName, path: "series[0].sensor"),
        Malformed(name: "sensor not UTF-8", bytes: series(Wire.field(1, bytes: [0xC3, 0x28])),
                  reason: .invalidSensorName, path: "series[0].sensor"),
        Malformed(name: "exponent beyond 32 bits", bytes: series(sensorT + Wire.field(2, varint: 1 << 33)),
                  reason: .valueOutOfRange, path: "series[0].exponent"),
        Malformed(name: "exponent 31", bytes: series(sensorT + Wire.field(2, varint: 62)),
                  reason: .exponentOutOfRange, path: "series[0].exponent"),
        Malformed(name: "interval beyond 32 bits", bytes: series(sensorT + Wire.field(4, varint: 1 << 32)),
                  reason: .valueOutOfRange, path: "series[0].interval_ms"),
        Malformed(name: "time delta beyond 32 bits",
                  bytes: series(sensorT + Wire.field(5, bytes: [0, 0]) + Wire.field(6, bytes: Wire.varint(1 << 32))),
                  reason: .valueOutOfRange, path: "series[0].time_deltas_ms"),
        Malformed(name: "deltas overflow Int64",
                  bytes: series(sensorT + Wire.field(4, varint: 1)
                    + Wire.field(5, bytes: Wire.packed([Wire.zigzag(.max), Wire.zigzag(1)]))),
                  reason: .deltaOverflow, path: "series[0].mantissa_deltas"),
        Malformed(name: "deltas underflow Int64",
                  bytes: series(sensorT + Wire.field(4, varint: 1)
                    + Wire.field(5, bytes: Wire.packed([Wire.zigzag(.min), Wire.zigzag(-1)]))),
                  reason: .deltaOverflow, path: "series[0].mantissa_deltas"),
        Malformed(name: "interval series with time deltas",
                  bytes: series(sensorT + Wire.field(4, varint: 1000) + Wire.field(5, bytes: [0, 0])
                    + Wire.field(6, bytes: [5])),
                  reason: .intervalWithTimeDeltas, path: "series[0].time_deltas_ms"),
        Malformed(name: "n time deltas for n readings",
                  bytes: series(sensorT + Wire.field(5, bytes: [0, 0]) + Wire.field(6, bytes: [5, 5])),
                  reason: .timeDeltaCount(expected: 1, got: 2), path: "series[0].time_deltas_ms"),
        Malformed(name: "no time deltas for 3 irregular readings",
                  bytes: series(sensorT + Wire.field(5, bytes: [0, 0, 0])),
                  reason: .timeDeltaCount(expected: 2, got: 0), path: "series[0].time_deltas_ms"),
        Malformed(name: "time deltas without readings", bytes: series(sensorT + Wire.field(6, bytes: [5])),
                  reason: .timeDeltaCount(expected: 0, got: 1), path: "series[0].time_deltas_ms"),
        Malformed(name: "timestamps overflow by interval",
                  bytes: series(sensorT + Wire.field(3, varint: UInt64(Int64.max - 10)) + Wire.field(4, varint: 100)
                    + Wire.field(5, bytes: [0, 0])),
                  reason: .timestampOverflow, path: "series[0].interval_ms"),
        Malformed(name: "timestamps overflow by deltas",
                  bytes: series(sensorT + Wire.field(3, varint: UInt64(Int64.max - 10)) + Wire.field(5, bytes: [0, 0])
                    + Wire.field(6, bytes: Wire.varint(100))),
                  reason: .timestampOverflow, path: "series[0].time_deltas_ms"),
        Malformed(name: "malformed second series names its index",
                  bytes: series(sensorT) + Wire.field(2, bytes: Wire.field(1, bytes: Array("BAD".utf8))),
                  reason: .invalidSensorName, path: "series[1].sensor"),
    ]

    @Test(arguments: malformed)
    func refusesMalformedInput(_ example: Malformed) {
        #expect(throws: DecodeError.self) { try Batch(protobuf: example.bytes) }
        do {
            _ = try Batch(protobuf: example.bytes)
        } catch {
            #expect(error.reason == example.reason)
            #expect(error.path == example.path)
            #expect(error.offset >= 0 && error.offset <= example.bytes.count)
            if !example.path.isEmpty { #expect(error.description.hasPrefix(example.path + ": ")) }
        }
    }

    @Test func enforcesLimitsBeforeBuffering() {
        let limits = DecodeLimits(maxMessageBytes: 64, maxSeriesPerBatch: 2, maxReadingsPerSeries: 3)
        let threeSeries = Self.seq1 + (0..<3).flatMap { _ in Wire.field(2, bytes: Self.sensorT) }
        #expect(throws: DecodeError(.tooManySeries(limit: 2), path: "series", offset: 13)) {
            try Batch(protobuf: threeSeries, limits: limits)
        }
        let fourReadings = Self.series(Self.sensorT + Wire.field(4, varint: 1) + Wire.field(5, bytes: [0, 0, 0, 0]))
        #expect(throws: DecodeError(.tooManyReadings(limit: 3), path: "series[0].mantissa_deltas", offset: 11)) {
            try Batch(protobuf: fourReadings, limits: limits)
        }
        let unpacked = Self.series(Self.sensorT + Wire.field(4, varint: 1)
            + (0..<4).flatMap { _ in Wire.field(5, varint: 0) })
        #expect(throws: DecodeError.self) { try Batch(protobuf: unpacked, limits: limits) }
        #expect(throws: DecodeError(.messageTooLarge(limit: 64))) {
            try Batch(protobuf: [UInt8](repeating: 0, count: 65), limits: limits)
        }
    }

    @Test func everyTruncationOfAValidBatchIsRefusedOrDecodesAPrefix() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<50 {
            let batch = RandomBatches.batch(&rng)
            let bytes = batch.protobufBytes()
            for cut in 0..<bytes.count {
                // A cut can land on a field boundary and still be well formed; it must never crash, and what it
                // decodes must be a prefix of the original.
                if let decoded = try? Batch(protobuf: bytes[0..<cut]) {
                    #expect(decoded.series.count <= batch.series.count)
                }
            }
        }
    }
}
