// Why a connection ended: the last thing its handler hears.

/// Why a connection closed, delivered exactly once in `ConnectionHandler.connection(_:didCloseWith:)`.
public enum CloseReason: Sendable, Hashable, CustomStringConvertible {
    /// This side ended it (`close()`, `closeLingering()`, `shutdownOutput()` after the peer's EOF did not come
    /// first) before the peer's EOF arrived.
    case local
    /// The peer's EOF arrived first; this side then finished and closed.
    case peerClosed
    /// An outbound connect failed: ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EADDRNOTAVAIL and so on.
    case connectFailed(SystemError)
    /// A read, write or socket option failed on an established connection: ECONNRESET, EPIPE, ETIMEDOUT ...
    case failed(SystemError)
    /// The handler left `Connection.maxUnconsumedByteCount` bytes unconsumed, so the shared read buffer had no
    /// room to read more; a handler that needs more context must copy it out and consume it.
    case unconsumedInputLimit
    /// The connection's loop shut down while it was open.
    case loopStopped
    /// Output waited longer than `Connection.writeTimeout` without the peer taking a byte (it stopped reading).
    case writeTimedOut

    /// A short phrase for logs: `"peer closed"`, `"failed: read: Connection reset by peer (errno 104)"`.
    public var description: String {
        switch self {
        case .local: "closed locally"
        case .peerClosed: "peer closed"
        case .connectFailed(let error): "connect failed: \(error)"
        case .failed(let error): "failed: \(error)"
        case .unconsumedInputLimit: "unconsumed input limit"
        case .loopStopped: "loop stopped"
        case .writeTimedOut: "write timed out"
        }
    }
}
