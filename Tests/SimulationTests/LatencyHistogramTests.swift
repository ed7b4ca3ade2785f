import SplitMix
import Testing

@testable import Simulation

#if canImport(Glibc)
    import Glibc
#endif

/// Percentiles from the log-bucket histogram against an exact sort.
@Suite struct LatencyHistogramTests {
    /// The exact nearest-rank percentile.
    static func exact(_ sorted: [UInt64], _ fraction: Double) -> UInt64 {
        sorted[max(1, Int((fraction * Double(sorted.count)).rounded(.up))) - 1]
    }

    @Test(arguments: [10, 1_000, 100_000] as [Int], [1, 2, 3] as [UInt64])
    func percentilesAreWithinOnePercentOfTheExactOnes(samples: Int, seed: UInt64) {
        // Log-normal latencies around 2 ms with a long tail, plus a few sub-microsecond and multi-second outliers.
        var random = SplitMix64(seed: seed)
        var values: [UInt64] = []
        var histogram = LatencyHistogram()
        for i in 0..<samples {
            var ns = UInt64(2_000_000 * exp(0.8 * random.nextGaussian() * 1.5))
            if i % 97 == 0 { ns = random.next() % 300 }
            if i % 211 == 0 { ns = 3_000_000_000 + random.next() % 5_000_000_000 }
            values.append(ns)
            histogram.record(ns)
        }
        values.sort()
        for fraction in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let expected = Self.exact(values, fraction)
            let got = histogram.percentile(fraction)!
            let error = abs(Double(got) - Double(expected)) / max(Double(expected), 1)
            #expect(error <= 0.01, "p\(fraction * 100): \(got) vs exact \(expected)")
        }
        #expect(histogram.count == Int64(samples))
        #expect(histogram.minNs == values.first! && histogram.maxNs == values.last!)
        #expect(histogram.totalNs == values.reduce(0, +))
    }

    @Test func bucketsTileTheValuesWithoutGapsAndWithinTheirBound() {
        // Walk the bucket boundaries: each bucket's values map to it, and its width is ≤ 1/128 of its lower bound.
        var previous = -1
        var value: UInt64 = 0
        while value < LatencyHistogram.largestTrackable {
            let index = LatencyHistogram.index(of: value)
            #expect(index == previous + 1)
            let group = max(0, index / LatencyHistogram.subBucketCount - 1)
            let width = UInt64(1) << UInt64(group)
            #expect(index < 256 || width * 128 <= value)
            #expect(LatencyHistogram.index(of: value + width - 1) == index)
            previous = index
            value += width
        }
        #expect(previous == LatencyHistogram.bucketCount - 1)
        #expect(LatencyHistogram.index(of: .max) == LatencyHistogram.bucketCount - 1)
    }

    @Test func smallValuesAreExactAndEmptyHasNoPercentile() {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(0.5) == nil)
        for ns: UInt64 in [5, 1, 3, 2, 4] { histogram.record(ns) }
        #expect(histogram.percentile(0.5) == 3)
        #expect(histogram.percentile(0.2) == 1)
        #expect(histogram.percentile(1) == 5)
    }

    @Test func mergingEqualsRecordingEverythingInOne() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        var both = LatencyHistogram()
        var random = SplitMix64(seed: 5)
        for i in 0..<10_000 {
            let ns = random.next() % 50_000_000
            if i % 3 == 0 { a.record(ns) } else { b.record(ns) }
            both.record(ns)
        }
        a.merge(b)
        #expect(a == both)
        var latencies = ProtocolLatencies()
        latencies.record(7, for: .rest)
        var other = ProtocolLatencies()
        other.record(9, for: .rest)
        other.record(1, for: .grpcUnary)
        latencies.merge(other)
        #expect(latencies[.rest].count == 2 && latencies[.grpcUnary].count == 1 && latencies[.grpcStream].count == 0)
    }
}
