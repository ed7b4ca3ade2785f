import HTTP1
import HTTP2
import Store
import Telemetry

/// Everything an operator can set on a collector, with the defaults `collector serve` uses.
public struct CollectorConfiguration: Sendable {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free port).
    public var listen = "127.0.0.1:8080"
    /// The SQLite database file.
    public var databasePath = "data/telemetry.db"
    /// Event loop threads; connections are spread across them.
    public var loops = System.coreCount
    /// Largest gRPC message or REST body accepted (gRPC default 4 MiB).
    public var maxMessageBytes = 4 << 20
    /// Largest REST request body (HTTP 413 beyond it).
    public var maxBodyBytes = 1 << 20
    /// A client that has not sent a complete HTTP/1.1 header block this long after connecting or starting a
    /// request gets 408 and is closed (slowloris).
    public var headerTimeoutMs: Int64 = 10_000
    /// Connections with no traffic for this long are closed (HTTP/2: with GOAWAY first).
    public var idleTimeoutMs: Int64 = 300_000
    /// How often bandwidth counters are persisted (at most this much is lost on a crash).
    public var counterFlushMs: Int64 = 2_000
    /// How long shutdown waits for in-flight requests and streams before closing connections.
    public var shutdownGraceMs: Int64 = 10_000
    /// HTTP/2 limits and windows.
    public var http2 = HTTP2Settings()
    /// The store's queue bounds, commit window and durability.
    public var store = StoreConfiguration()
    /// Who may write and read: off here (in-process tests), on by default in `collector serve`.
    public var authentication = AuthenticationSettings.off

    public init() {}

    /// Decode limits for gRPC messages and REST bodies.
    var decodeLimits: DecodeLimits { DecodeLimits(maxMessageBytes: maxMessageBytes) }

    /// HTTP/1.1 parser limits.
    var httpLimits: HTTPLimits {
        var limits = HTTPLimits.standard
        limits.maxBodyBytes = maxBodyBytes
        return limits
    }
}
