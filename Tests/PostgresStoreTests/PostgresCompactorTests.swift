import Chunks
import Foundation
import Postgres
import PostgresTestSupport
import SplitMix
import Storage
import Telemetry
import Testing

@testable import PostgresStore

/// Compaction on PostgreSQL: small chunks become fewer chunks cut by the policy, every reading and every query
/// answer unchanged; the "when" rule; a series another transaction holds is left alone; a failed step changes
/// nothing.
@Suite(
    .serialized,
    .enabled(
        if: TestPostgresServer.isAvailable,
        "no PostgreSQL server binaries (initdb, pg_ctl; as root also runuser and a postgres user): install postgresql"),
    .postgresServer)
struct PostgresCompactorTests {
    /// Chunks of at most 50 readings or 10 s: small enough that a few hundred readings make several.
    static let policy = ChunkPolicy(maxReadings: 50, maxSpanMs: 10_000)

    /// Two devices' series in chunks of 1…5 readings (ids 1…3), stored, and the model.
    static func makeSmallChunks() throws -> (url: String, model: ReaderModel) {
        var random = SplitMix64(seed: 42)
        var model = ReaderModel()
        model.addDevice("dev-a", firstSeenMs: 1, lastSeenMs: 2, batches: 1, lastSeq: 1)
        model.addDevice("dev-b", firstSeenMs: 1, lastSeenMs: 2, batches: 1, lastSeq: 1)
        model.series = [
            ModelSeries(
                id: 1, device: "dev-a", sensor: "temp", exponent: nil,
                chunks: makeChunks(&random, startTs: -30_000, count: 400, maxGapMs: 300, maxChunk: 5)),
            ModelSeries(
                id: 2, device: "dev-a", sensor: "hum", exponent: nil,
                chunks: makeChunks(&random, startTs: 0, count: 180, maxGapMs: 100, maxChunk: 4)),
            ModelSeries(
                id: 3, device: "dev-b", sensor: "temp", exponent: nil,
                chunks: makeChunks(&random, startTs: 10_000, count: 120, maxGapMs: 2_000, maxChunk: 3)),
            // Infinities in separate small chunks: merged, their chunk's sum is NULL.
            ModelSeries(
                id: 4, device: "dev-b", sensor: "inf", exponent: nil,
                chunks: [([0, 1], [1, .infinity]), ([2], [-.infinity]), ([3, 4], [5, 6]), ([5], [7])]),
        ]
        let url = try makeSchemaDatabase()
        try model.store(on: PostgresConnection(connectingTo: url))
        return (url, model)
    }

    /// Notes every chunk of the model as the writer would.
    static func noteAll(_ model: ReaderModel, in compactor: inout PostgresCompactor, nowNs: UInt64 = 0) {
        for series in model.series {
            for chunk in series.chunks {
                compactor.noteWrite(
                    seriesID: series.id, startTs: chunk.times.first!, endTs: chunk.times.last!,
                    count: Int64(chunk.times.count), isInPast: false, nowNs: nowNs)
            }
        }
    }

    /// Everything a reader answers about the model's devices, to compare before and after compaction.
    static func answers(_ url: String) throws -> String {
        let pool = PostgresReadPool(connection: url, maxIdle: 1, statementTimeoutMs: 10_000, connectTimeoutSeconds: 5)
        defer { pool.close() }
        return try pool.withReader { (reader) throws(StoreError) -> String in
            var text = ""
            for device in ["dev-a", "dev-b"] {
                for order in [ReadingOrder.ascending, .descending] {
                    let page = try reader.readings(
                        deviceID: device, sensor: nil, lowMs: .min, highMs: .max, limit: 10_000, order: order,
                        after: nil)
                    text += "\(page)\n"
                }
                text += "\(try reader.latest(deviceID: device))\n"
                for sensor in ["temp", "hum", "inf"] {
                    for step: Int64 in [1_000, 7_000, 60_000] {
                        for aggregate in [SeriesAggregate.count, .min, .max, .last] {
                            let buckets = try reader.series(
                                deviceID: device, sensor: sensor, lowMs: .min, highMs: .max, stepMs: step,
                                aggregate: aggregate)
                            text += "\(buckets)\n"
                        }
                        let sums = try reader.series(
                            deviceID: device, sensor: sensor, lowMs: .min, highMs: .max, stepMs: step, aggregate: .sum)
                        // Sums may differ in their last bits by the cut into chunks (rounded), and a NaN in its sign.
                        text += "\(sums.map { ($0.startMs, $0.value.isNaN ? .nan : ($0.value * 1e6).rounded()) })\n"
                    }
                }
            }
            return text
        }
    }

    /// Checks that a series' stored chunks hold exactly `expected`, do not overlap, respect the policy when
    /// `isCompacted`, and carry the summary of their readings.
    static func expectChunks(
        of series: ModelSeries, on connection: PostgresConnection, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Int {
        let chunks = try storedChunks(seriesID: series.id, on: connection)
        let readings = chunks.flatMap { zip($0.times, $0.values).map { ($0, $1) } }
        #expect(readings.map(\.0) == series.readings.map(\.ts), sourceLocation: sourceLocation)
        #expect(readings.map(\.1) == series.readings.map(\.value), sourceLocation: sourceLocation)
        for (index, chunk) in chunks.enumerated() {
            #expect(chunk.start == chunk.times.first && chunk.end == chunk.times.last, sourceLocation: sourceLocation)
            #expect(chunk.count == Int64(chunk.times.count), sourceLocation: sourceLocation)
            #expect(chunk.times.count <= policy.maxReadings || chunk.count <= 5, sourceLocation: sourceLocation)
            if index > 0 { #expect(chunks[index - 1].end < chunk.start, sourceLocation: sourceLocation) }
        }
        let summaries = try connection.execute(
            "SELECT value_min, value_max, value_sum, value_first, value_last FROM chunks WHERE series_id = $1 "
                + "ORDER BY start_ts", parameters: [.int(series.id)]
        ).rows
        for (chunk, row) in zip(chunks, summaries) {
            let summary = ChunkSummary(timestamps: chunk.times[...], values: chunk.values[...])
            #expect(try row.double(at: 0) == summary.min, sourceLocation: sourceLocation)
            #expect(try row.double(at: 1) == summary.max, sourceLocation: sourceLocation)
            // +inf plus -inf has no sum: stored as NULL.
            let storedSum = try row.double(at: 2)
            #expect(
                summary.sum.value.isNaN ? storedSum == nil : isClose(storedSum ?? .nan, summary.sum.value),
                sourceLocation: sourceLocation)
            #expect(try row.double(at: 3) == summary.first, sourceLocation: sourceLocation)
            #expect(try row.double(at: 4) == summary.last, sourceLocation: sourceLocation)
        }
        return chunks.count
    }

    @Test func compactAllMergesSmallChunksAndKeepsEveryReadingAndAnswer() throws {
        let (url, model) = try Self.makeSmallChunks()
        let before = try Self.answers(url)
        let connection = try PostgresConnection(connectingTo: url)
        var compactor = PostgresCompactor(policy: Self.policy, idleMs: 60_000)
        Self.noteAll(model, in: &compactor)
        let chunksBefore = model.series.reduce(0) { $0 + $1.chunks.count }
        let outcome = try compactor.step(on: connection, nowNs: 1, compactAll: true)
        var chunksAfter = 0
        for series in model.series { chunksAfter += try Self.expectChunks(of: series, on: connection) }
        #expect(outcome.chunksMerged > 0)
        #expect(Int(outcome.chunksMerged) - Int(outcome.chunksWritten) == chunksBefore - chunksAfter)
        #expect(chunksAfter < chunksBefore / 3, "\(chunksBefore) → \(chunksAfter)")
        #expect(try Self.answers(url) == before)
        #expect(connection.transactionStatus == .idle)
        // Nothing left to merge: another step reads the tails but writes nothing.
        let again = try compactor.step(on: connection, nowNs: 10_000_000_000_000, compactAll: true)
        #expect(again == (0, 0))
        var chunksAgain = 0
        for series in model.series { chunksAgain += try storedChunks(seriesID: series.id, on: connection).count }
        #expect(chunksAgain == chunksAfter)
    }

    @Test func stepsFollowTheWhenRuleWithinTheirBudget() throws {
        let (url, model) = try Self.makeSmallChunks()
        let before = try Self.answers(url)
        let connection = try PostgresConnection(connectingTo: url)
        let idleMs: Int64 = 60_000
        var compactor = PostgresCompactor(policy: Self.policy, idleMs: idleMs)
        // Only the first few chunks of series 3 (far from filling a chunk): not ready.
        let small = model.series[2]
        for chunk in small.chunks.prefix(3) {
            compactor.noteWrite(
                seriesID: small.id, startTs: chunk.times.first!, endTs: chunk.times.last!,
                count: Int64(chunk.times.count), isInPast: false, nowNs: 0)
        }
        let isReadyEarly = compactor.hasReadyWork(nowNs: 1)
        #expect(!isReadyEarly)
        let earlyStep = try compactor.step(on: connection, nowNs: 1, compactAll: false)
        #expect(earlyStep == (0, 0))
        // Everything noted: series 1 and 2 can fill chunks, so they are ready.
        Self.noteAll(model, in: &compactor, nowNs: 2)
        let isReadyOnceFull = compactor.hasReadyWork(nowNs: 3)
        #expect(isReadyOnceFull)
        var merged: UInt64 = 0
        var steps = 0
        while compactor.hasReadyWork(nowNs: 3) && steps < 100 {
            merged += try compactor.step(on: connection, nowNs: 3, compactAll: false).chunksMerged
            steps += 1
        }
        #expect(merged > 0)
        #expect(try Self.answers(url) == before)
        // Once idle, the tails are merged too.
        var idleNow = UInt64(idleMs) * 1_000_000 + 10_000_000_000
        while compactor.hasReadyWork(nowNs: idleNow) && steps < 200 {
            merged += try compactor.step(on: connection, nowNs: idleNow, compactAll: false).chunksMerged
            steps += 1
            idleNow += 2_000_000_000  // idle series are looked for once a second
        }
        for series in model.series {
            let count = try Self.expectChunks(of: series, on: connection)
            let readings = series.readings
            // Compacted greedily by the policy: no two neighbours could have been one chunk.
            #expect(count <= Self.policy.cut(readings.map(\.ts)[...]).count + 1, "series \(series.id): \(count)")
        }
        #expect(try Self.answers(url) == before)
        #expect(compactor.schedule.series.isEmpty)
    }

    @Test func aSeriesHeldByAnotherTransactionIsLeftAloneUntilItIsFree() throws {
        let (url, model) = try Self.makeSmallChunks()
        let before = try Self.answers(url)
        let connection = try PostgresConnection(connectingTo: url)
        let other = try PostgresConnection(connectingTo: url)
        try other.execute("BEGIN")
        try other.execute("SELECT 1 FROM series WHERE id = $1 FOR UPDATE", parameters: [.int(1)])
        var compactor = PostgresCompactor(policy: Self.policy, idleMs: 60_000)
        Self.noteAll(model, in: &compactor)
        let first = try compactor.step(on: connection, nowNs: 1, compactAll: true)
        #expect(first.chunksMerged > 0, "the free series are compacted")
        #expect(
            try storedChunks(seriesID: 1, on: connection).count == model.series[0].chunks.count, "series 1 untouched")
        #expect(try Self.expectChunks(of: model.series[0], on: connection) == model.series[0].chunks.count)
        let isStillReady = compactor.hasReadyWork(nowNs: 2)
        #expect(isStillReady, "series 1 waits for a later step")
        // Still held: another step leaves it again, cleanly.
        let heldStep = try compactor.step(on: connection, nowNs: 2, compactAll: true)
        #expect(heldStep == (0, 0))
        #expect(connection.transactionStatus == .idle)
        try other.execute("COMMIT")
        let second = try compactor.step(on: connection, nowNs: 3, compactAll: true)
        #expect(second.chunksMerged > 0)
        for series in model.series { _ = try Self.expectChunks(of: series, on: connection) }
        #expect(try storedChunks(seriesID: 1, on: connection).count < model.series[0].chunks.count)
        #expect(try Self.answers(url) == before)
    }

    @Test func aFailedStepRollsBackEverythingAndIsRetried() throws {
        let (url, model) = try Self.makeSmallChunks()
        let connection = try PostgresConnection(connectingTo: url)
        // Damage a chunk of series 3, compacted after series 1 and 2 in the same transaction.
        let victim = model.series[2]
        let start = victim.chunks[1].times[0]
        let good = try connection.execute(
            "SELECT data FROM chunks WHERE series_id = $1 AND start_ts = $2",
            parameters: [.int(victim.id), .int(start)]
        ).rows[0].bytes(at: 0)!
        try connection.execute(
            "UPDATE chunks SET data = $1 WHERE series_id = $2 AND start_ts = $3",
            parameters: [.bytes([0xFF]), .int(victim.id), .int(start)])
        var compactor = PostgresCompactor(policy: Self.policy, idleMs: 60_000)
        Self.noteAll(model, in: &compactor)
        do {
            _ = try compactor.step(on: connection, nowNs: 1, compactAll: true)
            Issue.record("a damaged chunk was compacted")
        } catch {
            guard case .postgres(let state, _, let message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(state == "XX001")
            #expect(message.contains("series \(victim.id) chunk at \(start)"))
        }
        #expect(connection.transactionStatus == .idle)
        for series in model.series {
            let count = try connection.execute(
                "SELECT count(*) FROM chunks WHERE series_id = $1", parameters: [.int(series.id)]
            ).rows[0].int(at: 0)
            #expect(count == Int64(series.chunks.count))
        }
        // Repaired, the same compactor does the whole work on its next step.
        try connection.execute(
            "UPDATE chunks SET data = $1 WHERE series_id = $2 AND start_ts = $3",
            parameters: [.bytes(good), .int(victim.id), .int(start)])
        let outcome = try compactor.step(on: connection, nowNs: 2, compactAll: true)
        #expect(outcome.chunksMerged > 0)
        for series in model.series {
            #expect(try Self.expectChunks(of: series, on: connection) < series.chunks.count)
        }
    }

    @Test func aChunkLandingBetweenCompactedChunksIsMergedWithItsNeighbours() throws {
        var (url, model) = try Self.makeSmallChunks()
        let connection = try PostgresConnection(connectingTo: url)
        var compactor = PostgresCompactor(policy: Self.policy, idleMs: 60_000)
        Self.noteAll(model, in: &compactor)
        _ = try compactor.step(on: connection, nowNs: 1, compactAll: true)
        // Two late readings in a gap of series 1, each stored as a chunk of its own between compacted chunks: noted
        // as in the past, they make the series ready again, and the two small chunks become one.
        var readings = model.series[0].readings
        let gap = readings.indices.dropFirst(100).first { readings[$0].ts - readings[$0 - 1].ts >= 3 }!
        let late = [(ts: readings[gap - 1].ts + 1, value: 12.5), (ts: readings[gap - 1].ts + 2, value: -0.5)]
        for reading in late {
            try insertChunk(PreparedChunk([reading.ts], [reading.value]), seriesID: 1, on: connection)
            compactor.noteWrite(
                seriesID: 1, startTs: reading.ts, endTs: reading.ts, count: 1, isInPast: true, nowNs: 2)
        }
        readings.insert(contentsOf: late, at: gap)
        model.series[0].chunks = [(readings.map(\.ts), readings.map(\.value))]
        let chunksBefore = try storedChunks(seriesID: 1, on: connection).count
        let isReady = compactor.hasReadyWork(nowNs: 3)
        #expect(isReady)
        let outcome = try compactor.step(on: connection, nowNs: 3, compactAll: false)
        #expect(outcome == (2, 1))
        _ = try Self.expectChunks(of: model.series[0], on: connection)
        let chunks = try storedChunks(seriesID: 1, on: connection)
        #expect(chunks.count == chunksBefore - 1)
        #expect(chunks.contains { $0.times == late.map(\.ts) }, "the late readings share one chunk")
    }

    @Test func chunksCutByTheSpanBoundAreMergedOnceAndTheStepEnds() throws {
        // Dense readings (15…30 ms apart) under a 1 s span bound: most chunks the policy cuts are ended by the span
        // with fewer than maxReadings readings, so they still count as small. Compaction must still end, rewrite
        // each reading about once, and leave the policy's own cut alone afterwards.
        let policy = ChunkPolicy(maxReadings: 50, maxSpanMs: 1_000)
        var random = SplitMix64(seed: 3)
        var times: [Int64] = []
        var ts: Int64 = -5_000
        for _ in 0..<2_000 {
            times.append(ts)
            ts += 15 + Int64(random.next() % 16)
        }
        var chunks: [(times: [Int64], values: [Double])] = []
        var start = 0
        while start < times.count {
            let end = min(times.count, start + 1 + Int(random.next() % 5))
            chunks.append((Array(times[start..<end]), times[start..<end].map { Double($0) / 10 }))
            start = end
        }
        var model = ReaderModel()
        model.addDevice("dev-a", firstSeenMs: 1, lastSeenMs: 2, batches: 1, lastSeq: 1)
        model.series = [ModelSeries(id: 1, device: "dev-a", sensor: "temp", exponent: nil, chunks: chunks)]
        let url = try makeSchemaDatabase()
        let connection = try PostgresConnection(connectingTo: url)
        try model.store(on: connection)
        let before = try Self.answers(url)
        var compactor = PostgresCompactor(policy: policy, idleMs: 60_000)
        Self.noteAll(model, in: &compactor)
        let outcome = try compactor.step(on: connection, nowNs: 1, compactAll: true)
        let stored = try storedChunks(seriesID: 1, on: connection)
        #expect(stored.map(\.times) == policy.cut(times[...]).map { Array(times[$0]) }, "the policy's own cut")
        #expect(outcome.chunksMerged < UInt64(chunks.count) * 2, "\(outcome) for \(chunks.count) chunks")
        #expect(try Self.answers(url) == before)
        let again = try compactor.step(on: connection, nowNs: 2, compactAll: true)
        #expect(again == (0, 0))
    }

    @Test func readingsInThePastMakeASeriesReady() {
        var compactor = PostgresCompactor(policy: Self.policy, idleMs: 60_000)
        compactor.noteWrite(seriesID: 9, startTs: 1_000, endTs: 1_010, count: 2, isInPast: false, nowNs: 0)
        let isReadyInOrder = compactor.hasReadyWork(nowNs: 1)
        #expect(!isReadyInOrder)
        compactor.noteWrite(seriesID: 9, startTs: 500, endTs: 500, count: 1, isInPast: true, nowNs: 2)
        let isReadyAfterPast = compactor.hasReadyWork(nowNs: 3)
        #expect(isReadyAfterPast)
        // A full chunk written in order is not noted at all.
        var other = PostgresCompactor(policy: Self.policy, idleMs: 60_000)
        other.noteWrite(seriesID: 1, startTs: 0, endTs: 100, count: 50, isInPast: false, nowNs: 0)
        #expect(other.schedule.series.isEmpty)
    }
}
