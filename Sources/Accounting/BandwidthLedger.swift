// The collector-wide bandwidth ledger: totals per (protocol, device), fed by connections on every loop thread, and
// the deltas not yet persisted. Connections accumulate locally and post to the ledger when a request or stream
// completes, periodically, and at close, so the lock is taken per call, never per byte.

import Synchronization

/// Thread-safe totals and unpersisted deltas of the bandwidth report. (The socket byte totals the attribution is
/// checked against are not here: the transports count them themselves, in EventIO's `TransportByteTotals`.)
public final class BandwidthLedger: Sendable {
    private struct State {
        var totals: [BandwidthKey: BandwidthCounters] = [:]
        var unpersisted: [BandwidthKey: BandwidthCounters] = [:]
        /// The other collectors' persisted totals, by collector, when several share the database.
        var others: [String: [BandwidthKey: BandwidthCounters]] = [:]
    }

    private let state = Mutex(State())

    /// Totals start from the rows already persisted (read back at startup); nothing is unpersisted yet. `others`:
    /// the other collectors' persisted totals when several share the database (see `setOthers`).
    public init(
        persisted: [BandwidthKey: BandwidthCounters] = [:], others: [String: [BandwidthKey: BandwidthCounters]] = [:]
    ) {
        state.withLock {
            $0.totals = persisted
            $0.others = others
        }
    }

    /// Adds counters to a row.
    public func add(_ key: BandwidthKey, _ counters: BandwidthCounters) {
        guard !counters.isZero else { return }
        state.withLock { state in
            state.totals[key, default: BandwidthCounters()] += counters
            state.unpersisted[key, default: BandwidthCounters()] += counters
        }
    }

    /// Every row's totals: this collector's, plus the other collectors' last read back (`setOthers`) when several
    /// share the database, so every replica reports the fleet.
    public func snapshot() -> [BandwidthKey: BandwidthCounters] {
        state.withLock { state in
            guard !state.others.isEmpty else { return state.totals }
            var merged = state.totals
            for rows in state.others.values {
                for (key, counters) in rows { merged[key, default: BandwidthCounters()] += counters }
            }
            return merged
        }
    }

    /// This collector's own totals (what it counted, plus what it persisted before it started).
    public func ownSnapshot() -> [BandwidthKey: BandwidthCounters] { state.withLock { $0.totals } }

    /// Replaces the other collectors' totals (read back from a shared database after each flush).
    public func setOthers(_ others: [String: [BandwidthKey: BandwidthCounters]]) {
        state.withLock { $0.others = others }
    }

    /// The other collectors' totals as last set, by collector.
    public func othersSnapshot() -> [String: [BandwidthKey: BandwidthCounters]] { state.withLock { $0.others } }

    /// Takes the deltas not yet persisted (the caller persists them, or gives them back with `restore`).
    public func takeUnpersisted() -> [BandwidthKey: BandwidthCounters] {
        state.withLock { state in
            defer { state.unpersisted = [:] }
            return state.unpersisted
        }
    }

    /// Returns deltas whose persisting failed, so the next flush tries again.
    public func restore(_ deltas: [BandwidthKey: BandwidthCounters]) {
        state.withLock { state in
            for (key, counters) in deltas { state.unpersisted[key, default: BandwidthCounters()] += counters }
        }
    }

    /// Sums rows per protocol: the fleet's (`snapshot`), or with `ownOnly` this collector's alone.
    public func perProtocol(ownOnly: Bool = false) -> [String: BandwidthCounters] {
        Self.perProtocol(ownOnly ? ownSnapshot() : snapshot())
    }

    /// Sums `rows` per protocol.
    public static func perProtocol(_ rows: [BandwidthKey: BandwidthCounters]) -> [String: BandwidthCounters] {
        var result: [String: BandwidthCounters] = [:]
        for (key, counters) in rows { result[key.protocolName, default: BandwidthCounters()] += counters }
        return result
    }
}
