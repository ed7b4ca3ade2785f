// THROWAWAY: stand-ins for helper B's read pool, reader and compactor so this branch compiles alone. Deleted before
// the final commit; B's PostgresReadPool.swift and PostgresReader*.swift replace it.

import Chunks
import Postgres
import Storage

final class PostgresReadPool: Sendable {
    init(connection: String, maxIdle: Int, statementTimeoutMs: Int, connectTimeoutSeconds: Int) {}
    func withReader<T>(_ body: (PostgresReader) throws(StoreError) -> T) throws(StoreError) -> T {
        try body(PostgresReader())
    }
    func close() {}
}

struct PostgresReader {
    private var missing: StoreError { .invalidArgument("reads are not in this branch") }
    func readings(
        deviceID: String, sensor: String?, lowMs: Int64, highMs: Int64, limit: Int, order: ReadingOrder,
        after cursor: ReadingCursor?
    ) throws(StoreError) -> ReadingPage { throw missing }
    func series(
        deviceID: String, sensor: String, lowMs: Int64, highMs: Int64, stepMs: Int64, aggregate: SeriesAggregate
    ) throws(StoreError) -> [SeriesBucket] { throw missing }
    func latest(deviceID: String) throws(StoreError) -> [SensorLatest] { throw missing }
    func devices(namePrefix: String, limit: Int, after: String) throws(StoreError) -> [DeviceSummary] { throw missing }
    func device(named name: String) throws(StoreError) -> DeviceSummary? { throw missing }
    func counters(collector: String?) throws(StoreError) -> [CounterRow] { throw missing }
    func counterCollectors() throws(StoreError) -> [String] { throw missing }
    func counterHistory(stepMs: Int64, lowMs: Int64, highMs: Int64) throws(StoreError) -> [HistoryBucket] {
        throw missing
    }
    func revokedDevices() throws(StoreError) -> [RevokedDevice] { throw missing }
    func diskUsage() throws(StoreError) -> (chunkBytes: Int64, totalBytes: Int64) { throw missing }
}

struct PostgresCompactor {
    init(policy: ChunkPolicy = .standard, idleMs: Int64) {}
    mutating func noteWrite(seriesID: Int64, startTs: Int64, endTs: Int64, count: Int64, isInPast: Bool, nowNs: UInt64) {}
    mutating func step(
        on connection: PostgresConnection, nowNs: UInt64, compactAll: Bool
    ) throws(StoreError) -> (chunksMerged: UInt64, chunksWritten: UInt64) { (0, 0) }
}
