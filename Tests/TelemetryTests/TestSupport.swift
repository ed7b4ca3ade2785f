import Foundation
import SplitMix
import Telemetry

/// Hand-rolled protobuf bytes for tests: independent of the encoder under test.
enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }
    static func tag(_ field: Int, _ wireType: Int) -> [UInt8] { varint(UInt64(field << 3 | wireType)) }
    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { tag(number, 0) + varint(value) }
    static func field(_ number: Int, bytes: [UInt8]) -> [UInt8] {
        tag(number, 2) + varint(UInt64(bytes.count)) + bytes
    }
    static func zigzag(_ n: Int64) -> UInt64 { UInt64(bitPattern: (n << 1) ^ (n >> 63)) }
    static func packed(_ values: [UInt64]) -> [UInt8] { values.flatMap(varint) }
}

/// Random batches whose values lie on each sensor's decimal grid, like the simulator's.
enum RandomBatches {
    static func series(_ rng: inout SplitMix64, sensor: String) -> Series {
        let count = Int.random(in: 0...40, using: &rng)
        let exponent = Int32.random(in: -4...2, using: &rng)
        var mantissa = Int64.random(in: -100_000...100_000, using: &rng)
        var deltas: [Int64] = []
        for i in 0..<count {
            let step = Int64.random(in: -50...50, using: &rng)
            deltas.append(i == 0 ? mantissa : step)
            if i > 0 { mantissa += step }
        }
        let start = Int64.random(in: 1_600_000_000_000...1_800_000_000_000, using: &rng)
        let regular = Bool.random(using: &rng)
        if regular || count <= 1 {
            return Series(sensor: sensor, exponent: exponent, startMs: start,
                          intervalMs: count <= 1 ? 0 : UInt32.random(in: 1...60_000, using: &rng),
                          mantissaDeltas: deltas)
        }
        let gaps = (0..<(count - 1)).map { _ in UInt32.random(in: 0...5_000, using: &rng) }
        return Series(sensor: sensor, exponent: exponent, startMs: start, intervalMs: 0, mantissaDeltas: deltas,
                      timeDeltasMs: gaps)
    }

    static func batch(_ rng: inout SplitMix64) -> Batch {
        let names = ["temperature", "humidity", "pressure", "battery", "co2", "vibration.rms", "x_9-a"]
        let seriesCount = Int.random(in: 0...5, using: &rng)
        return Batch(
            seq: UInt64.random(in: 1...UInt64.max / 2, using: &rng),
            series: (0..<seriesCount).map { _ in series(&rng, sensor: names.randomElement(using: &rng)!) })
    }
}

/// Locations in the repository, for tests that run outside tools against the real contract files.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var schema: URL { root.appendingPathComponent("schema") }
}
