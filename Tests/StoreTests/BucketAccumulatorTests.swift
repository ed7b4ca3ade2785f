import Storage
import Testing

@testable import Chunks
@testable import Store

/// Bucket starts: floored toward −∞, and no trap at the ends of the Int64 range.
@Suite struct BucketAccumulatorTests {
    static let cases: [(ts: Int64, start: Int64)] = [
        (0, 0), (999, 0), (1_000, 1_000), (-1, -1_000), (-1_000, -1_000), (-1_001, -2_000),
        (Int64.max, 9_223_372_036_854_775_000), (-9_223_372_036_854_774_808, -9_223_372_036_854_775_000),
        // Within one step of Int64.min the floor does not fit: the bucket starts at Int64.min.
        (Int64.min, Int64.min), (Int64.min + 1, Int64.min),
    ]

    @Test(arguments: cases)
    func bucketStartsAreFlooredAndNeverTrap(ts: Int64, start: Int64) {
        #expect(BucketAccumulator(stepMs: 1_000).bucket(of: ts) == start)
    }

    @Test func aReadingAtTheSmallestTimeIsQueriedWithoutATrap() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        _ = try await store.store(deviceID: "edge", batch: makeBatch(seq: 1, [("t", [(.min, 1), (.min + 5, 2), (0, 3)])]))
        let buckets = try store.series(deviceID: "edge", sensor: "t", stepMs: 1_000, aggregate: .sum)
        #expect(buckets == [SeriesBucket(startMs: .min, value: 3, count: 2), SeriesBucket(startMs: 0, value: 3, count: 1)])
    }
}
