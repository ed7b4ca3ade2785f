// What operators watch besides bandwidth: errors by status code and open connections by protocol. Updated from
// every loop thread, read by `/metrics`. (Whether the storage is failing is the store's own `StorageHealth`.)

import Storage
import Synchronization

/// Thread-safe operational counters and gauges.
package final class OperationalCounters: Sendable {
    private struct State {
        var errors: [ErrorKey: Int64] = [:]
        var openConnections: [String: Int] = [:]
        var watchDelivery = LatencyHistogram.batchBuckets()
    }

    /// An error's transport (`http`, `grpc`) and code (`404`, `UNAVAILABLE`).
    struct ErrorKey: Hashable, Comparable {
        /// `http` or `grpc`.
        package var transport: String
        /// The HTTP status (`404`) or the gRPC status name (`UNAVAILABLE`).
        package var code: String

        /// By transport, then code: the order `/metrics` lists them in.
        package static func < (lhs: ErrorKey, rhs: ErrorKey) -> Bool {
            (lhs.transport, lhs.code) < (rhs.transport, rhs.code)
        }
    }

    private let state = Mutex(State())

    /// Counters at zero.
    package init() {}

    /// Counts a response with an error status.
    package func error(transport: String, code: String) {
        state.withLock { $0.errors[ErrorKey(transport: transport, code: code), default: 0] += 1 }
    }

    /// A connection was identified as `protocolName` (its first request or stream).
    package func connectionOpened(_ protocolName: String) {
        state.withLock { $0.openConnections[protocolName, default: 0] += 1 }
    }

    /// A connection counted by `connectionOpened` closed.
    package func connectionClosed(_ protocolName: String) {
        state.withLock { $0.openConnections[protocolName, default: 0] -= 1 }
    }

    /// A live batch reached a watcher's stream `milliseconds` after its COMMIT.
    package func watchDelivered(afterMs milliseconds: Double) {
        state.withLock { $0.watchDelivery.record(milliseconds) }
    }

    func errorCounts() -> [ErrorKey: Int64] { state.withLock { $0.errors } }
    func watchDeliveryLatency() -> LatencyHistogram { state.withLock { $0.watchDelivery } }
    func openConnectionCounts() -> [String: Int] { state.withLock { $0.openConnections } }
}
