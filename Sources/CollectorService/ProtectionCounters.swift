// What the collector's defences did: timeouts that ended requests or connections, and HTTP/2 floods answered with
// GOAWAY(ENHANCE_YOUR_CALM). Connection refusals are counted by the listener's ConnectionLimiter. Read by /metrics.

import Synchronization

/// Thread-safe tallies of the defences at work.
package final class ProtectionCounters: Sendable {
    private struct State {
        var timeouts: [ProtectionTimeout: Int64] = [:]
        var floods: [String: Int64] = [:]
    }
    private let state = Mutex(State())

    /// Counters at zero.
    package init() {}

    /// A timeout fired.
    package func timedOut(_ kind: ProtectionTimeout) {
        state.withLock { $0.timeouts[kind, default: 0] += 1 }
    }

    /// An HTTP/2 connection was ended as a flood (`reason`: HTTP2Flood's raw value).
    package func flood(_ reason: String) {
        state.withLock { $0.floods[reason, default: 0] += 1 }
    }

    func timeoutCounts() -> [ProtectionTimeout: Int64] { state.withLock { $0.timeouts } }
    func floodCounts() -> [String: Int64] { state.withLock { $0.floods } }
}
