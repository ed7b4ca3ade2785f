// The PostgreSQL backend's settings, with the bounds every value is clamped to before use.
//
// Rule: the store only ever runs with `normalized` settings, so a zero, negative or absurd value from a flag or a
// test cannot stall the writer (a 0 ms commit window), starve it (no read thread) or flood the server.

import Foundation

/// How a `PostgresTelemetryStore` queues, group-commits, reads and reconnects.
public struct PostgresStoreConfiguration: Equatable, Sendable {
    /// The name this collector writes into `batches.collector` and its own `bandwidth` rows (default: the host
    /// name), so that several collectors can share one database.
    public var collectorName: String
    /// Most batches waiting for the writer; more are refused with `.overloaded`.
    public var maxQueuedBatches = 10_000
    /// Most readings waiting for the writer; more are refused with `.overloaded`.
    public var maxQueuedReadings = 1_000_000
    /// A transaction takes no more requests once it holds this many readings.
    public var maxTransactionReadings = 50_000
    /// The commit window: a transaction takes no more requests once this many ms passed since it began (1...50).
    public var maxTransactionMs = 20
    /// Idle read connections kept open.
    public var readConnections = 2
    /// Threads running reads (`performRead`).
    public var readThreads = 2
    /// Most reads waiting for a read thread; more are refused with `.readsOverloaded`.
    public var maxQueuedReads = 1024
    /// The size of a `bandwidth_history` bucket, ms.
    public var historyBucketMs: Int64 = 10_000
    /// `statement_timeout` of every session of the store, ms (its lock timeout is a little shorter).
    public var statementTimeoutMs = 10_000
    /// How long a connection attempt may take, s.
    public var connectTimeoutSeconds = 5
    /// The writer's first wait before reconnecting to a lost server, ms; doubled after each failed attempt.
    public var reconnectInitialMs = 100
    /// The longest wait between two reconnect attempts, ms.
    public var reconnectMaxMs = 5_000
    /// A series is compacted once it has had no write for this long, ms.
    public var compactionIdleMs: Int64 = 60_000

    /// The defaults, with `collectorName` the host name.
    public init(collectorName: String = PostgresStoreConfiguration.defaultCollectorName) {
        self.collectorName = collectorName
    }

    /// The host name, or `collector` when it cannot be read.
    public static var defaultCollectorName: String {
        let name = ProcessInfo.processInfo.hostName
        return name.isEmpty ? "collector" : name
    }

    /// A copy with every value within its usable bounds.
    public var normalized: PostgresStoreConfiguration {
        var copy = self
        if copy.collectorName.isEmpty { copy.collectorName = Self.defaultCollectorName }
        copy.maxQueuedBatches = max(1, maxQueuedBatches)
        copy.maxQueuedReadings = max(1, maxQueuedReadings)
        copy.maxTransactionReadings = max(1, maxTransactionReadings)
        copy.maxTransactionMs = min(max(1, maxTransactionMs), 50)
        copy.readConnections = max(0, readConnections)
        copy.readThreads = max(1, readThreads)
        copy.maxQueuedReads = max(1, maxQueuedReads)
        copy.historyBucketMs = max(1, historyBucketMs)
        copy.statementTimeoutMs = max(100, statementTimeoutMs)
        copy.connectTimeoutSeconds = max(2, connectTimeoutSeconds)
        copy.reconnectInitialMs = max(1, reconnectInitialMs)
        copy.reconnectMaxMs = max(copy.reconnectInitialMs, reconnectMaxMs)
        copy.compactionIdleMs = max(0, compactionIdleMs)
        return copy
    }
}
