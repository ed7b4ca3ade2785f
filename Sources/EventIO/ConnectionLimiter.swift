// Connection limits, checked when a socket is accepted and before anything is allocated for it.
//
// Rule: at most `maxConnections` connections are open at once, and at most `maxConnectionsPerAddress` of them from
// one peer IP (the port is ignored). A socket over either limit is closed right after accept(2): no handler, no epoll
// registration, no cross-thread hand-off, so a flood of connections costs one accept and one close each. Refusals are
// counted per limit. An admitted connection holds its slot until it closes (whatever the reason), when the
// connection gives it back: the counts are exact, not estimates.
// Memory: one dictionary entry per distinct peer IP with an open connection, so at most `maxConnections` entries.
// Threads: the acceptor admits on the listener's loop; connections release on their own loops; one mutex, held for a
// dictionary update.

import Synchronization

/// The two connection limits a listener enforces.
public struct ConnectionLimits: Sendable, Equatable {
    /// Open connections across the listener (all loops).
    public var maxConnections: Int
    /// Open connections from one peer IP address.
    public var maxConnectionsPerAddress: Int

    /// Memberwise; the limits are taken as given.
    public init(maxConnections: Int, maxConnectionsPerAddress: Int) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }
}

/// Which limit refused a connection.
public enum ConnectionRefusal: Sendable, Hashable {
    /// `maxConnections` connections were open.
    case totalLimit
    /// `maxConnectionsPerAddress` connections from the same IP were open.
    case addressLimit
}

/// The open-connection counts behind the limits, as a value: admit or refuse, release. No locking, no sockets.
struct ConnectionAdmissionCounts {
    let limits: ConnectionLimits
    private(set) var openCount = 0
    private(set) var perAddress: [SocketAddress.IP: Int] = [:]

    init(limits: ConnectionLimits) { self.limits = limits }

    /// Takes a slot for a connection from `ip`, or says which limit is in the way.
    mutating func admit(_ ip: SocketAddress.IP) -> ConnectionRefusal? {
        guard openCount < limits.maxConnections else { return .totalLimit }
        let fromAddress = perAddress[ip, default: 0]
        guard fromAddress < limits.maxConnectionsPerAddress else { return .addressLimit }
        perAddress[ip] = fromAddress + 1
        openCount += 1
        return nil
    }

    /// Gives back the slot of a connection from `ip` that closed.
    mutating func release(_ ip: SocketAddress.IP) {
        guard let fromAddress = perAddress[ip] else { return }
        if fromAddress <= 1 { perAddress.removeValue(forKey: ip) } else { perAddress[ip] = fromAddress - 1 }
        openCount -= 1
    }
}

/// What a limiter has seen, for metrics and logs.
public struct ConnectionLimiterSnapshot: Sendable, Equatable {
    /// Connections admitted and not yet closed.
    public var openConnections: Int
    /// Distinct peer addresses with an open connection.
    public var addresses: Int
    /// Connections refused because the total limit was reached.
    public var refusedOverTotal: UInt64
    /// Connections refused because their address had reached its limit.
    public var refusedOverAddress: UInt64
    /// The peer of the latest refusal (for a log line), if any.
    public var lastRefusedPeer: SocketAddress?
}

/// Enforces `ConnectionLimits` for a `TCPListener`; see the file header.
public final class ConnectionLimiter: Sendable {
    /// The limits in force.
    public let limits: ConnectionLimits
    private struct State {
        var counts: ConnectionAdmissionCounts
        var refusedOverTotal: UInt64 = 0
        var refusedOverAddress: UInt64 = 0
        var lastRefusedPeer: SocketAddress?
    }
    private let state: Mutex<State>

    /// A limiter with nothing open; one per listener, shared by all the loops its connections run on.
    public init(limits: ConnectionLimits) {
        self.limits = limits
        state = Mutex(State(counts: ConnectionAdmissionCounts(limits: limits)))
    }

    /// Takes a slot for `peer` (nil: an address the kernel did not report, counted under one shared key), or counts
    /// the refusal and says why.
    func admit(_ peer: SocketAddress?) -> ConnectionRefusal? {
        let ip = peer?.ip ?? Self.unknownPeer
        return state.withLock { state in
            guard let refusal = state.counts.admit(ip) else { return nil }
            switch refusal {
            case .totalLimit: state.refusedOverTotal += 1
            case .addressLimit: state.refusedOverAddress += 1
            }
            state.lastRefusedPeer = peer
            return refusal
        }
    }

    /// Gives back an admitted connection's slot.
    func release(_ ip: SocketAddress.IP) {
        state.withLock { $0.counts.release(ip) }
    }

    /// The counts right now.
    public func snapshot() -> ConnectionLimiterSnapshot {
        state.withLock { state in
            ConnectionLimiterSnapshot(openConnections: state.counts.openCount, addresses: state.counts.perAddress.count,
                                      refusedOverTotal: state.refusedOverTotal,
                                      refusedOverAddress: state.refusedOverAddress,
                                      lastRefusedPeer: state.lastRefusedPeer)
        }
    }

    /// The key for peers whose address accept(2) did not report (not expected for TCP).
    static let unknownPeer = SocketAddress.IP.v6(high: 0, low: 0, scopeID: UInt32.max)
}

/// An admitted connection's claim on its limiter: given back exactly once, when the connection closes.
struct ConnectionAdmission {
    let limiter: ConnectionLimiter
    let ip: SocketAddress.IP

    /// Gives the slot back.
    func release() { limiter.release(ip) }
}
