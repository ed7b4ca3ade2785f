import Testing

import Storage
@testable import Store

@Suite struct LatencyHistogramTests {
    @Test func observationsLandInTheFirstBucketWhoseBoundHoldsThem() {
        var histogram = LatencyHistogram(boundsMs: [1, 5, 10])
        for ms in [0.2, 1, 1.01, 5, 9.9, 10, 10.5, 400] { histogram.record(ms) }
        #expect(histogram.counts == [2, 2, 2, 2], "≤1: 0.2, 1; ≤5: 1.01, 5; ≤10: 9.9, 10; above: 10.5, 400")
        #expect(histogram.count == 8)
        #expect(abs(histogram.sumMs - 437.61) < 1e-9)
    }

    @Test func addingMergesBucketsAndSums() {
        var total = LatencyHistogram.batchBuckets()
        var part = LatencyHistogram.batchBuckets()
        part.record(3)
        part.record(2_000)
        total.record(0.1)
        total.add(part)
        #expect(total.count == 3)
        #expect(total.counts.first == 1 && total.counts.last == 1)
        #expect(total.sumMs == 2_003.1)
    }
}
