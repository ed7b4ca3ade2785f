import SplitMix
import Testing
import Telemetry

/// Plain readings ⇄ compact Series: interval detection, grid checks, and lossless seeded round trips.
@Suite struct CompactEncodingTests {
    @Test func regularSpacingTravelsAsAnInterval() throws {
        let series = try Series(sensor: "temperature", exponent: -2, timestamps: [1000, 2000, 3000],
                                values: [21.54, 21.55, 21.53])
        #expect(series.intervalMs == 1000)
        #expect(series.timeDeltasMs.isEmpty)
        #expect(series.startMs == 1000)
        #expect(series.mantissaDeltas == [2154, 1, -2])
    }

    @Test func irregularSpacingTravelsAsGaps() throws {
        let series = try Series(sensor: "humidity", exponent: -1, timestamps: [5, 5, 1005, 1999],
                                values: [45.1, 45.1, 45.0, 47])
        #expect(series.intervalMs == 0)
        #expect(series.timeDeltasMs == [0, 1000, 994])
        #expect(series.mantissaDeltas == [451, 0, -1, 20])
        #expect(series.timestamps() == [5, 5, 1005, 1999])
        #expect(series.values() == [45.1, 45.1, 45.0, 47])
    }

    @Test func singleReadingNeedsNoTimeInformation() throws {
        let series = try Series(sensor: "battery", exponent: -3, timestamps: [77], values: [3.917])
        #expect(series.intervalMs == 0 && series.timeDeltasMs.isEmpty)
        #expect(series.values() == [3.917])
        #expect(series.timestamps() == [77])
    }

    @Test(arguments: [
        (21.545, Int32(-2)), (0.1 + 0.2, Int32(-1)), (Double.nan, Int32(-1)), (Double.infinity, Int32(0)),
        (1e19, Int32(0)), (5.0, Int32(1)),
    ] as [(Double, Int32)])
    func refusesValuesOffTheGrid(value: Double, exponent: Int32) {
        #expect(throws: DecodeError(.valueOffGrid, path: "x[0]")) {
            try Series(sensor: "x", exponent: exponent, timestamps: [0], values: [value])
        }
    }

    @Test func refusesDecreasingTimestampsAndHugeGaps() {
        #expect(throws: DecodeError(.timestampsNotAscending, path: "x[1]")) {
            try Series(sensor: "x", exponent: 0, timestamps: [10, 9], values: [1, 1])
        }
        #expect(throws: DecodeError(.valueOutOfRange, path: "x[1]")) {
            try Series(sensor: "x", exponent: 0, timestamps: [0, 1 << 33], values: [1, 1])
        }
        #expect(throws: DecodeError(.timestampsNotAscending, path: "x[1]")) {
            try Series(sensor: "x", exponent: 0, timestamps: [.max, .min], values: [1, 1])
        }
        #expect(throws: DecodeError(.invalidSensorName, path: "X")) {
            try Series(sensor: "X", exponent: 0, timestamps: [], values: [])
        }
    }

    @Test func gridValuesMatchWhatAJSONParserReads() {
        // The gRPC path computes mantissa × 10^exponent; the REST path parses the decimal text. They must agree.
        var rng = SplitMix64(seed: 99)
        for _ in 0..<20_000 {
            let exponent = Int32.random(in: -6...3, using: &rng)
            let mantissa = Int64.random(in: -9_999_999_999...9_999_999_999, using: &rng)
            let text = "\(mantissa)e\(exponent)"
            #expect(DecimalGrid.value(mantissa: mantissa, exponent: exponent) == Double(text)!, "\(text)")
            #expect(DecimalGrid.mantissa(of: Double(text)!, exponent: exponent) == mantissa, "\(text)")
        }
    }

    static let outsideTheFastPath: [(Int64, Int32)] = [
        (1, -30), (3, 23), (9_007_199_254_740_993, -2), (-9_007_199_254_740_993, -2), (Int64.max, -30),
        (Int64.min, 30), (17, -2), (123_456_789_012_345_678, -7), (9, 30),
    ]

    @Test(arguments: outsideTheFastPath)
    func everyGridValueIsTheNearestDouble(mantissa: Int64, exponent: Int32) {
        // The oracle: the decimal text parsed by Double(String), correctly rounded.
        #expect(DecimalGrid.value(mantissa: mantissa, exponent: exponent).bitPattern
                == Double("\(mantissa)e\(exponent)")!.bitPattern)
    }

    @Test func seededReadingBatchesRoundTripLosslessly() throws {
        var rng = SplitMix64(seed: 2026)
        for _ in 0..<300 {
            let batch = RandomBatches.batch(&rng)
            let plain = ReadingBatch(batch)
            #expect(plain.readingCount == batch.readingCount)
            let reencoded = try Batch(plain)
            // Re-encoding may choose an interval where the original spelled out equal gaps; the readings match.
            #expect(ReadingBatch(reencoded) == plain)
            #expect(try ReadingBatch(Batch(protobuf: reencoded.protobufBytes())) == plain)
        }
    }

    @Test func batchFromReadingsNeedsAnExponent() throws {
        let plain = ReadingBatch(seq: 1, sensors: [SensorReadings(sensor: "t", exponent: nil, timestamps: [1],
                                                                  values: [2.5])])
        #expect(throws: DecodeError.self) { try Batch(plain) }
        #expect(try Batch(plain, defaultExponent: -1).series[0].mantissaDeltas == [25])
    }
}
