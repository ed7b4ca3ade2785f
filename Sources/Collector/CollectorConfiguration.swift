import CollectorService
import HTTP1
import HTTP2
import Storage
import Telemetry

/// Everything an operator can set on a collector, with the defaults `collector serve` uses.
public struct CollectorConfiguration: Sendable {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free port).
    public var listen = "127.0.0.1:8080"
    /// The database file the store was opened on (for the log; the caller opens the store).
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
    /// An HTTP/1.1 request whose body is not complete this long after its head gets 408 and is closed (a body
    /// trickled byte by byte).
    public var requestTimeoutMs: Int64 = 30_000
    /// An HTTP/2 request stream the client is still sending on (no END_STREAM yet) that carries no byte for this
    /// long is answered (gRPC UNAVAILABLE, HTTP 408) and reset. Devices hold an Upload open between batches sent
    /// 10–60 s apart, so the default is the connection idle timeout: 5× the slowest usual batch interval.
    public var streamIdleTimeoutMs: Int64 = 300_000
    /// A Watch stream's bounds (WatchServerStream.swift): live batches queued for it, response bytes it may leave
    /// waiting in the HTTP/2 session.
    public var watchLimits = WatchLimits()
    /// Which other origins' pages may call the collector from a browser (`--cors-origin`; default none).
    public var cors = CORSPolicy()
    /// A connection whose output waits this long without the client reading a byte is closed (a client that
    /// never reads its responses).
    public var writeTimeoutMs: Int64 = 30_000
    /// Open connections at once, all protocols; more are closed as soon as they are accepted. Capped at start-up
    /// by the open-file limit (RLIMIT_NOFILE) minus descriptors kept for the database and the loops.
    public var maxConnections = 16_384
    /// Open connections from one IP address (a single host cannot take every slot). Raise it when many devices
    /// share an address: behind a carrier NAT, or a proxy on the same host.
    public var maxConnectionsPerAddress = 1024
    /// Bytes of incomplete requests (HTTP/1.1 bodies, HTTP/2 REST bodies, gRPC messages split across reads) held
    /// in memory across all connections; past it new partial requests are refused with 503 / UNAVAILABLE.
    public var maxBufferedRequestBytes = 128 << 20
    /// How often bandwidth counters are persisted (at most this much is lost on a crash).
    public var counterFlushMs: Int64 = 2_000
    /// How long shutdown waits for in-flight requests and streams before closing connections.
    public var shutdownGraceMs: Int64 = 10_000
    /// HTTP/2 limits and windows.
    public var http2 = HTTP2Settings()
    /// TLS on the same port (a ClientHello as first byte); nil: plaintext only.
    public var tls: CollectorTLSSettings?
    /// With TLS on, whether plaintext connections are still served.
    public var plaintext = PlaintextPolicy.allow
    /// Who may write and read: off here (in-process tests), on by default in `collector serve`.
    public var authentication = AuthenticationSettings.off

    /// The defaults `collector serve` uses (authentication off here: `serve` turns it on).
    public init() {}

    /// Decode limits for gRPC messages and REST bodies.
    var decodeLimits: DecodeLimits { DecodeLimits(maxMessageBytes: maxMessageBytes) }

    /// Partially received HTTP/2 requests one connection may hold across its streams: one message of the largest
    /// size allowed (RESOURCE_EXHAUSTED / 413 beyond it).
    var maxBufferedBytesPerConnection: Int { max(maxMessageBytes, maxBodyBytes) }

    /// HTTP/1.1 parser limits.
    var httpLimits: HTTPLimits {
        var limits = HTTPLimits.standard
        limits.maxBodyBytes = maxBodyBytes
        return limits
    }
}
