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
    }

    private let state = Mutex(State())

    /// Totals start from the rows already persisted (read back at startup); nothing is unpersisted yet.
    public init(persisted: [BandwidthKey: BandwidthCounters] = [:]) {
        state.withLock { $0.totals = persisted }
    }

    /// Adds counters to a row.
    public func add(_ key: BandwidthKey, _ counters: BandwidthCounters) {
        guard !counters.isZero else { return }
        state.withLock { state in
            state.totals[key, default: BandwidthCounters()] += counters
            state.unpersisted[key, default: BandwidthCounters()] += counters
        }
    }

    /// Every row's totals.
    public func snapshot() -> [BandwidthKey: BandwidthCounters] { state.withLock { $0.totals } }

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

    /// Sums rows per protocol.
    public func perProtocol() -> [String: BandwidthCounters] {
        var result: [String: BandwidthCounters] = [:]
        for (key, counters) in snapshot() { result[key.protocolName, default: BandwidthCounters()] += counters }
        return result
    }
}
