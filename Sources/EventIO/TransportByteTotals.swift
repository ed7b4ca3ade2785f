// The reference byte totals: what the transports themselves moved (read(2) and send(2) results for sockets),
// summed over every connection of a listener. Bandwidth attribution is checked against these, so they come from
// the transport, never from the handlers whose attribution they check.

import Synchronization

/// Bytes in and out across all connections that report here; safe to read from any thread.
public final class TransportByteTotals: Sendable {
    private let read = Atomic<Int64>(0)
    private let written = Atomic<Int64>(0)

    /// Totals at zero; a listener passes the same instance to every connection it accepts.
    public init() {}

    /// Bytes read so far.
    public var bytesRead: Int64 { read.load(ordering: .relaxed) }
    /// Bytes written so far.
    public var bytesWritten: Int64 { written.load(ordering: .relaxed) }

    /// A transport read `count` bytes.
    public func didRead(_ count: Int) { read.wrappingAdd(Int64(count), ordering: .relaxed) }
    /// A transport wrote `count` bytes.
    public func didWrite(_ count: Int) { written.wrappingAdd(Int64(count), ordering: .relaxed) }
}
