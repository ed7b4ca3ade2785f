import Foundation
import SplitMix
import Testing

@testable import Chunks
@testable import Store

/// The chunk blob codec (issue 13): lossless round trips, the sizes that make chunks worth it, and damaged blobs
/// refused with an error instead of a trap.
struct ChunkCodecTests {
    private func roundTrip(_ timestamps: [Int64], _ values: [Double]) throws -> [UInt8] {
        let blob = ChunkCodec.encode(timestamps: timestamps, values: values)
        let decoded = try ChunkCodec.decode(blob)
        #expect(decoded.timestamps == timestamps)
        #expect(decoded.values.map(\.bitPattern) == values.map(\.bitPattern))
        return blob
    }

    @Test func aRegularDecimalSeriesTakesAboutAByteAReading() throws {
        // An hour of a temperature sensor at 1 Hz, two decimals, drifting by a few hundredths.
        var random = SplitMix64(seed: 7)
        var value = 2154
        var values: [Double] = []
        for _ in 0..<3600 {
            value += Int(random.next() % 5) - 2
            values.append(Double(value) / 100)
        }
        let timestamps = (0..<3600).map { 1_732_190_000_000 + Int64($0) * 1000 }
        let blob = try roundTrip(timestamps, values)
        #expect(Double(blob.count) / 3600 < 1.05, "\(blob.count) bytes")
    }

    @Test func irregularTimesAndEveryKindOfValueRoundTrip() throws {
        var random = SplitMix64(seed: 11)
        var timestamps: [Int64] = []
        var now: Int64 = 1_700_000_000_000
        for _ in 0..<500 {
            now += Int64(random.next() % 2000) + 1
            timestamps.append(now)
        }
        let decimals = (0..<500).map { _ in Double(Int64(random.next() % 200_000) - 100_000) / 1000 }
        let arbitrary = (0..<500).map { _ in Double(bitPattern: random.next() & 0x7fef_ffff_ffff_ffff) }
        var special = [0.0, -0.0, 1e300, -1e-300, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 3.0]
        special += Array(repeating: 42.5, count: 493)
        for values in [decimals, arbitrary, special] { _ = try roundTrip(timestamps, values) }
        _ = try roundTrip([5], [-0.0])
        _ = try roundTrip([], [])
        _ = try roundTrip([1, 2], [1e6, 2e6])
    }

    @Test func theCoarsestGridHoldingEveryValueIsChosen() {
        #expect(ChunkCodec.decimalExponent(of: [21.5, 21.54, 22]) == -2)
        #expect(ChunkCodec.decimalExponent(of: [1200, 3400]) == 2)
        #expect(ChunkCodec.decimalExponent(of: [0.1 + 0.2]) == nil)  // 0.30000000000000004: finer than 10^-15
        #expect(ChunkCodec.decimalExponent(of: [-0.0]) == nil)
        #expect(ChunkCodec.decimalExponent(of: [.nan]) == nil)
    }

    @Test func damagedBlobsAreRefusedNotTrapped() throws {
        let timestamps = (0..<50).map { Int64($0) * 1000 + 7 }
        let good = ChunkCodec.encode(timestamps: timestamps, values: timestamps.map { Double($0) / 10 })
        for cut in 0..<good.count {
            #expect(throws: ChunkDecodeError.self) { try ChunkCodec.decode(Array(good[0..<cut])) }
        }
        #expect(throws: ChunkDecodeError.self) { try ChunkCodec.decode(good + [0]) }
        var wrongVersion = good
        wrongVersion[0] = 9
        #expect(throws: ChunkDecodeError.self) { try ChunkCodec.decode(wrongVersion) }
        // A count far beyond the blob's size is refused before anything is allocated for it.
        #expect(throws: ChunkDecodeError.self) { try ChunkCodec.decode([1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]) }
        // Random bytes never trap.
        var random = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let length = Int(random.next() % 40)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if !bytes.isEmpty { bytes[0] = 1 }
            _ = try? ChunkCodec.decode(bytes)
        }
    }
}
