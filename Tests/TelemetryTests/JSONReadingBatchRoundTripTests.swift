// Encoding and decoding the REST body are inverse: random batches survive `jsonBytes()` → decode bit for bit
// (`-0.0` keeps its sign), and a body cut anywhere is refused as truncated, never read as something else.

import SplitMix
import Testing

@testable import Telemetry

@Suite("REST batch JSON: encoding and round trips")
struct JSONReadingBatchRoundTripTests {
    @Test("the contract's form, compact, readings in sensor-entry order")
    func encodesContractForm() {
        let batch = ReadingBatch(
            seq: 17,
            sensors: [
                SensorReadings(
                    sensor: "temperature", exponent: 2, timestamps: [1_732_190_000_123, 1_732_190_001_123],
                    values: [21.54, 21.0]),
                SensorReadings(sensor: "humidity", exponent: nil, timestamps: [1_732_190_000_123], values: [-0.0]),
            ])
        #expect(
            batch.jsonBytes().text
                == #"{"seq":17,"readings":[{"sensor":"temperature","ts":1732190000123,"value":21.54},"#
                + #"{"sensor":"temperature","ts":1732190001123,"value":21.0},"#
                + #"{"sensor":"humidity","ts":1732190000123,"value":-0.0}]}"#)
    }

    @Test("an empty batch")
    func empty() throws {
        let batch = ReadingBatch(seq: 1, sensors: [])
        #expect(batch.jsonBytes().text == #"{"seq":1,"readings":[]}"#)
        #expect(try ReadingBatch(json: batch.jsonBytes()) == batch)
    }

    @Test("random batches survive jsonBytes() and decoding bit for bit", arguments: 1...50 as ClosedRange<UInt64>)
    func roundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let batch = Self.randomBatch(using: &random)
        let decoded = try ReadingBatch(json: batch.jsonBytes())
        #expect(decoded == batch, "seed \(seed)")
        for (got, sent) in zip(decoded.sensors, batch.sensors) {
            #expect(got.values.map(\.bitPattern) == sent.values.map(\.bitPattern), "\(sent.sensor): -0.0 or rounding")
        }
    }

    /// A batch as a device might send it: 1–8 distinct sensors, 1–`maxReadings` readings each (an entry without
    /// readings has no JSON form), values on decimal grids (21.54, 1013.2, 3.917), negatives, both zeros, large
    /// integers and the odd full-precision Double; timestamps mostly ascending, now and then any Int64.
    static func randomBatch(using random: inout SplitMix64, maxReadings: Int = 40) -> ReadingBatch {
        let names = ["temperature", "humidity", "pressure.hpa", "co2_ppm", "battery-v", "rssi", "x", "door.0"]
        let sensorCount = Int.random(in: 1...names.count, using: &random)
        var sensors: [SensorReadings] = []
        for name in names.shuffled(using: &random).prefix(sensorCount) {
            let count = Int.random(in: 1...maxReadings, using: &random)
            var timestamps: [Int64] = []
            var values: [Double] = []
            var ts = Int64.random(in: 1_600_000_000_000...1_800_000_000_000, using: &random)
            for _ in 0..<count {
                ts += Int64.random(in: 0...5_000, using: &random)
                timestamps.append(
                    Int.random(in: 0..<30, using: &random) == 0 ? Int64.random(in: .min ... .max, using: &random) : ts)
                values.append(randomValue(using: &random))
            }
            sensors.append(SensorReadings(sensor: name, exponent: nil, timestamps: timestamps, values: values))
        }
        return ReadingBatch(seq: UInt64.random(in: 1...Batch.maxSeq, using: &random), sensors: sensors)
    }

    static func randomValue(using random: inout SplitMix64) -> Double {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return [0.0, -0.0][Int.random(in: 0...1, using: &random)]
        case 1: return Double(Int64.random(in: -(1 << 53)...(1 << 53), using: &random))
        case 2: return Double(bitPattern: UInt64.random(in: 0..<0x7FF0_0000_0000_0000, using: &random))
        default:
            // mantissa × 10^−k, spelled as a decimal the way a device would print it
            let mantissa = Int.random(in: -2_000_000...2_000_000, using: &random)
            let places = Int.random(in: 0...4, using: &random)
            return Double("\(mantissa)e-\(places)")!
        }
    }

    @Test("a body cut at any position is refused as truncated, at the cut", arguments: [3, 4] as [UInt64])
    func truncation(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        try checkEveryCut(of: Self.randomBatch(using: &random, maxReadings: 4).jsonBytes())
    }

    @Test("a hand-written body with escapes, whitespace and exponents, cut at any position")
    func truncationOfHandWritten() throws {
        let body = #"""
            {"s\u0065q" : 2 ,"readings":[ {"sensor":"t\u0065mp", "ts":-12, "value":-1.5E+3 },
            {"value":0.000123e-2,"ts":0,"sensor":"a"}, {"sensor": "a", "ts": 1, "value": 1e-400}
            ]}
            """#
        try checkEveryCut(of: Array(body.utf8))
    }

    private func checkEveryCut(of body: [UInt8]) throws {
        _ = try ReadingBatch(json: body)
        for length in 0..<body.count {
            let prefix = Array(body.prefix(length))
            let error = batchError(prefix)
            guard error?.reason == .syntax("unexpected end of input"), error?.offset == length else {
                Issue.record("cut at \(length): \(String(describing: error)) for \(prefix.text)")
                return
            }
            // The rest on its own is never a valid body either (and never crashes the decoder).
            let suffix = Array(body.suffix(from: length + 1))
            #expect(batchError(suffix) != nil, "suffix from \(length + 1) accepted: \(suffix.text)")
        }
    }
}
