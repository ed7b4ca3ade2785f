// A measurement, not a test: decode throughput of a realistic REST body (40 readings, ~2.3 KB) with our decoder and
// with Foundation's JSONDecoder into Codable structs. It asserts nothing about time; it runs only when asked:
//
//     FLEETWIRE_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter JSONBenchmarkTests
//
// Each contender decodes the same bytes `iterations` times per run; the median run is reported. Note the two do
// different amounts of work: ours also validates names and ranges, checks for unknown and duplicate keys and
// groups by sensor, JSONDecoder only fills flat structs.
//
// Recorded (release, Swift 6.3.1, Linux x86_64, 2 shared cores under a load average of ~2, three runs):
//   ReadingBatch(json:) 6.9–7.1 µs (≈ 325 MB/s), JSONValue.parse 13–15 µs, JSONDecoder 95–99 µs (≈ 24 MB/s): ≈ 14×.

import Foundation
import SplitMix
import Testing

@testable import Telemetry

@Suite("JSON decode throughput", .enabled(if: ProcessInfo.processInfo.environment["FLEETWIRE_BENCH"] != nil))
struct JSONBenchmarkTests {
    struct Body: Decodable {
        let seq: UInt64
        let readings: [Item]
    }

    struct Item: Decodable {
        let sensor: String
        let ts: Int64
        let value: Double
    }

    /// 40 readings of 4 sensors, in time order as a device sends them, values on their sensors' decimal grids.
    static func realisticBody() -> [UInt8] {
        var random = SplitMix64(seed: 2024)
        let sensors: [(String, Double, Double)] = [
            ("temperature", 21.54, 0.01), ("humidity", 45.2, 0.1), ("pressure.hpa", 1013.25, 0.01), ("co2_ppm", 612, 1),
        ]
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("seq")
        writer.value(17)
        writer.key("readings")
        writer.beginArray()
        for i in 0..<10 {
            for (name, base, step) in sensors {
                let value = (base + Double(Int.random(in: -300...300, using: &random)) * step)
                writer.beginObject()
                writer.key("sensor")
                writer.value(name)
                writer.key("ts")
                writer.value(1_732_190_000_123 + Int64(i) * 1_000)
                writer.key("value")
                writer.value(Double("\(value)".prefix(7))!)
                writer.endObject()
            }
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// Median over `runs` of the time per call of `body`, in nanoseconds.
    static func medianNanoseconds(runs: Int = 9, iterations: Int, _ body: () throws -> Void) rethrows -> Double {
        var perCall: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            for _ in 0..<iterations { try body() }
            let elapsed = ContinuousClock.now - start
            let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            perCall.append(nanoseconds / Double(iterations))
        }
        return perCall.sorted()[runs / 2]
    }

    @Test("decode a realistic batch: ours vs Foundation JSONDecoder")
    func measure() throws {
        let body = Self.realisticBody()
        let data = Data(body)
        let decoder = JSONDecoder()
        let ours = try ReadingBatch(json: body)
        let theirs = try decoder.decode(Body.self, from: data)
        #expect(ours.readingCount == 40 && theirs.readings.count == 40)

        let iterations = 5_000
        var sink = 0
        let oursNs = try Self.medianNanoseconds(iterations: iterations) {
            sink &+= try ReadingBatch(json: body).readingCount
        }
        let treeNs = try Self.medianNanoseconds(iterations: iterations) {
            sink &+= try JSONValue.parse(body)["readings"]?.arrayValue?.count ?? 0
        }
        let foundationNs = try Self.medianNanoseconds(iterations: iterations) {
            sink &+= try decoder.decode(Body.self, from: data).readings.count
        }
        let megabytesPerSecond = { (ns: Double) in Double(body.count) / ns * 1e9 / 1e6 }
        print(
            """
            JSON decode, \(body.count)-byte body with 40 readings, median of 9 runs × \(iterations):
              ReadingBatch(json:)     \(String(format: "%8.2f", oursNs / 1000)) µs/decode  \
            \(String(format: "%7.1f", megabytesPerSecond(oursNs))) MB/s
              JSONValue.parse (tree)  \(String(format: "%8.2f", treeNs / 1000)) µs/decode  \
            \(String(format: "%7.1f", megabytesPerSecond(treeNs))) MB/s
              Foundation JSONDecoder  \(String(format: "%8.2f", foundationNs / 1000)) µs/decode  \
            \(String(format: "%7.1f", megabytesPerSecond(foundationNs))) MB/s
              ratio JSONDecoder / ours: \(String(format: "%.1f", foundationNs / oursNs))×   (sink \(sink))
            """)
    }
}
