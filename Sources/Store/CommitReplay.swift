// The replay of a Watch with `since_ms`: the stored readings from that time, read out of the snapshot the writer
// pinned when it registered the subscription (GroupCommitWriter+Feed.swift, replay rule), so the replay holds
// exactly the commits before the subscription and the live feed exactly those after it.
//
// Paging rule. The replay reads one page per request of the consumer (`CommitSubscription.requestReplayPage`), on
// a read thread: the followed series in (device, sensor) order, each from the chunk holding `sinceMs` on, in ts
// order, until a page holds about `pageReadings` readings; a page is one `CommittedBatch` (seq 0: chunks keep no
// seq) per series piece of at most `maxReadingsPerBatch` readings. So memory is one page, whatever the range, and
// the pace is the consumer's. The snapshot (an open read transaction on a pooled connection) is released after the
// last page, or when the subscription ends; while it is held, the WAL cannot be checkpointed past it.
//
// Bound rule. At most `maxConcurrentReplays` replays hold a snapshot (a pooled read connection in an open read
// transaction) at once; one more is refused with `tooManyReplays` before anything is pinned.

import Storage
import Synchronization
import Telemetry

/// Where a replay reads: the pool lending it a connection and the threads it reads on, and how many replays hold
/// a snapshot now.
struct ReplaySource: Sendable {
    let readPool: ReadPool
    let readThreads: ReadThreads
    let active = ActiveReplays()
}

/// The number of replays holding a snapshot, shared by the writer (which pins) and the threads that release.
final class ActiveReplays: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more replay unless `limit` are active; false when refused.
    func enter(limit: Int) -> Bool {
        if count.add(1, ordering: .relaxed).newValue <= limit { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    /// One replay released its snapshot.
    func leave() { count.subtract(1, ordering: .relaxed) }

    /// Replays holding a snapshot now.
    var current: Int { count.load(ordering: .relaxed) }
}

/// One subscription's replay: the pinned snapshot and the position in it (see the file comment).
final class CommitReplay: Sendable {
    /// A followed series, as the snapshot lists it.
    private struct PlannedSeries {
        var id: Int64
        var device: String
        var sensor: String
        var exponent: Int32?
    }

    private struct State {
        var connection: ExclusiveBox<ReadConnection>?
        var plan: [PlannedSeries]?
        var index = 0
        var afterStartTs = Int64.min
        var isReading = false
        var isReleased = false
    }

    /// Readings a page holds, about (a page ends after the chunk that reaches it).
    static let pageReadings = 8_192
    /// Most readings in one replayed batch (one Watch message).
    static let maxReadingsPerBatch = 4_096
    /// Most replays holding a snapshot at once (see the bound rule).
    static let maxConcurrentReplays = 16

    private let filter: CommitFilter
    private let sinceMs: Int64
    private let state: Mutex<State>

    private init(connection: ExclusiveBox<ReadConnection>, filter: CommitFilter, sinceMs: Int64) {
        self.filter = filter
        self.sinceMs = sinceMs
        self.state = Mutex(State(connection: connection))
    }

    /// Pins a snapshot on a pooled connection: BEGIN, then one SELECT, which takes the WAL snapshot. Writer thread,
    /// between transactions; takes microseconds. Nil when `maxConcurrentReplays` hold one already.
    static func pin(source: ReplaySource, filter: CommitFilter, sinceMs: Int64) throws(StoreError) -> CommitReplay? {
        guard source.active.enter(limit: maxConcurrentReplays) else { return nil }
        let box: ExclusiveBox<ReadConnection>
        do throws(StoreError) {
            box = try source.readPool.checkOut()
        } catch {
            source.active.leave()
            throw error
        }
        do throws(StoreError) {
            try box.withExclusiveAccess { (connection) throws(StoreError) in
                try connection.statement("BEGIN", operation: "begin replay snapshot").run()
                let select = try connection.statement("SELECT 1 FROM series LIMIT 1", operation: "pin replay snapshot")
                try connection.forEachRow(select) { _ in }
            }
        } catch {
            end(box, source: source)
            throw error
        }
        return CommitReplay(connection: box, filter: filter, sinceMs: sinceMs)
    }

    /// Serves `subscription`'s page requests from now on, and releases the snapshot when it ends.
    func attach(to subscription: CommitSubscription, source: ReplaySource) {
        subscription.setReplayPager { [self] in schedulePage(for: subscription, source: source) }
        subscription.onEnd { [self] in release(source: source, onReadThread: false) }
    }

    private func schedulePage(for subscription: CommitSubscription, source: ReplaySource) {
        let canRead = state.withLock { state -> Bool in
            guard !state.isReading, !state.isReleased, state.connection != nil else { return false }
            state.isReading = true
            return true
        }
        guard canRead else { return }
        do throws(StoreError) {
            try source.readThreads.execute { [self] in readPage(for: subscription, source: source) }
        } catch {
            state.withLock { $0.isReading = false }
            subscription.end(.failed(error))
        }
    }

    /// Reads the next page on a read thread and hands it to the consumer.
    private func readPage(for subscription: CommitSubscription, source: ReplaySource) {
        let (box, position) = state.withLock { ($0.connection, ($0.plan, $0.index, $0.afterStartTs)) }
        guard let box else { return }
        var plan = position.0
        var index = position.1
        var afterStartTs = position.2
        let result = Result { () throws(StoreError) -> [CommittedBatch] in
            try box.withExclusiveAccess { (connection) throws(StoreError) -> [CommittedBatch] in
                if plan == nil { plan = try Self.followedSeries(connection, filter) }
                return try nextPage(connection, plan!, &index, &afterStartTs)
            }
        }
        let isReleased = state.withLock { state -> Bool in
            state.isReading = false
            state.plan = plan
            state.index = index
            state.afterStartTs = afterStartTs
            return state.isReleased
        }
        if isReleased {
            release(source: source, onReadThread: true)
            return
        }
        switch result {
        case .success(let batches):
            let isLast = index >= (plan?.count ?? 0)
            if isLast {
                subscription.setReplayPager(nil)
                release(source: source, onReadThread: true)
            }
            subscription.deliver(.replayed(batches, isLast: isLast))
        case .failure(let error):
            subscription.end(.failed(error))
        }
    }

    /// The series the filter follows, in (device, sensor) order.
    private static func followedSeries(
        _ connection: ReadConnection, _ filter: CommitFilter
    ) throws(StoreError) -> [PlannedSeries] {
        let select = try connection.statement(
            """
            SELECT s.id, d.name, s.sensor, s.exponent FROM series s JOIN devices d ON d.id = s.device_id
            ORDER BY d.name, s.sensor
            """, operation: "list replayed series")
        var plan: [PlannedSeries] = []
        try connection.forEachRow(select) { row in
            let device = row.text(at: 1)
            let sensor = row.text(at: 2)
            guard filter.follows(device: device), filter.follows(sensor: sensor) else { return }
            plan.append(
                PlannedSeries(
                    id: row.int64(at: 0), device: device, sensor: sensor,
                    exponent: row.optionalInt64(at: 3).map { Int32(truncatingIfNeeded: $0) }))
        }
        return plan
    }

    /// The chunks of a series after `?3` that may hold readings at or after `?2`, in ts order.
    private static let chunksSQL = """
        SELECT start_ts, end_ts, data FROM chunks
        WHERE series_id = ?1 AND start_ts > ?3 AND end_ts >= ?2
          AND start_ts >= coalesce((SELECT max(start_ts) FROM chunks WHERE series_id = ?1 AND start_ts <= ?2), ?2)
        ORDER BY start_ts LIMIT 16
        """

    /// Reads about `pageReadings` readings from the position on, advancing it.
    private func nextPage(
        _ connection: ReadConnection, _ plan: [PlannedSeries], _ index: inout Int, _ afterStartTs: inout Int64
    ) throws(StoreError) -> [CommittedBatch] {
        let select = try connection.statement(Self.chunksSQL, operation: "read replayed chunks")
        var page: [CommittedBatch] = []
        var readings = 0
        while readings < Self.pageReadings, index < plan.count {
            let series = plan[index]
            select.bind(series.id, at: 1)
            select.bind(sinceMs, at: 2)
            select.bind(afterStartTs, at: 3)
            var rows = 0
            var run = StoredRun()
            try connection.forEachRow(select) { (row) throws(StoreError) in
                rows += 1
                afterStartTs = row.int64(at: 0)
                let decoded = try ReadConnection.decodeChunk(row, seriesID: series.id)
                for (ts, value) in zip(decoded.timestamps, decoded.values) where ts >= sinceMs {
                    run.times.append(ts)
                    run.values.append(value)
                }
            }
            readings += run.times.count
            var start = 0
            while start < run.times.count {
                let end = min(start + Self.maxReadingsPerBatch, run.times.count)
                let entry = SensorReadings(
                    sensor: series.sensor, exponent: series.exponent, timestamps: Array(run.times[start..<end]),
                    values: Array(run.values[start..<end]))
                page.append(CommittedBatch(deviceID: series.device, batch: ReadingBatch(seq: 0, sensors: [entry])))
                start = end
            }
            if rows < 16 {
                index += 1
                afterStartTs = .min
            }
        }
        return page
    }

    /// Ends the snapshot and gives the connection back, once; waits for a page being read to finish first.
    private func release(source: ReplaySource, onReadThread: Bool) {
        let box = state.withLock { state -> ExclusiveBox<ReadConnection>? in
            state.isReleased = true
            guard !state.isReading else { return nil }  // the reading thread releases after its page
            defer { state.connection = nil }
            return state.connection
        }
        guard let box else { return }
        if onReadThread {
            Self.end(box, source: source)
        } else {
            // Off the consumer's thread (an event loop): ending a read transaction is quick but is SQLite work.
            do throws(StoreError) {
                try source.readThreads.execute { Self.end(box, source: source) }
            } catch {
                Self.end(box, source: source)
            }
        }
    }

    /// Ends the read transaction, returns the connection to the pool, and counts the replay out.
    private static func end(_ box: ExclusiveBox<ReadConnection>, source: ReplaySource) {
        box.withExclusiveAccess { connection in
            if connection.database.isInTransaction {
                _ = try? connection.statement("COMMIT", operation: "end replay snapshot").run()
            }
        }
        source.readPool.checkIn(box)
        source.active.leave()
    }
}
