import Foundation
import SplitMix
import Storage
import Testing

@testable import Chunks
@testable import Store

/// A compaction pass that stops inside a long run resumes at the first chunk it did not read, so it always moves
/// forward (found in the PostgreSQL compactor, which shares the rule: resuming at the last chunk written could
/// read the same chunks forever when the policy's cut reproduced them).
@Suite struct CompactorResumeTests {
    @Test func chunksCutByTheSpanBoundAreMergedAndTheStepsEnd() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Dense readings (15…30 ms apart) in small batches: each batch commits alone, one small chunk each.
        var random = SplitMix64(seed: 3)
        var ts: Int64 = -5_000
        var expected: [(Int64, Double)] = []
        let store = try TelemetryStore(path: directory.path())
        for seq in 1...400 {
            var readings: [(Int64, Double)] = []
            for _ in 0...Int(random.next() % 5) {
                readings.append((ts, Double(ts) / 10))
                ts += 15 + Int64(random.next() % 16)
            }
            expected += readings
            _ = try await store.store(deviceID: "d", batch: makeBatch(seq: UInt64(seq), [("t", readings)]))
        }
        store.close()

        // Compact with a policy whose chunks end by span (1 s) with fewer than 50 readings: still "small".
        let database = try Database(path: directory.path(), mode: .readWrite, busyTimeoutMs: 1_000)
        let statements = try CompactorStatements(database)
        let compactor = Compactor(policy: ChunkPolicy(maxReadings: 50, maxSpanMs: 1_000), maxReadingsPerStep: 60)
        compactor.noteUnknown(seriesID: 1, fromTs: .min, nowNs: 0)
        compactor.makeEverythingReady()
        var steps = 0
        while compactor.hasReadyWork(nowNs: 0) {
            _ = try compactor.step(database, statements: statements, force: true)
            steps += 1
            try #require(steps < 1_000, "compaction did not end")
        }
        let raw = try RawConnection(path: directory.path())
        let stored = try raw.rows("SELECT 't', ts, value FROM readings WHERE device = 'd' ORDER BY ts")
        #expect(stored.map(\.1) == expected.map(\.0))
        #expect(stored.map(\.2) == expected.map(\.1))
        #expect(try raw.integer("SELECT count(*) FROM chunks") < 400)
    }
}
